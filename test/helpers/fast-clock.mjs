// Test-only preload for a CLI child process (`node --import ./test/helpers/fast-clock.mjs`), so an
// end-to-end test can let minutes of the collector's time pass in seconds without any test hook in
// the product. DAC_TEST_CLOCK="origin,epoch,speed": the child's time is origin + (real time −
// epoch) × speed (epoch ms), and its timers fire speed times sooner. Never loaded by src/.
import process from 'node:process';

const [origin, epoch, speed] = (process.env.DAC_TEST_CLOCK ?? '').split(',').map(Number);
if (![origin, epoch, speed].every(Number.isFinite) || !(speed >= 1))
  throw new Error(
    `fast-clock: DAC_TEST_CLOCK must be "origin,epoch,speed", got ${process.env.DAC_TEST_CLOCK}`,
  );

const RealDate = Date;
const realNow = Date.now;
const now = () => Math.floor(origin + (realNow() - epoch) * speed);

class FastDate extends RealDate {
  constructor(...args) {
    if (args.length === 0) super(now());
    else super(...args);
  }
  static now() {
    return now();
  }
}
globalThis.Date = FastDate;

const realSetTimeout = globalThis.setTimeout;
const realSetInterval = globalThis.setInterval;
globalThis.setTimeout = (fn, ms, ...args) => realSetTimeout(fn, (Number(ms) || 0) / speed, ...args);
globalThis.setInterval = (fn, ms, ...args) => realSetInterval(fn, (Number(ms) || 0) / speed, ...args);
