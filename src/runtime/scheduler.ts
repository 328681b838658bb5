import { describeError } from '../errors.js';
import type { ServiceWorker } from '../services/service.js';
import { WorkerHealth } from '../telemetry/health.js';
import type { Logger } from '../telemetry/logger.js';
import type { Metrics } from '../telemetry/metrics.js';
import { backoffDelay, type BackoffOptions } from './backoff.js';
import { systemClock, type Clock } from './clock.js';

export interface WorkerSchedule {
  periodMs: number;
  /** Retries of a failed pull before waiting for the next period (pull_retries). */
  retries: number;
  backoff: BackoffOptions;
}

/**
 * Runs one worker until `signal` aborts: a pull every period (counted from the start of the
 * previous pull); a failed pull is retried with exponential backoff and jitter, then given up
 * until the next period. A worker's failure never touches the other workers.
 */
export async function runWorker(
  worker: ServiceWorker,
  schedule: WorkerSchedule,
  signal: AbortSignal,
  logger: Logger,
  metrics: Metrics,
  labels: { service: string; region: string },
  clock: Clock = systemClock,
  health = new WorkerHealth({ ...labels, task: worker.name }, schedule.periodMs, () => clock.now()),
): Promise<void> {
  health.start();
  while (!signal.aborted) {
    const started = clock.now();
    const timer = metrics.pullDuration.startTimer(health.labels);
    health.pullStarted();
    let failure: string | undefined;
    let succeeded = false;
    for (let attempt = 0; !signal.aborted; attempt++) {
      try {
        await worker.pull();
        succeeded = true;
        break;
      } catch (err) {
        if (signal.aborted) break;
        const code = (err as { code?: unknown }).code;
        failure = typeof code === 'string' ? code : 'PULL_FAILED';
        metrics.errors.inc({ ...labels, code: failure });
        if (attempt >= schedule.retries) {
          logger.error(
            { worker: worker.name, err, attempts: attempt + 1 },
            `pull failed, next try in the next period: ${describeError(err)}`,
          );
          break;
        }
        const delay = backoffDelay(attempt, schedule.backoff);
        logger.warn(
          { worker: worker.name, err, attempt: attempt + 1, retryInMs: delay },
          `pull failed, retrying: ${describeError(err)}`,
        );
        await clock.sleep(delay, signal);
      }
    }
    // A pull cut short by shutdown is no success.
    health.pullFinished(succeeded ? undefined : (failure ?? 'SHUTTING_DOWN'));
    timer({ outcome: succeeded ? 'success' : 'failure' });
    await clock.sleep(Math.max(0, schedule.periodMs - (clock.now() - started)), signal);
  }
}
