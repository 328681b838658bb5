import type { z } from 'zod';
import type { AwsClients } from '../aws/clients.js';
import type { Batch } from '../runtime/batch.js';
import type { Clock } from '../runtime/clock.js';
import type { Delivery } from '../runtime/delivery.js';
import type { StateStore } from '../state/store.js';
import type { WorkerPosition } from '../telemetry/health.js';
import type { Logger } from '../telemetry/logger.js';
import type { Metrics } from '../telemetry/metrics.js';

/** What a worker (one service × region) gets from the runtime. */
export interface WorkerContext {
  /** The input's `id` (inputs.aws.id). */
  readonly inputId: string;
  /** The service's key in `inputs.aws.services` (e.g. `service-events-all`, `cwl_1`). */
  readonly serviceName: string;
  readonly region: string;
  readonly aws: AwsClients;
  readonly state: StateStore;
  readonly logger: Logger;
  readonly metrics: Metrics;
  /** inputs.aws.ack_messages: when false, SQS messages are never deleted (dry runs). */
  readonly ackMessages: boolean;
  /** Time, injected so windows and settle delays are tested on a simulated clock. */
  readonly clock: Clock;
  /** Aborted when the collector shuts down: stop pulling, return promptly. */
  readonly signal: AbortSignal;
  /**
   * Hands a batch to delivery. Resolves once the batch is admitted into the in-flight window
   * (this is the backpressure: it waits while the window is full); the batch's ack()/release()
   * are called later, when every output accepted it or delivery gave it up. Rejects with
   * SHUTTING_DOWN when the collector stops before admitting it (the batch is then released).
   */
  deliver(batch: Batch): Promise<void>;
}

/** What the workers of one collector share: a WorkerContext without its service, region and hook. */
export type SharedWorkerContext = Omit<WorkerContext, 'serviceName' | 'region' | 'deliver'> & {
  readonly delivery: Delivery;
};

/** The context of the worker of `serviceName` in `region`, handing its batches to `shared.delivery`. */
export function workerContext(
  shared: SharedWorkerContext,
  serviceName: string,
  region: string,
): WorkerContext {
  const { delivery, ...rest } = shared;
  return {
    ...rest,
    // Bound once here, so a worker's own log fields never repeat them.
    logger: shared.logger.child({ service: serviceName, region }),
    serviceName,
    region,
    deliver: (batch) => delivery.admit(batch, { service: serviceName, region }),
  };
}

/** One service × region. The runtime calls pull() every request_period_in_seconds. */
export interface ServiceWorker {
  /** Short name for logs, e.g. `cwl_1/eu-west-1` or `audit-events-all:audits_api/us-east-1`. */
  readonly name: string;
  /**
   * One pull cycle. Throws on failure: the runtime retries it pull_retries times with backoff
   * and jitter, then waits for the next period. Must return promptly once ctx.signal aborts.
   */
  pull(): Promise<void>;
  /** After the last pull returned, at shutdown: release what is held (e.g. SQS messages). Safe twice. */
  stop(): Promise<void>;
  /** How far behind the worker is (read when /metrics or /status is asked); {} when it does not know. */
  position?(): WorkerPosition;
}

/**
 * A kind of service. `schema` validates its block of `inputs.aws.services`; `createWorkers`
 * builds the workers for one region (e.g. audit-events-all with both types gives two).
 */
export interface ServiceDefinition<S extends z.ZodType = z.ZodType> {
  readonly schema: S;
  createWorkers(config: z.output<S>, ctx: WorkerContext): ServiceWorker[];
}
