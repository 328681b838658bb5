import { sleep } from './backoff.js';

/**
 * Time as a dependency: workers and the scheduler read the time and wait through a Clock, so
 * windows, settle delays and periods can be tested on a simulated clock without real waiting.
 */
export interface Clock {
  /** Epoch ms. */
  now(): number;
  /** Resolves after `ms` of this clock's time, or early when `signal` aborts. Returns false if aborted. */
  sleep(ms: number, signal?: AbortSignal): Promise<boolean>;
}

export const systemClock: Clock = { now: () => Date.now(), sleep };
