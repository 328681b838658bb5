import { LIMITER_WINDOW_MS } from '../../aws/rate-limiter.js';
import { taskKey } from '../../state/store.js';
import { ErrorCodes, isCollectorError } from '../../core/errors.js';
import type { WorkerPosition } from '../../telemetry/health.js';
import type { PullTask, ServiceWorker, WorkerContext } from '../definition.js';
import { fixedTag } from '../shared/tagging/worker-tagger.js';
import { GroupReader, type LogGroupTarget } from './group-reader.js';
import { listLogGroups } from './log-groups.js';
import type { LogsConfig } from './schema.js';
import { takeTurns } from './turns.js';

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

/** DescribeLogGroups' quota is higher; a few pages a refresh need no more, and leave the rest to other callers. */
const DESCRIBE_LOG_GROUPS_PER_SECOND = 5;

/** How often log_group_prefix / log_group_pattern look for new and deleted groups. */
export const DISCOVERY_REFRESH_MS = 5 * 60_000;

/**
 * Pages requested at once: enough to use the whole rate while pages travel, one per group at most.
 * The limiter serves waiting requests in order, so the turns stay round-robin.
 */
const LANES = FILTER_LOG_EVENTS_PER_SECOND;

/**
 * A CloudWatch Logs entry (`types: [logs]`) in one region: one log group (`log_group`,
 * `log_group_identifier`) or every group DescribeLogGroups lists for `log_group_prefix` /
 * `log_group_pattern`, refreshed every DISCOVERY_REFRESH_MS. Each group keeps its own checkpoint
 * (GroupReader). A pull reads every group up to now − settle delay in round-robin turns of one
 * page (takeTurns), all within FilterLogEvents' one budget of the account and region.
 */
export class LogsWorker implements ServiceWorker {
  readonly name: string;
  private readonly settleMs: number;
  /** The groups read, by label, in the order they were found. */
  private readonly groups = new Map<string, GroupReader>();
  private nextDiscovery = -Infinity;

  constructor(
    private readonly config: LogsConfig,
    private readonly ctx: WorkerContext,
    options: LogsWorkerOptions = {},
  ) {
    this.name = `${ctx.serviceName}/${ctx.region}`;
    this.settleMs = options.settleDelayMs ?? config.settle_delay_seconds * 1000;
    const single = singleTarget(config);
    if (single) this.groups.set(single.label, this.reader(single));
  }

  async pull(): Promise<void> {
    const { ctx, config } = this;
    const accountId = await ctx.aws.accountId();
    const client = ctx.aws.logs(ctx.region);
    if (this.discovers && ctx.clock.now() >= this.nextDiscovery) await this.discover(accountId);

    const limiter = ctx.rateLimits.limiter(
      'logs:FilterLogEvents',
      accountId,
      ctx.region,
      FILTER_LOG_EVENTS_PER_SECOND,
    );
    const tag = fixedTag(ctx, { kind: 'logs', defaultTag: TAG_CLOUDWATCH_LOGS, tag: config.tag, accountId });
    const readers = [...this.groups.values()];
    const failures: unknown[] = [];
    // The entry's lease moved on (replicas): the whole task stops, no group reads another page.
    let leaseLost = false;
    const fail = (reader: GroupReader, err: unknown): false => {
      if (this.discovers && isCollectorError(err, ErrorCodes.LOG_GROUP_NOT_FOUND)) {
        // Deleted since the last discovery: dropped now rather than failing every pull until then.
        this.drop(reader.target.label, 'not_found');
      } else {
        failures.push(err);
        // A lost lease is the task's, not a group's failure (logged where found).
        if (readers.length > 1 && !isCollectorError(err, ErrorCodes.LEASE_LOST))
          ctx.logger.warn(
            { event: 'log_group_read_failed', worker: reader.name, logGroup: reader.target.label, err },
            'reading a log group failed; the other groups go on, the pull is retried',
          );
      }
      return false;
    };

    // A group done with its pages waits for their acknowledgement apart, not holding a lane.
    const finishing: Promise<unknown>[] = [];
    const finish = (reader: GroupReader, err?: unknown): false => {
      if (isCollectorError(err, ErrorCodes.LEASE_LOST)) leaseLost = true;
      finishing.push(
        reader.finish().then(
          () => err !== undefined && fail(reader, err),
          // Its delivered pages are still acknowledged and saved; a failed save is the error then.
          (saveErr: unknown) => fail(reader, saveErr),
        ),
      );
      return false;
    };
    try {
      // Every window starts (its state read, a first start saved) before the turns, so that the
      // turns wait on AWS alone.
      await takeTurns(
        readers,
        LANES,
        async (reader) => {
          await reader.begin().catch((err: unknown) => finish(reader, err));
          return false;
        },
        ctx.signal,
      );
      await takeTurns(
        readers.filter((r) => r.reading),
        LANES,
        async (reader) => {
          try {
            if (leaseLost) return finish(reader);
            return (await reader.page(client, limiter, tag)) || finish(reader);
          } catch (err) {
            return finish(reader, err);
          }
        },
        ctx.signal,
      );
    } finally {
      // Those the shutdown interrupted, then every group's acknowledgements.
      for (const reader of readers) if (reader.reading) finish(reader);
      await Promise.all(finishing);
    }
    if (failures.length > 0) throw failures[0];
  }

  position(): WorkerPosition {
    let behindSince: number | undefined;
    let stateUnsavedSince: number | undefined;
    for (const reader of this.groups.values()) {
      const p = reader.position();
      if (p.behindSince !== undefined) behindSince = Math.min(behindSince ?? Infinity, p.behindSince);
      if (p.stateUnsavedSince !== undefined)
        stateUnsavedSince = Math.min(stateUnsavedSince ?? Infinity, p.stateUnsavedSince);
    }
    return { behindSince, stateUnsavedSince };
  }

  /**
   * What replicas lease: the whole entry in its region, every group's checkpoint under its key. Its
   * groups share one FilterLogEvents budget, which only one process can pace.
   */
  get task(): PullTask {
    return {
      key: taskKey(this.ctx),
      forget: () => {
        for (const reader of this.groups.values()) reader.forget();
      },
    };
  }

  async stop(): Promise<void> {}

  private get discovers(): boolean {
    return this.config.log_group_prefix !== undefined || this.config.log_group_pattern !== undefined;
  }

  /**
   * Lists the groups again: new ones are read from their creation (the first listing reads as a
   * single group would: start_time, else the first pull), those gone are dropped. A failed refresh
   * keeps the groups known; a failed first listing fails the pull.
   */
  private async discover(accountId: string): Promise<void> {
    const { ctx, config } = this;
    const first = this.nextDiscovery === -Infinity;
    let found;
    try {
      found = await listLogGroups(
        ctx.aws.logs(ctx.region),
        ctx.rateLimits.limiter(
          'logs:DescribeLogGroups',
          accountId,
          ctx.region,
          DESCRIBE_LOG_GROUPS_PER_SECOND,
        ),
        { prefix: config.log_group_prefix, pattern: config.log_group_pattern },
        ctx.signal,
        ctx.region,
      );
    } catch (err) {
      if (first) throw err;
      ctx.logger.warn(
        { event: 'log_groups_refresh_failed', worker: this.name, err },
        'listing the log groups failed; reading the groups known until the next refresh',
      );
      this.nextDiscovery = ctx.clock.now() + DISCOVERY_REFRESH_MS;
      return;
    }
    this.nextDiscovery = ctx.clock.now() + DISCOVERY_REFRESH_MS;
    const names = new Set(found.map((g) => g.name));
    let changed = first;
    for (const label of [...this.groups.keys()])
      if (!names.has(label)) {
        this.drop(label, 'deleted');
        changed = true;
      }
    for (const g of found) {
      if (this.groups.has(g.name)) continue;
      const startTime = first ? config.start_time : laterOf(config.start_time, g.createdAt);
      this.groups.set(
        g.name,
        this.reader({ label: g.name, param: { logGroupName: g.name }, key: groupKey(config), startTime }),
      );
      if (!first)
        ctx.logger.info(
          { event: 'log_group_added', worker: this.name, logGroup: g.name, from: startTime },
          `new log group ${g.name}: read from ${startTime}`,
        );
      changed = true;
    }
    if (changed) this.logSchedule();
  }

  private drop(label: string, reason: 'deleted' | 'not_found'): void {
    if (!this.groups.delete(label)) return;
    this.ctx.logger.info(
      { event: 'log_group_dropped', worker: this.name, logGroup: label, reason },
      `log group ${label} is gone: no longer read`,
    );
  }

  /** Says how often each group is read at most while all have a backlog (see readInterval). */
  private logSchedule(): void {
    const groups = this.groups.size;
    const worstIntervalSeconds = readIntervalSeconds(groups);
    this.ctx.logger.info(
      {
        event: 'log_groups_schedule',
        worker: this.name,
        groups,
        callsPerSecond: FILTER_LOG_EVENTS_PER_SECOND,
        worstIntervalSeconds,
      },
      `${groups} log groups at ${FILTER_LOG_EVENTS_PER_SECOND} calls/s: each group read at least every ${worstIntervalSeconds} s`,
    );
  }

  private reader(target: LogGroupTarget): GroupReader {
    const name = this.discovers ? `${this.name}/${target.label}` : this.name;
    return new GroupReader(name, target, this.config, this.ctx, this.settleMs);
  }
}

/**
 * The longest wait of a group between two pages while every group has pages to read: the turns
 * of the others, plus the pages that overtook it (at most LANES − 1), granted at
 * FILTER_LOG_EVENTS_PER_SECOND per limiter window. Whole seconds, rounded up; other entries
 * reading the same account and region share the budget and stretch it.
 */
export function readIntervalSeconds(groups: number): number {
  const windows = Math.ceil((groups + LANES - 1) / FILTER_LOG_EVENTS_PER_SECOND);
  return Math.ceil((windows * LIMITER_WINDOW_MS) / 1000);
}

/** The config key choosing the groups of an entry. */
function groupKey(config: LogsConfig): string {
  if (config.log_group_prefix !== undefined) return 'log_group_prefix';
  if (config.log_group_pattern !== undefined) return 'log_group_pattern';
  return config.log_group_identifier !== undefined ? 'log_group_identifier' : 'log_group';
}

/** The one group of a `log_group` or `log_group_identifier` entry. */
function singleTarget(config: LogsConfig): LogGroupTarget | undefined {
  if (config.log_group !== undefined)
    return {
      label: config.log_group,
      param: { logGroupName: config.log_group },
      key: 'log_group',
      startTime: config.start_time,
    };
  const arn = config.log_group_identifier;
  if (arn === undefined) return undefined;
  return {
    label: arn,
    param: { logGroupIdentifier: arn },
    key: 'log_group_identifier',
    startTime: config.start_time,
  };
}

function laterOf(startTime: string | undefined, createdAt: number): string {
  const start = startTime === undefined ? -Infinity : Date.parse(startTime);
  return new Date(Math.max(start, createdAt)).toISOString();
}
