import {
  GetMetricDataCommand,
  ListMetricsCommand,
  type CloudWatchClient,
  type GetMetricDataOutput,
  type Metric,
} from '@aws-sdk/client-cloudwatch';
import { retryThrottled } from '../../aws/rate-limiter.js';
import type { MetricsConfig } from './schema.js';
import { CollectorError, ErrorCodes } from '../../core/errors.js';
import type { Batch, CollectorEvent } from '../../core/batch.js';
import { taskKey } from '../../state/store.js';
import { fixedTag } from '../shared/tagging/worker-tagger.js';
import type { WorkerPosition } from '../../telemetry/health.js';
import { ProgressReporter } from '../../telemetry/progress.js';
import type { PullTask, ServiceWorker, WorkerContext } from '../definition.js';
import { WindowCursor } from '../shared/time-window.js';
import {
  buildQueries,
  datapointMessage,
  DatapointMerger,
  metricsPerCall,
  toMetricRefs,
  type MetricRef,
} from './queries.js';

/** Default tag (Devo table) of metrics. */
export const TAG_CLOUDWATCH_METRICS = 'cloud.aws.cloudwatch.metrics';

/**
 * Where the metrics service is: every datapoint with a timestamp before `next` was delivered.
 * Inside a window [next, end) cut short, the metrics up to `after` (by key order) are done too.
 */
export interface MetricsCheckpoint {
  next: number;
  end?: number;
  after?: string;
}

/** Events of one GetMetricData call (one batch) stay near this: the time range a call covers is cut to fit. */
const EVENTS_PER_CALL = 20_000;
/** And under GetMetricData's 100,800 datapoints a response, so a call rarely needs a second page. */
const DATAPOINTS_PER_CALL = 100_000;

/**
 * CloudWatch metrics (`metrics-all`). Each pull lists the recently active metrics (every namespace
 * or the configured ones) and reads the period-aligned windows [checkpoint, now − delay_seconds)
 * (the shared WindowCursor)
 * with GetMetricData, every statistic of a metric in the same call (see queries.ts for the call
 * count). A window is checkpointed metric group by metric group, so a restart resumes within it.
 */
export class MetricsWorker implements ServiceWorker {
  readonly name: string;
  private readonly window: WindowCursor<MetricsCheckpoint>;
  private readonly periodMs: number;
  private readonly labels: { service: string; region: string };

  constructor(
    private readonly config: MetricsConfig,
    private readonly ctx: WorkerContext,
  ) {
    this.name = `${ctx.serviceName}/${ctx.region}`;
    const periodMs = config.period_in_seconds * 1000;
    this.periodMs = periodMs;
    this.labels = { service: ctx.serviceName, region: ctx.region };
    this.window = new WindowCursor<MetricsCheckpoint>(ctx, {
      worker: this.name,
      key: taskKey(ctx),
      startTime: config.start_time,
      settleMs: config.delay_seconds * 1000,
      alignMs: periodMs,
      // The first whole period at or after the start: no datapoint stamped before it.
      initial: (from) => ({ next: Math.ceil(from / periodMs) * periodMs }),
      parse: (saved) => this.parseCheckpoint(saved),
      fromOf: (cp) => cp.next,
    });
  }

  async pull(): Promise<void> {
    const { ctx, config, periodMs } = this;
    let cp = this.inRetention(await this.window.resume());
    const end = this.window.end();
    if (cp.next >= end && cp.end === undefined) return;

    const accountId = await ctx.aws.accountId();
    const client = ctx.aws.cloudwatch(ctx.region);
    const metrics = await this.listMetrics(client);
    const perCall = metricsPerCall(config.statistics.length);
    // Periods per call: a window longer than this (catching up) is read in several time slices.
    const slicePeriods = Math.max(
      1,
      Math.min(
        Math.floor(EVENTS_PER_CALL / perCall),
        Math.floor(DATAPOINTS_PER_CALL / (perCall * config.statistics.length)),
      ),
    );
    const seq = this.window.sequencer();
    const tag = fixedTag(ctx, {
      kind: 'metrics',
      defaultTag: TAG_CLOUDWATCH_METRICS,
      tag: config.tag,
      accountId,
    });
    let calls = 0;
    let datapoints = 0;
    let stopped = false;
    const startedFrom = cp.next;
    const progress = new ProgressReporter({
      logger: ctx.logger,
      what: `CloudWatch metrics catching up in ${ctx.region}`,
      fields: { worker: this.name },
      from: startedFrom,
      to: end,
      clock: () => ctx.clock.now(),
    });
    const deliver = async (batch: Batch): Promise<void> => {
      if (await seq.deliver(batch, ctx)) stopped = true;
    };

    try {
      while (!stopped && (cp.next < end || cp.end !== undefined)) {
        const from = cp.next;
        const to = cp.end ?? Math.min(end, from + slicePeriods * periodMs);
        const after = cp.after;
        const todo = after === undefined ? metrics : metrics.filter((m) => m.key > after);
        if (todo.length === 0) await deliver(seq.batch([], this.source(from), { next: to }));
        for (let i = 0; i < todo.length && !stopped; i += perCall) {
          const group = todo.slice(i, i + perCall);
          const result = await this.fetch(client, group, from, to);
          if (ctx.signal.aborted) {
            stopped = true;
            break;
          }
          calls += result.calls;
          datapoints += result.points.length;
          const events: CollectorEvent[] = result.points.map((p) => ({
            tag,
            message: datapointMessage(p, config.period_in_seconds, ctx.region, accountId),
          }));
          const last = i + perCall >= todo.length;
          const next: MetricsCheckpoint = last
            ? { next: to }
            : { next: from, end: to, after: group.at(-1)!.key };
          await deliver(seq.batch(events, this.source(from), next));
          const reached = last ? to : from;
          progress.update(reached - startedFrom, reached, datapoints);
        }
        cp = { next: to };
      }
    } finally {
      await seq.settled(ctx.signal);
    }
    // GetMetricData is billed per metric × statistic requested: say how many each cycle asked for.
    ctx.logger.info(
      {
        worker: this.name,
        metrics: metrics.length,
        statistics: config.statistics.length,
        queries: metrics.length * config.statistics.length,
        calls,
        datapoints,
      },
      `metrics cycle in ${ctx.region}: ${metrics.length} metrics × ${config.statistics.length} statistics requested in ${calls} GetMetricData call(s), ${datapoints} datapoints`,
    );
  }

  position(): WorkerPosition {
    return this.window.position();
  }

  get task(): PullTask {
    return this.window.task;
  }

  async stop(): Promise<void> {}

  private source(from: number): string {
    return `CloudWatch metrics ${this.ctx.region} ${new Date(from).toISOString()}`;
  }

  /**
   * A saved position, re-aligned to the period (floored: a changed period repeats a little
   * rather than skips); undefined when the value is not a metrics checkpoint.
   */
  private parseCheckpoint(value: unknown): MetricsCheckpoint | undefined {
    const saved = value as Partial<MetricsCheckpoint> | undefined;
    if (typeof saved !== 'object' || saved === null) return undefined;
    if (typeof saved.next !== 'number' || !Number.isFinite(saved.next)) return undefined;
    const { periodMs } = this;
    const inWindow =
      typeof saved.end === 'number' &&
      typeof saved.after === 'string' &&
      saved.next % periodMs === 0 &&
      saved.end % periodMs === 0;
    return inWindow
      ? { next: saved.next, end: saved.end!, after: saved.after! }
      : { next: Math.floor(saved.next / periodMs) * periodMs };
  }

  /** `cp`, or the oldest period CloudWatch still keeps datapoints of this period for. */
  private inRetention(cp: MetricsCheckpoint): MetricsCheckpoint {
    const { periodMs } = this;
    const oldest =
      Math.floor((this.ctx.clock.now() - retentionMs(this.config.period_in_seconds)) / periodMs) * periodMs +
      periodMs;
    if (cp.next >= oldest) return cp;
    this.ctx.logger.warn(
      { worker: this.name, saved: new Date(cp.next).toISOString(), from: new Date(oldest).toISOString() },
      `CloudWatch keeps ${this.config.period_in_seconds} s datapoints for a limited time: resuming from the oldest still available`,
    );
    return { next: oldest };
  }

  private async listMetrics(client: CloudWatchClient): Promise<MetricRef[]> {
    const { ctx } = this;
    const found: Metric[] = [];
    for (const namespace of this.config.namespaces ?? [undefined]) {
      let token: string | undefined;
      do {
        const input = {
          RecentlyActive: 'PT3H' as const,
          ...(namespace ? { Namespace: namespace } : {}),
          ...(token ? { NextToken: token } : {}),
        };
        const out = await retryThrottled(
          () => client.send(new ListMetricsCommand(input), { abortSignal: ctx.signal }),
          {
            signal: ctx.signal,
            what: `CloudWatch ListMetrics in ${ctx.region}${namespace ? ` (namespace ${namespace})` : ''}`,
          },
        );
        found.push(...(out.Metrics ?? []));
        token = out.NextToken || undefined;
      } while (token && !ctx.signal.aborted);
    }
    return toMetricRefs(found);
  }

  /** One GetMetricData call for a group (and its further pages): datapoints in [from, to). */
  private async fetch(client: CloudWatchClient, group: MetricRef[], from: number, to: number) {
    const { ctx, config } = this;
    const queries = buildQueries(group, config.statistics, config.period_in_seconds);
    const merger = new DatapointMerger(group, config.statistics);
    let token: string | undefined;
    let calls = 0;
    do {
      const input = {
        MetricDataQueries: queries,
        StartTime: new Date(from),
        EndTime: new Date(to),
        ScanBy: 'TimestampAscending' as const,
        ...(token ? { NextToken: token } : {}),
      };
      const out: GetMetricDataOutput = await retryThrottled(
        () => client.send(new GetMetricDataCommand(input), { abortSignal: ctx.signal }),
        { signal: ctx.signal, what: `CloudWatch GetMetricData in ${ctx.region}` },
      );
      calls++;
      for (const f of merger.add(out.MetricDataResults ?? [])) {
        const metric = f.metric
          ? `${f.metric.namespace} ${f.metric.name} ${JSON.stringify(f.metric.dimensions)}`
          : f.id;
        if (f.status === 'Forbidden') {
          // Not transient: retrying would stop every other metric for good. Skipped, loudly.
          ctx.metrics.errors.inc({ ...this.labels, code: 'METRIC_FORBIDDEN' });
          ctx.logger.error(
            { worker: this.name, metric },
            `GetMetricData in ${ctx.region}: access to metric ${metric} is forbidden, its datapoints are skipped`,
          );
        } else {
          throw new CollectorError(
            ErrorCodes.AWS_CALL_FAILED,
            `GetMetricData in ${ctx.region}: CloudWatch could not compute metric ${metric} (${f.status})`,
            {
              details: { region: ctx.region, metric },
            },
          );
        }
      }
      token = out.NextToken || undefined;
    } while (token && !ctx.signal.aborted);
    return { calls, points: [...merger.datapoints(from, to)] };
  }
}

/** How long CloudWatch keeps datapoints of a period (CloudWatch concepts, "Metrics retention"). */
function retentionMs(periodSeconds: number): number {
  const day = 86_400_000;
  if (periodSeconds < 60) return 3 * 3_600_000;
  if (periodSeconds < 300) return 15 * day;
  if (periodSeconds < 3600) return 63 * day;
  return 455 * day;
}
