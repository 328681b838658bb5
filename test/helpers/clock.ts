import type { Clock } from '../../src/runtime/clock.js';
import { systemClock } from '../../src/runtime/clock.js';
import { runWorker } from '../../src/runtime/scheduler.js';
import type { ServiceWorker } from '../../src/services/service.js';
import { silentLogger } from '../../src/telemetry/logger.js';
import type { Metrics } from '../../src/telemetry/metrics.js';

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
