import { shuttingDownError } from '../../errors.js';
import { batchBytes, type Batch } from '../../runtime/batch.js';
import type { WorkerPosition } from '../../telemetry/health.js';
import type { ServiceWorker, WorkerContext } from '../service.js';
import { SqsConsumer } from '../sqs/consumer.js';
import { Budget } from './budget.js';
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

/** Settings not in the configuration, for tests and benchmarks. */
export type S3ObjectsTuning = Pick<S3ObjectsWorkerOptions, 'limits' | 'stallTimeoutMs' | 'waitTimeSeconds'>;

/**
 * One queue of S3 object notifications in one region: the shared SQS consumer with the S3 object
 * handler. Its memory is bounded whatever the objects' sizes: at most maxObjectsInFlight objects
 * are read at once, each holding about one batch plus stream buffers, and at most
 * maxBytesInFlight of its events wait for the outputs (a full budget pauses the reads, down to
 * the S3 connections). The collector-wide delivery window (globals.max_in_flight_*) still applies.
 */
export class S3ObjectsWorker implements ServiceWorker {
  readonly name: string;
  private consumer: SqsConsumer | undefined;
  private starting: Promise<SqsConsumer> | undefined;
  private stopped = false;

  constructor(
    private readonly ctx: WorkerContext,
    private readonly options: S3ObjectsWorkerOptions,
  ) {
    this.name = options.name;
  }

  async pull(): Promise<void> {
    if (this.stopped) return;
    const consumer = this.consumer ?? (await this.start());
    if (this.stopped) return;
    await consumer.pull();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.consumer?.stop();
  }

  position(): WorkerPosition {
    return this.consumer?.position() ?? {};
  }

  private start(): Promise<SqsConsumer> {
    this.starting ??= this.options
      .format()
      .then((format) => {
        const { options } = this;
        const ctx = { ...this.ctx, deliver: budgeted(this.ctx, new Budget(options.maxBytesInFlight)) };
        const handler = createS3ObjectHandler({
          ctx,
          format,
          objects: new Budget(options.maxObjectsInFlight),
          limits: options.limits ?? DEFAULT_BATCH_LIMITS,
          ...(options.stallTimeoutMs === undefined ? {} : { stallTimeoutMs: options.stallTimeoutMs }),
        });
        this.consumer = new SqsConsumer(
          ctx,
          {
            queueName: options.queueName,
            receivers: options.receivers,
            visibilityTimeoutSeconds: options.visibilityTimeoutSeconds,
            ...(options.waitTimeSeconds === undefined ? {} : { waitTimeSeconds: options.waitTimeSeconds }),
          },
          handler,
        );
        return this.consumer;
      })
      .finally(() => {
        // A failed start (e.g. STS down) is tried again at the next pull.
        this.starting = undefined;
      });
    return this.starting;
  }
}

/**
 * ctx.deliver within a byte budget: waits until the batch's bytes fit, and gives them back when
 * every output accepted the batch (its events are freed; confirmation may take longer), or when
 * delivery releases it.
 */
function budgeted(ctx: WorkerContext, budget: Budget): WorkerContext['deliver'] {
  return async (batch) => {
    let give: () => void;
    try {
      give = await budget.acquire(batchBytes(batch.events), ctx.signal);
    } catch (cause) {
      const err = shuttingDownError(cause);
      await batch.release(err);
      throw err;
    }
    const { accepted, ack, release } = batch;
    const tracked: Batch = {
      events: batch.events,
      source: batch.source,
      accepted: () => {
        give();
        accepted?.();
      },
      ack,
      release: (reason) => {
        give();
        return release(reason);
      },
    };
    await ctx.deliver(tracked);
  };
}
