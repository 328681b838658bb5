import type { z } from 'zod';
import type { QueueFeed } from '../aws/auto-setup-plan.js';
import type { AwsClients } from '../aws/clients.js';
import type { RateLimits } from '../aws/rate-limiter.js';
import type { Batch } from '../core/batch.js';
import type { Clock } from '../core/clock.js';
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
  /** The account of inputs.aws.accounts this worker reads (`aws` acts in it); undefined without accounts. */
  readonly account?: string | undefined;
  readonly aws: AwsClients;
  /** The collector's API rate limiters (per API, account and region). */
  readonly rateLimits: RateLimits;
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
  /**
   * Replicas sharing a Redis: the checks of each batch of the pull task whose checkpoint is at
   * `key` (see BatchChecks); each throws LEASE_LOST unless this replica still holds it. Absent alone.
   */
  readonly lease?: {
    guard(key: string): Promise<void>;
    fence(key: string): void;
  };
}

/** A pull worker's task (service × region, or a log group): what replicas lease (runtime/task-leases.ts). */
export interface PullTask {
  /**
   * The state key of its checkpoint, which names the task; a task of several checkpoints (a
   * CloudWatch Logs entry reading many groups) owns every key under it (`key/...`).
   */
  readonly key: string;
  /** Drops the position kept in memory: the next pull resumes from the saved checkpoint (another replica may have moved it). */
  forget(): void;
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
  /** Pull workers resuming from a checkpoint: their task, leased to one replica at a time. */
  readonly task?: PullTask;
}

/** An SQS queue a service reads in each of its regions, and what feeds it. */
export interface ServiceQueue {
  /** As configured: may hold `<account_id>`. */
  readonly queueName: string;
  readonly feed: QueueFeed;
  /** The service's max_receive_count: receives before SQS moves a message to the dead-letter queue; 0 = none. */
  readonly maxReceiveCount: number;
}

/** IAM actions a service calls on some resources, besides reading its queues (and their objects). */
export interface IamGrant {
  /** Statement id; grants of one Sid from several services are merged into one statement. */
  readonly sid: string;
  readonly actions: readonly string[];
  readonly resources: readonly string[];
}

/**
 * A kind of service, everything about it: `schema` validates its block of `inputs.aws.services`
 * (its descriptions are the docs); `queues` are what auto-setup creates and `iam-policy` grants
 * reading; `grants` its other API calls; `createWorkers` builds the workers for one region (e.g.
 * audit-events-all with both types gives two). Default tags and tag rules live in its folder.
 */
export interface ServiceDefinition<S extends z.ZodType = z.ZodType> {
  readonly schema: S;
  queues?(config: z.output<S>, inputId: string): ServiceQueue[];
  /** `account`: the account id in ARNs, or `*`. */
  grants?(config: z.output<S>, account: string): IamGrant[];
  createWorkers(config: z.output<S>, ctx: WorkerContext): ServiceWorker[];
}
