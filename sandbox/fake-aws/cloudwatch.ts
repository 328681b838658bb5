import { createHash } from 'node:crypto';
import { AwsError } from './errors.js';
import { jsonProtocol } from './json-protocol.js';
import { operationsReading, type ParamReader } from './params.js';
import type { RequestContext, ServiceDef } from './protocol.js';
import { decodeToken, encodeToken, Regional, takePage, toMillis } from './util.js';

export interface MetricId {
  Namespace: string;
  MetricName: string;
  Dimensions?: { Name: string; Value: string }[];
}

export interface Datapoint {
  timestamp: Date | number | string;
  value: number;
  unit?: string;
}

export interface GeneratedSeries {
  /** Unit of the generated values (default 'None'). */
  unit?: string;
  /** No datapoints before this time (default: as far back as CloudWatch keeps the period). */
  since?: Date | number | string;
}

interface Sample {
  t: number;
  v: number;
  unit: string;
}

interface Metric {
  key: string;
  id: Required<MetricId>;
  samples: Sample[];
  generated: { unit: string; since: number } | undefined;
}

const LIST_PAGE = 500;
const MAX_QUERIES = 500;
const DEFAULT_MAX_DATAPOINTS = 100_800;
const RECENT_MS = 3 * 3_600_000;
const STAT = /^(SampleCount|Average|Sum|Minimum|Maximum|p(\d{1,2}(\.\d+)?|100))$/;

/** CloudWatch errors: JSON shape name and the legacy query code (the service is query-compatible). */
const cwError = (code: string, queryCode: string, message: string, status = 400): AwsError =>
  new AwsError(code, message, status, { queryCode });
const invalidValue = (message: string): AwsError =>
  cwError('InvalidParameterValueException', 'InvalidParameterValue', message);
const missing = (name: string): AwsError =>
  cwError('MissingRequiredParameterException', 'MissingParameter', `The parameter ${name} is required.`);

const keyOf = (id: MetricId): string =>
  JSON.stringify([
    id.Namespace,
    id.MetricName,
    [...(id.Dimensions ?? [])].sort((a, b) => a.Name.localeCompare(b.Name)).map((d) => [d.Name, d.Value]),
  ]);

/**
 * The deterministic value of a generated metric for the period starting at `periodStart` (epoch
 * ms): tests can predict every datapoint of a generated series.
 */
export function generatedValue(metric: MetricId, periodSeconds: number, periodStart: number): number {
  const digest = createHash('sha256')
    .update(`${keyOf(metric)}|${periodSeconds}|${periodStart}`)
    .digest();
  return (digest.readUInt32BE(0) % 100_000) / 100;
}

/** CloudWatch metrics over AWS JSON 1.0 (query-compatible): ListMetrics and GetMetricData. */
export class FakeCloudWatch {
  private readonly metrics = new Regional(() => ({
    byKey: new Map<string, Metric>(),
    sorted: undefined as Metric[] | undefined,
  }));
  readonly def: ServiceDef;

  constructor(private readonly defaultAccountId: string) {
    const op = operationsReading(invalidValue, missing);
    this.def = {
      name: 'cloudwatch',
      protocol: jsonProtocol({
        version: '1.0',
        targets: ['GraniteServiceVersion20100801'],
        queryCompatible: true,
        errorNamespace: 'com.amazonaws.cloudwatch',
      }),
      operations: {
        ListMetrics: op((p, ctx) => this.listMetrics(p, ctx)),
        GetMetricData: op((p, ctx) => this.getMetricData(p, ctx)),
      },
      throttlingError: () => cwError('Throttling', 'Throttling', 'Rate exceeded'),
      serverError: (status) =>
        status === 500
          ? cwError('InternalServiceFault', 'InternalServiceError', 'Internal service error.', 500)
          : cwError('ServiceUnavailable', 'ServiceUnavailable', 'Service is unavailable.', 503),
    };
  }

  /**
   * Registers a metric. With `generated`, it has one datapoint per period, every period, valued
   * `generatedValue(metric, period, periodStart)` for every statistic (SampleCount 1).
   */
  addMetric(
    region: string,
    metric: MetricId,
    options: { generated?: boolean | GeneratedSeries; accountId?: string } = {},
  ): void {
    const entry = this.entry(options.accountId ?? this.defaultAccountId, region, metric);
    if (options.generated) {
      const g = options.generated === true ? {} : options.generated;
      entry.generated = {
        unit: g.unit ?? 'None',
        since: g.since === undefined ? -Infinity : toMillis(g.since),
      };
    }
  }

  /** Adds raw samples; GetMetricData aggregates them per period and statistic. */
  addDatapoints(
    region: string,
    metric: MetricId,
    points: Datapoint[],
    accountId = this.defaultAccountId,
  ): void {
    const entry = this.entry(accountId, region, metric);
    for (const p of points)
      entry.samples.push({ t: toMillis(p.timestamp), v: p.value, unit: p.unit ?? 'None' });
  }

  private entry(accountId: string, region: string, id: MetricId): Metric {
    const store = this.metrics.get(accountId, region);
    const key = keyOf(id);
    let metric = store.byKey.get(key);
    if (!metric) {
      const dims = [...(id.Dimensions ?? [])].sort((a, b) => a.Name.localeCompare(b.Name));
      if (dims.length > 30) throw invalidValue('A metric has at most 30 dimensions.');
      metric = {
        key,
        id: { Namespace: id.Namespace, MetricName: id.MetricName, Dimensions: dims },
        samples: [],
        generated: undefined,
      };
      store.byKey.set(key, metric);
      store.sorted = undefined;
    }
    return metric;
  }

  private sorted(accountId: string, region: string): Metric[] {
    const store = this.metrics.get(accountId, region);
    store.sorted ??= [...store.byKey.values()].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    return store.sorted;
  }

  private listMetrics(p: ParamReader, ctx: RequestContext): unknown {
    const namespace = p.string('Namespace');
    const name = p.string('MetricName');
    const filters = (p.array('Dimensions') ?? []).map((d, i) => {
      const f = p.nested(d, `Dimensions.member.${i + 1}`);
      return { name: f.requiredString('Name'), value: f.string('Value') };
    });
    if (filters.length > 10)
      throw invalidValue('The collection Dimensions must not have a size greater than 10.');
    const recently = p.string('RecentlyActive');
    if (recently !== undefined && recently !== 'PT3H')
      throw invalidValue(`The value ${recently} for parameter RecentlyActive is not valid.`);
    const query = { namespace, name, filters, recently };
    const token = p.string('NextToken');
    const after = token === undefined ? undefined : decodeToken(token, query);
    if (token !== undefined && typeof after !== 'string')
      throw cwError('InvalidNextToken', 'InvalidNextToken', 'The service returned an invalid NextToken.');
    const now = Date.now();
    const selected = this.sorted(ctx.identity.accountId, ctx.region).filter(
      (m) =>
        (after === undefined || m.key > (after as string)) &&
        (namespace === undefined || m.id.Namespace === namespace) &&
        (name === undefined || m.id.MetricName === name) &&
        filters.every((f) =>
          m.id.Dimensions.some((d) => d.Name === f.name && (f.value === undefined || d.Value === f.value)),
        ) &&
        (!recently || m.generated !== undefined || m.samples.some((s) => s.t >= now - RECENT_MS)),
    );
    const { page, more } = takePage(selected, LIST_PAGE);
    const last = page.at(-1);
    return {
      Metrics: page.map((m) => m.id),
      ...(more && last ? { NextToken: encodeToken(last.key, query) } : {}),
    };
  }

  private getMetricData(p: ParamReader, ctx: RequestContext): unknown {
    const rawQueries = p.array('MetricDataQueries') ?? [];
    if (rawQueries.length === 0) throw missing('MetricDataQueries');
    if (rawQueries.length > MAX_QUERIES) {
      throw cwError(
        'ValidationException',
        'ValidationError',
        `1 validation error detected: Value at 'metricDataQueries' failed to satisfy constraint: Member must have length less than or equal to ${MAX_QUERIES}`,
      );
    }
    const start = p.timestamp('StartTime') ?? missingOf('StartTime');
    const end = p.timestamp('EndTime') ?? missingOf('EndTime');
    if (start >= end) throw invalidValue('The parameter StartTime must be less than the parameter EndTime.');
    const scanBy = p.string('ScanBy') ?? 'TimestampDescending';
    if (scanBy !== 'TimestampDescending' && scanBy !== 'TimestampAscending')
      throw invalidValue(`The value ${scanBy} for parameter ScanBy is not valid.`);
    const maxDatapoints = p.integer('MaxDatapoints', 1, Number.MAX_SAFE_INTEGER) ?? DEFAULT_MAX_DATAPOINTS;

    const ids = new Set<string>();
    const queries = rawQueries.map((raw, i) => {
      const q = p.nested(raw, `MetricDataQueries.member.${i + 1}`);
      const id = q.requiredString('Id');
      if (!/^[a-z][a-zA-Z0-9_]*$/.test(id))
        throw invalidValue(
          `The value ${id} for parameter MetricDataQueries.member.${i + 1}.Id is not valid.`,
        );
      if (ids.has(id))
        throw invalidValue(
          `The value ${id} for parameter MetricDataQueries.member.${i + 1}.Id is not unique.`,
        );
      ids.add(id);
      if (q.has('Expression'))
        throw invalidValue('Metric math expressions are not available in fake-aws; use MetricStat.');
      const stat = q.object('MetricStat') ?? missingOf(`MetricDataQueries.member.${i + 1}.MetricStat`);
      const metric = stat.object('Metric') ?? missingOf('MetricStat.Metric');
      const period = stat.integer('Period', 1, Number.MAX_SAFE_INTEGER) ?? missingOf('MetricStat.Period');
      if (![1, 5, 10, 20, 30].includes(period) && period % 60 !== 0) {
        throw invalidValue(
          `The parameter MetricDataQueries.member.${i + 1}.MetricStat.Period must be 1, 5, 10, 20, 30, or a multiple of 60.`,
        );
      }
      const statistic = stat.requiredString('Stat');
      if (!STAT.test(statistic))
        throw invalidValue(
          `The value ${statistic} for parameter MetricDataQueries.member.${i + 1}.MetricStat.Stat is not valid.`,
        );
      const dims = (metric.array('Dimensions') ?? []).map((d, j) => {
        const dim = metric.nested(d, `Dimensions.member.${j + 1}`);
        return { Name: dim.requiredString('Name'), Value: dim.requiredString('Value') };
      });
      const metricId: MetricId = {
        Namespace: metric.requiredString('Namespace'),
        MetricName: metric.requiredString('MetricName'),
        Dimensions: dims,
      };
      const points = this.series(
        ctx.identity.accountId,
        ctx.region,
        metricId,
        period,
        statistic,
        stat.string('Unit'),
        start,
        end,
      );
      if (scanBy === 'TimestampDescending') points.reverse();
      return {
        id,
        label: q.string('Label') ?? metricId.MetricName,
        returnData: q.boolean('ReturnData') ?? true,
        points,
      };
    });

    const query = { queries: rawQueries, start, end, scanBy, maxDatapoints };
    const token = p.string('NextToken');
    let position: [number, number] = [0, 0];
    if (token !== undefined) {
      const decoded = decodeToken(token, query);
      if (!Array.isArray(decoded))
        throw cwError('InvalidNextToken', 'InvalidNextToken', 'The service returned an invalid NextToken.');
      position = decoded as [number, number];
    }
    // Datapoints are paged in query order; a query cut by the page limit is PartialData.
    const results: unknown[] = [];
    let budget = maxDatapoints;
    let [qi, pi] = position;
    for (; qi < queries.length; qi++, pi = 0) {
      const q = queries[qi] as (typeof queries)[number];
      if (!q.returnData) continue;
      if (budget === 0 && q.points.length > pi) break;
      const taken = q.points.slice(pi, pi + budget);
      budget -= taken.length;
      const partial = pi + taken.length < q.points.length;
      results.push({
        Id: q.id,
        Label: q.label,
        Timestamps: taken.map(([t]) => t / 1000),
        Values: taken.map(([, v]) => v),
        StatusCode: partial ? 'PartialData' : 'Complete',
      });
      if (partial) {
        pi += taken.length;
        break;
      }
    }
    const more = qi < queries.length;
    return {
      MetricDataResults: results,
      Messages: [],
      ...(more ? { NextToken: encodeToken([qi, pi], query) } : {}),
    };
  }

  /** [periodStart, value] pairs, oldest first, for the periods in [start, end). */
  private series(
    accountId: string,
    region: string,
    id: MetricId,
    period: number,
    statistic: string,
    unit: string | undefined,
    start: number,
    end: number,
  ): [number, number][] {
    const metric = this.metrics.get(accountId, region).byKey.get(keyOf(id));
    if (!metric) return [];
    const periodMs = period * 1000;
    const first = Math.floor(Math.max(start, Date.now() - retentionMs(period)) / periodMs) * periodMs;
    const buckets = new Map<number, number[]>();
    for (const s of metric.samples) {
      if (s.t < first || s.t >= end || (unit !== undefined && s.unit !== unit)) continue;
      const b = Math.floor(s.t / periodMs) * periodMs;
      let values = buckets.get(b);
      if (!values) buckets.set(b, (values = []));
      values.push(s.v);
    }
    const generated = metric.generated;
    if (generated && (unit === undefined || unit === generated.unit)) {
      // Only complete periods, so a datapoint never changes once it has been returned.
      const last = Math.min(end, Date.now() - periodMs);
      for (
        let b = Math.max(first, Math.ceil(generated.since / periodMs) * periodMs);
        b < last;
        b += periodMs
      ) {
        if (!buckets.has(b)) buckets.set(b, [generatedValue(metric.id, period, b)]);
      }
    }
    return [...buckets.entries()]
      .sort(([a], [b]) => a - b)
      .map(([t, values]) => [t, aggregate(values, statistic)]);
  }
}

/** How far back CloudWatch keeps datapoints of a period (high-resolution 3 h, 1 min 15 days...). */
function retentionMs(period: number): number {
  const days = period < 60 ? 3 / 24 : period < 300 ? 15 : period < 3600 ? 63 : 455;
  return days * 86_400_000;
}

function missingOf(name: string): never {
  throw missing(name);
}

function aggregate(values: number[], statistic: string): number {
  switch (statistic) {
    case 'SampleCount':
      return values.length;
    case 'Sum':
      return values.reduce((a, b) => a + b, 0);
    case 'Average':
      return values.reduce((a, b) => a + b, 0) / values.length;
    case 'Minimum':
      return Math.min(...values);
    case 'Maximum':
      return Math.max(...values);
    default: {
      // pNN: nearest-rank percentile.
      const sorted = [...values].sort((a, b) => a - b);
      const rank = Math.ceil((Number(statistic.slice(1)) / 100) * sorted.length);
      return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))] as number;
    }
  }
}
