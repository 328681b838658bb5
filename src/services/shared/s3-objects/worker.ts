import { shuttingDownError } from '../../../core/errors.js';
import { batchBytes, settleOnce } from '../../../core/batch.js';
import type { ServiceWorker, WorkerContext } from '../../definition.js';
import { SqsWorker } from '../sqs/worker.js';
import { Admission } from '../../../core/admission.js';
import type { ObjectFormat } from './formats.js';
import { createS3ObjectHandler } from './handler.js';
import type { BatchLimits } from './object-reader.js';

/**
 * Per emitted batch: large enough that per-batch costs (delivery bookkeeping, one output write)
 * vanish, small enough that a batch stays a couple of MB.
 */
export const DEFAULT_BATCH_LIMITS: BatchLimits = { maxEvents: 5_000, maxBytes: 2 * 1024 * 1024 };

export interface S3ObjectsWorkerOptions {
  /** e.g. `non-cloudwatch-logs:vpcflowlogs/eu-west-1`. */
  name: string;
  queueName: string;
  receivers: number;
  visibilityTimeoutSeconds: number;
  /** max_receive_count (see SqsConsumerOptions). */
  maxReceiveCount: number;
  /** Objects read at once. */
  maxObjectsInFlight: number;
  /** Event bytes (message + tag) handed to delivery and not yet acknowledged, at most. */
  maxBytesInFlight: number;
  /** Builds the format at the first pull (a tag with {account_id} needs an STS call). */
  format: () => Promise<ObjectFormat>;
  limits?: BatchLimits;
  stallTimeoutMs?: number;
  /** SQS long-poll wait (default 20 s). */
  waitTimeSeconds?: number;
}

/** The fields of sqsFields and s3ObjectFields a worker reads (every S3 service's schema has them). */
export interface S3ObjectsQueueConfig {
  readonly concurrent_receivers: number;
  readonly visibility_timeout_seconds: number;
  readonly max_receive_count: number;
  readonly max_objects_in_flight: number;
  readonly max_bytes_in_flight: number;
}

/** A service's queue options, as S3ObjectsWorkerOptions. */
export function queueOptions(
  config: S3ObjectsQueueConfig,
): Pick<
  S3ObjectsWorkerOptions,
  'receivers' | 'visibilityTimeoutSeconds' | 'maxReceiveCount' | 'maxObjectsInFlight' | 'maxBytesInFlight'
> {
  return {
    receivers: config.concurrent_receivers,
    visibilityTimeoutSeconds: config.visibility_timeout_seconds,
    maxReceiveCount: config.max_receive_count,
    maxObjectsInFlight: config.max_objects_in_flight,
    maxBytesInFlight: config.max_bytes_in_flight,
  };
}

/** Settings not in the configuration, for tests and benchmarks. */
export type S3ObjectsTuning = Pick<S3ObjectsWorkerOptions, 'limits' | 'stallTimeoutMs' | 'waitTimeSeconds'>;

/**
 * One queue of S3 object notifications in one region: the shared SQS worker with the S3 object
 * handler. Its memory is bounded whatever the objects' sizes: at most maxObjectsInFlight objects
 * are read at once, each holding about one batch plus stream buffers, and at most
 * maxBytesInFlight of its events wait for the outputs (a full budget pauses the reads, down to
 * the S3 connections). The collector-wide delivery window (globals.max_in_flight_*) still applies.
 */
export function s3ObjectsWorker(ctx: WorkerContext, options: S3ObjectsWorkerOptions): ServiceWorker {
  const consumerOptions = {
    queueName: options.queueName,
    receivers: options.receivers,
    visibilityTimeoutSeconds: options.visibilityTimeoutSeconds,
    maxReceiveCount: options.maxReceiveCount,
    ...(options.waitTimeSeconds === undefined ? {} : { waitTimeSeconds: options.waitTimeSeconds }),
  };
  return new SqsWorker(options.name, ctx, consumerOptions, async () => {
    const format = await options.format();
    const budgetedCtx = { ...ctx, deliver: budgeted(ctx, new Admission([options.maxBytesInFlight])) };
    const handler = createS3ObjectHandler({
      ctx: budgetedCtx,
      format,
      objects: new Admission([options.maxObjectsInFlight]),
      limits: options.limits ?? DEFAULT_BATCH_LIMITS,
      ...(options.stallTimeoutMs === undefined ? {} : { stallTimeoutMs: options.stallTimeoutMs }),
    });
    return { handler, ctx: budgetedCtx };
  });
}

/**
 * ctx.deliver within a byte budget: waits until the batch's bytes fit, and gives them back when
 * every output accepted the batch (its events are freed; confirmation may take longer), or when
 * delivery releases it.
 */
function budgeted(ctx: WorkerContext, budget: Admission): WorkerContext['deliver'] {
  return async (batch) => {
    let give: () => void;
    try {
      give = await budget.acquire([batchBytes(batch.events)], ctx.signal);
    } catch (cause) {
      const err = shuttingDownError(cause);
      await batch.release(err);
      throw err;
    }
    const tracked = settleOnce(batch.events, batch.source, {
      accepted: () => {
        give();
        batch.accepted?.();
      },
      ack: () => batch.ack(),
      release: (reason) => {
        give();
        return batch.release(reason);
      },
    });
    await ctx.deliver(tracked);
  };
}
