import type { Dimension, Metric, MetricDataQuery, MetricDataResult } from '@aws-sdk/client-cloudwatch';

/**
 * Pure parts of the metrics service: which metrics go in which GetMetricData call, and how the
 * per-statistic time series come back together as one event per metric datapoint.
 *
 * Cost and call count: GetMetricData takes at most 500 MetricDataQueries a call and a MetricStat
 * query returns one statistic, so a metric with S statistics takes S queries (and is billed as S
 * metrics). A call therefore covers floor(500 / S) metrics: 500 with one statistic, 100 with all
 * five. 1,200 metrics take 3 calls a window with one statistic and 12 with five; nothing in the
 * API does better without losing data (Metrics Insights queries return one statistic each too, at
 * most 500 series, and label their series with strings rather than dimensions). All statistics of
 * a metric stay in the same call, so its datapoints are complete when the call returns.
 */
export const MAX_QUERIES_PER_CALL = 500;

export interface MetricRef {
  namespace: string;
  name: string;
  dimensions: Dimension[];
  /** Stable identity and sort key: namespace, name and dimensions sorted by name. */
  key: string;
}

export function metricKey(namespace: string, name: string, dimensions: readonly Dimension[]): string {
  const dims = [...dimensions]
    .map((d) => [d.Name ?? '', d.Value ?? ''])
    .sort((a, b) => compare(a[0]!, b[0]!) || compare(a[1]!, b[1]!));
  return JSON.stringify([namespace, name, dims]);
}

/** Distinct metrics of ListMetrics pages, sorted by key (the order checkpoints count in). */
export function toMetricRefs(metrics: Iterable<Metric>): MetricRef[] {
  const byKey = new Map<string, MetricRef>();
  for (const m of metrics) {
    if (!m.Namespace || !m.MetricName) continue;
    const dimensions = (m.Dimensions ?? []).filter((d) => d.Name !== undefined && d.Value !== undefined);
    const key = metricKey(m.Namespace, m.MetricName, dimensions);
    if (!byKey.has(key)) byKey.set(key, { namespace: m.Namespace, name: m.MetricName, dimensions, key });
  }
  return [...byKey.values()].sort((a, b) => compare(a.key, b.key));
}

export function metricsPerCall(statistics: number): number {
  return Math.max(1, Math.floor(MAX_QUERIES_PER_CALL / statistics));
}

/** One MetricStat query per metric × statistic; the Id encodes both (`m<metric>_<statistic>`). */
export function buildQueries(
  group: readonly MetricRef[],
  statistics: readonly string[],
  periodSeconds: number,
): MetricDataQuery[] {
  const queries: MetricDataQuery[] = [];
  group.forEach((metric, m) => {
    statistics.forEach((stat, s) => {
      queries.push({
        Id: `m${m}_${s}`,
        MetricStat: {
          Metric: { Namespace: metric.namespace, MetricName: metric.name, Dimensions: metric.dimensions },
          Period: periodSeconds,
          Stat: stat,
        },
        ReturnData: true,
      });
    });
  });
  return queries;
}

/** Datapoints of one call, merged across statistics and pages: metric index → timestamp → statistic → value. */
export class DatapointMerger {
  private readonly points: Map<number, Record<string, number>>[];

  constructor(
    private readonly group: readonly MetricRef[],
    private readonly statistics: readonly string[],
  ) {
    this.points = group.map(() => new Map());
  }

  /** Adds one page of results. Returns the ids of results AWS could not compute (InternalError/Forbidden). */
  add(results: readonly MetricDataResult[]): { id: string; status: string; metric: MetricRef | undefined }[] {
    const failed: { id: string; status: string; metric: MetricRef | undefined }[] = [];
    for (const r of results) {
      const parsed = /^m(\d+)_(\d+)$/.exec(r.Id ?? '');
      const m = parsed ? Number(parsed[1]) : -1;
      const stat = parsed ? this.statistics[Number(parsed[2])] : undefined;
      const series = this.points[m];
      if (r.StatusCode === 'InternalError' || r.StatusCode === 'Forbidden') {
        failed.push({ id: r.Id ?? '', status: r.StatusCode, metric: this.group[m] });
        continue;
      }
      if (!series || stat === undefined) continue;
      const timestamps = r.Timestamps ?? [];
      const values = r.Values ?? [];
      for (let i = 0; i < timestamps.length && i < values.length; i++) {
        const t = timestamps[i]!.getTime();
        let point = series.get(t);
        if (!point) series.set(t, (point = {}));
        point[stat] = values[i]!;
      }
    }
    return failed;
  }

  /** Metric by metric in group order, datapoints oldest first; only timestamps in [from, to). */
  *datapoints(
    from: number,
    to: number,
  ): Generator<{ metric: MetricRef; timestamp: number; values: Record<string, number> }> {
    for (let m = 0; m < this.group.length; m++) {
      const series = this.points[m]!;
      const times = [...series.keys()].filter((t) => t >= from && t < to).sort((a, b) => a - b);
      for (const t of times) {
        const raw = series.get(t)!;
        // Statistics in configured order, so events are stable whatever order the results came in.
        const values: Record<string, number> = {};
        for (const s of this.statistics) if (raw[s] !== undefined) values[s] = raw[s];
        yield { metric: this.group[m]!, timestamp: t, values };
      }
    }
  }
}

/** The Devo event of one datapoint: compact JSON. GetMetricData does not return units, so there is none. */
export function datapointMessage(
  point: { metric: MetricRef; timestamp: number; values: Record<string, number> },
  periodSeconds: number,
  region: string,
  accountId: string,
): string {
  const dimensions: Record<string, string> = {};
  for (const d of point.metric.dimensions) dimensions[d.Name!] = d.Value!;
  return JSON.stringify({
    timestamp: new Date(point.timestamp).toISOString(),
    region,
    accountId,
    namespace: point.metric.namespace,
    metricName: point.metric.name,
    dimensions,
    period: periodSeconds,
    statistics: point.values,
  });
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
