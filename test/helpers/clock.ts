import type { Clock } from '../../src/core/clock.js';
import { systemClock } from '../../src/core/clock.js';
import { runWorker } from '../../src/runtime/scheduler.js';
import type { ServiceWorker } from '../../src/services/definition.js';
import { silentLogger } from '../../src/telemetry/logger.js';
import type { Metrics } from '../../src/telemetry/metrics.js';

/** A clock reading `now()` (a fixed or shifted time) that waits in real time. */
export function clockAt(now: () => number): Clock {
  return { now, sleep: systemClock.sleep };
}

/**
 * A simulated clock: sleep() moves the time on at once (after letting pending I/O run), so a
 * scheduler can run many periods with no real waiting. With `settled`, it moves the time only
 * once that holds (e.g. no request on its way), so what is stamped with this clock elsewhere (the
 * fake's request log) is stamped before the time jumps.
 */
export class SimClock implements Clock {
  constructor(
    public time: number,
    private readonly settled: () => boolean = () => true,
  ) {}
  now(): number {
    return this.time;
  }
  async sleep(ms: number, signal?: AbortSignal): Promise<boolean> {
    await new Promise((r) => setImmediate(r));
    while (!this.settled() && !signal?.aborted) await new Promise((r) => setTimeout(r, 1));
    if (signal?.aborted) return false;
    this.time += ms;
    return true;
  }
}

/** Runs `worker` with the real scheduler every `periodMs` of `clock` until its time would pass `until`, then stops it. */
export async function runScheduled(
  worker: ServiceWorker,
  clock: SimClock,
  periodMs: number,
  until: number,
  metrics: Metrics,
): Promise<void> {
  const abort = new AbortController();
  const scheduler: Clock = {
    now: () => clock.now(),
    sleep: (ms, signal) => {
      if (clock.now() + ms > until) {
        abort.abort();
        return Promise.resolve(false);
      }
      return clock.sleep(ms, signal);
    },
  };
  await runWorker(
    worker,
    { periodMs, retries: 0, backoff: { baseMs: 1, maxMs: 1 } },
    abort.signal,
    silentLogger(),
    metrics,
    { service: 'test', region: 'test' },
    scheduler,
  );
  await worker.stop();
}
