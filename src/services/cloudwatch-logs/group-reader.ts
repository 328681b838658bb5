import {
  FilterLogEventsCommand,
  type CloudWatchLogsClient,
  type FilteredLogEvent,
} from '@aws-sdk/client-cloudwatch-logs';
import { paceAttempts, retryThrottled, type RateLimiter } from '../../aws/rate-limiter.js';
import type { CollectorEvent } from '../../core/batch.js';
import type { CheckpointSequencer } from '../../core/checkpoints.js';
import { CollectorError, ErrorCodes } from '../../core/errors.js';
import { taskKey } from '../../state/store.js';
import type { WorkerPosition } from '../../telemetry/health.js';
import type { WorkerContext } from '../definition.js';
import {
  DeliveredBefore,
  TimeCursor,
  timeCheckpointSpec,
  type TimeCheckpoint,
} from '../shared/time-cursor.js';
import { WindowCursor } from '../shared/time-window.js';
import type { LogsConfig } from './schema.js';

/** One log group an entry reads. */
export interface LogGroupTarget {
  /** The group's name, or the configured ARN (log_group_identifier): its events' `logGroup`, its checkpoint key. */
  readonly label: string;
  /** How FilterLogEvents names it. */
  readonly param: { logGroupName: string } | { logGroupIdentifier: string };
  /** The config key that chose it, for errors. */
  readonly key: string;
  /** ISO time a first read starts from, when no checkpoint exists: start_time, or the creation of a group that appeared while running. */
  readonly startTime: string | undefined;
}

/**
 * Where a group's checkpoint lives: the one place the key is built (a single `log_group` entry
 * keeps the key it always had, so upgrades resume; with inputs.aws.accounts, the account's).
 */
export function groupStateKey(ctx: WorkerContext, label: string): string {
  return taskKey(ctx, label);
}

/** What one pull of a group holds between its pages. */
interface GroupPull {
  readonly from: number;
  /** FilterLogEvents' endTime is inclusive. */
  readonly end: number;
  readonly before: DeliveredBefore;
  readonly cursor: TimeCursor;
  readonly seq: CheckpointSequencer<TimeCheckpoint>;
  token: string | undefined;
}

/**
 * Reads one log group page by page, from its checkpoint to now − settle delay (the shared
 * WindowCursor). AWS returns the events of a query sorted by timestamp (FilterLogEvents API
 * reference), so each page is delivered as it comes, checkpointed at its last event's timestamp
 * plus the ids of the events at that timestamp. The worker decides whose page comes next.
 */
export class GroupReader {
  private readonly window: WindowCursor<TimeCheckpoint>;
  private pull: GroupPull | undefined;

  constructor(
    /** For logs: the worker's name, and the group's when the worker reads several. */
    readonly name: string,
    readonly target: LogGroupTarget,
    private readonly config: LogsConfig,
    private readonly ctx: WorkerContext,
    settleMs: number,
  ) {
    this.window = new WindowCursor(ctx, {
      ...timeCheckpointSpec,
      worker: this.name,
      key: groupStateKey(ctx, target.label),
      startTime: target.startTime,
      settleMs,
      alignMs: 1,
    });
  }

  /** True between begin() and finish(). */
  get reading(): boolean {
    return this.pull !== undefined;
  }

  /** Starts this pull's window; false when there is nothing to read yet. */
  async begin(): Promise<boolean> {
    const start = await this.window.resume();
    const end = this.window.end() - 1;
    if (start.from > end) return false;
    this.pull = {
      from: start.from,
      end,
      before: new DeliveredBefore(start),
      cursor: new TimeCursor(start),
      seq: this.window.sequencer(),
      token: undefined,
    };
    return true;
  }

  /** Reads and delivers the next page; true while more pages remain in this pull's window. */
  async page(client: CloudWatchLogsClient, limiter: RateLimiter, tag: string): Promise<boolean> {
    const pull = this.pull;
    if (!pull) return false;
    const { ctx, target } = this;
    const page = await this.filter(client, limiter, pull);
    if (ctx.signal.aborted) return false;
    pull.token = page.nextToken;
    const events: CollectorEvent[] = [];
    for (const e of page.events) {
      if (e.timestamp === undefined || !e.eventId || pull.before.has(e.timestamp, e.eventId)) continue;
      events.push({ tag, message: logMessage(target.label, e) });
      pull.cursor.pass(e.timestamp, e.eventId);
    }
    if (!pull.token) pull.cursor.completeThrough(pull.end);
    // Empty pages (FilterLogEvents returns them while it searches) move nothing; the last one moves past `end`.
    if (events.length > 0 || !pull.token) {
      const batch = pull.seq.batch(
        events,
        `CloudWatch Logs ${target.label} ${ctx.region}`,
        pull.cursor.checkpoint(),
      );
      if (await pull.seq.deliver(batch, ctx)) return false;
    }
    return pull.token !== undefined;
  }

  /** Ends this pull: waits until its batches are acknowledged and their checkpoints saved. */
  async finish(): Promise<void> {
    const pull = this.pull;
    this.pull = undefined;
    await pull?.seq.settled(this.ctx.signal);
  }

  /** Drops the position in memory: the next pull resumes from the saved checkpoint. */
  forget(): void {
    this.window.task.forget();
  }

  position(): WorkerPosition {
    return this.window.position();
  }

  private async filter(client: CloudWatchLogsClient, limiter: RateLimiter, pull: GroupPull) {
    const { ctx, config, target } = this;
    try {
      const out = await retryThrottled(
        () => {
          const command = new FilterLogEventsCommand({
            ...target.param,
            ...(config.log_stream_prefix !== undefined
              ? { logStreamNamePrefix: config.log_stream_prefix }
              : {}),
            ...(config.log_stream_names !== undefined ? { logStreamNames: config.log_stream_names } : {}),
            startTime: pull.from,
            endTime: pull.end,
            ...(pull.token ? { nextToken: pull.token } : {}),
          });
          paceAttempts(command, limiter, ctx.signal);
          return client.send(command, { abortSignal: ctx.signal });
        },
        {
          signal: ctx.signal,
          what: `CloudWatch Logs FilterLogEvents on ${target.label} in ${ctx.region}`,
          onThrottled: (attempt, delayMs) =>
            ctx.logger.warn(
              { worker: this.name, attempt, delayMs },
              'FilterLogEvents throttled, backing off',
            ),
        },
      );
      return { events: out.events ?? [], nextToken: out.nextToken || undefined };
    } catch (err) {
      if ((err as { name?: unknown }).name === 'ResourceNotFoundException') {
        throw new CollectorError(
          ErrorCodes.LOG_GROUP_NOT_FOUND,
          `log group ${target.label} not found in ${ctx.region} (service ${ctx.serviceName}.${target.key})`,
          {
            cause: err,
            details: {
              logGroup: target.label,
              region: ctx.region,
              service: ctx.serviceName,
              key: target.key,
            },
          },
        );
      }
      throw err;
    }
  }
}

/** The Devo event of one log event: compact JSON (the message's own newlines are escaped by JSON). */
export function logMessage(logGroup: string, e: FilteredLogEvent): string {
  return JSON.stringify({
    logGroup,
    logStream: e.logStreamName,
    timestamp: e.timestamp,
    ingestionTime: e.ingestionTime,
    eventId: e.eventId,
    message: e.message,
  });
}
