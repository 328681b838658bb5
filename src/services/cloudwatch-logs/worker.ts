import {
  FilterLogEventsCommand,
  type CloudWatchLogsClient,
  type FilteredLogEvent,
} from '@aws-sdk/client-cloudwatch-logs';
import { paceAttempts, retryThrottled, type RateLimiter } from '../../aws/rate-limiter.js';
import type { LogsConfig } from './schema.js';
import { CollectorError, ErrorCodes } from '../../core/errors.js';
import type { Batch, CollectorEvent } from '../../core/batch.js';
import { stateKey } from '../../state/store.js';
import { fixedTag } from '../shared/tagging/worker-tagger.js';
import type { WorkerPosition } from '../../telemetry/health.js';
import type { PullTask, ServiceWorker, WorkerContext } from '../definition.js';
import {
  timeCheckpointSpec,
  DeliveredBefore,
  TimeCursor,
  type TimeCheckpoint,
} from '../shared/time-cursor.js';
import { WindowCursor } from '../shared/time-window.js';

export interface LogsWorkerOptions {
  /**
   * How far behind now a pull reads: events can reach CloudWatch Logs a little after their
   * timestamp, and a time is not read again once passed (default 60 s).
   */
  settleDelayMs?: number;
}

/** Default tag (Devo table) of CloudWatch Logs events. */
export const TAG_CLOUDWATCH_LOGS = 'cloud.aws.cloudwatch.logs';

/** FilterLogEvents allows 5 requests a second per account and region. */
export const FILTER_LOG_EVENTS_PER_SECOND = 5;

/**
 * One CloudWatch Logs group (`types: [logs]`, `log_group`): FilterLogEvents over every stream of
 * the group, from the checkpoint to now − settle delay (the shared WindowCursor). AWS returns the events of a query sorted by
 * timestamp (FilterLogEvents API reference), so each page is delivered as it comes, checkpointed
 * at its last event's timestamp plus the ids of the events at that timestamp.
 */
export class LogsWorker implements ServiceWorker {
  readonly name: string;
  private readonly window: WindowCursor<TimeCheckpoint>;

  constructor(
    private readonly config: LogsConfig,
    private readonly ctx: WorkerContext,
    options: LogsWorkerOptions = {},
  ) {
    this.name = `${ctx.serviceName}/${ctx.region}`;
    this.window = new WindowCursor(ctx, {
      ...timeCheckpointSpec,
      worker: this.name,
      key: stateKey(ctx.inputId, ctx.serviceName, ctx.region, config.log_group),
      startTime: config.start_time,
      settleMs: options.settleDelayMs ?? config.settle_delay_seconds * 1000,
      alignMs: 1,
    });
  }

  async pull(): Promise<void> {
    const { ctx, config } = this;
    const start = await this.window.resume();
    // FilterLogEvents' endTime is inclusive.
    const end = this.window.end() - 1;
    if (start.from > end) return;

    const accountId = await ctx.aws.accountId();
    const limiter = ctx.rateLimits.limiter(
      'logs:FilterLogEvents',
      accountId,
      ctx.region,
      FILTER_LOG_EVENTS_PER_SECOND,
    );
    const client = ctx.aws.logs(ctx.region);
    const tag = fixedTag(ctx, { kind: 'logs', defaultTag: TAG_CLOUDWATCH_LOGS, tag: config.tag, accountId });
    const before = new DeliveredBefore(start);
    const cursor = new TimeCursor(start);
    const seq = this.window.sequencer();
    let stopped = false;
    const deliver = async (batch: Batch): Promise<void> => {
      if (await seq.deliver(batch, ctx)) stopped = true;
    };

    try {
      let token: string | undefined;
      do {
        const page = await this.page(client, limiter, start.from, end, token);
        if (ctx.signal.aborted) break;
        token = page.nextToken;
        const events: CollectorEvent[] = [];
        for (const e of page.events) {
          if (e.timestamp === undefined || !e.eventId || before.has(e.timestamp, e.eventId)) continue;
          events.push({ tag, message: logMessage(config.log_group, e) });
          cursor.pass(e.timestamp, e.eventId);
        }
        if (!token) cursor.completeThrough(end);
        // Empty pages (FilterLogEvents returns them while it searches) move nothing; the last one moves past `end`.
        if (events.length > 0 || !token)
          await deliver(
            seq.batch(events, `CloudWatch Logs ${config.log_group} ${ctx.region}`, cursor.checkpoint()),
          );
      } while (token && !stopped);
    } finally {
      await seq.settled(ctx.signal);
    }
  }

  position(): WorkerPosition {
    return this.window.position();
  }

  get task(): PullTask {
    return this.window.task;
  }

  async stop(): Promise<void> {}

  private async page(
    client: CloudWatchLogsClient,
    limiter: RateLimiter,
    from: number,
    to: number,
    token: string | undefined,
  ) {
    const { ctx, config } = this;
    try {
      const out = await retryThrottled(
        () => {
          const command = new FilterLogEventsCommand({
            logGroupName: config.log_group,
            startTime: from,
            endTime: to,
            ...(token ? { nextToken: token } : {}),
          });
          paceAttempts(command, limiter, ctx.signal);
          return client.send(command, { abortSignal: ctx.signal });
        },
        {
          signal: ctx.signal,
          what: `CloudWatch Logs FilterLogEvents on ${config.log_group} in ${ctx.region}`,
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
          `log group ${config.log_group} not found in ${ctx.region} (service ${ctx.serviceName}.log_group)`,
          {
            cause: err,
            details: { logGroup: config.log_group, region: ctx.region, service: ctx.serviceName },
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
