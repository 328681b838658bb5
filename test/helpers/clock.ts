import type { Clock } from '../../src/runtime/clock.js';
import { systemClock } from '../../src/runtime/clock.js';

/** A clock reading `now()` (a fixed or shifted time) that waits in real time. */
export function clockAt(now: () => number): Clock {
  return { now, sleep: systemClock.sleep };
}

/**
 * A simulated clock: sleep() moves the time on at once (after letting pending I/O run), so a
 * scheduler can run many periods with no real waiting.
 */
export class SimClock implements Clock {
  constructor(public time: number) {}
  now(): number {
    return this.time;
  }
  async sleep(ms: number, signal?: AbortSignal): Promise<boolean> {
    await new Promise((r) => setImmediate(r));
    if (signal?.aborted) return false;
    this.time += ms;
    return true;
  }
}
