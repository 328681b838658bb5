import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  GetMetricDataCommand,
  ListMetricsCommand,
  type Metric,
  type MetricDataQuery,
  type MetricDataResult,
} from '@aws-sdk/client-cloudwatch';
import { generatedValue, startFakeAws, type FakeAws, type MetricId } from '../../sandbox/fake-aws/index.js';
import { clients, rejection } from './clients.js';

const REGION = 'eu-west-1';
const MINUTE = 60_000;

describe('fake CloudWatch metrics', () => {
  let fake: FakeAws;
  let c: ReturnType<typeof clients>;
  const instances: MetricId[] = Array.from({ length: 1200 }, (_, i) => ({
    Namespace: i < 1000 ? 'AWS/EC2' : 'AWS/Lambda',
    MetricName: i % 2 ? 'CPUUtilization' : 'NetworkIn',
    Dimensions: [
      { Name: i < 1000 ? 'InstanceId' : 'FunctionName', Value: `r-${String(i).padStart(4, '0')}` },
    ],
  }));
  before(async () => {
    fake = await startFakeAws();
    c = clients(fake);
    for (const m of instances) fake.cloudwatch.addMetric(REGION, m, { generated: true });
  });
  after(async () => {
    c.destroy();
    await fake.stop();
  });

  const listAll = async (
    input: ConstructorParameters<typeof ListMetricsCommand>[0],
  ): Promise<{ metrics: Metric[]; pages: number }> => {
    const metrics: Metric[] = [];
    let NextToken: string | undefined;
    let pages = 0;
    do {
      const out = await c.cloudwatch.send(new ListMetricsCommand({ ...input, NextToken }));
      metrics.push(...(out.Metrics ?? []));
      NextToken = out.NextToken;
      pages++;
    } while (NextToken);
    return { metrics, pages };
  };
  const query = (
    id: string,
    metric: MetricId,
    Stat = 'Average',
    Period = 60,
    Unit?: string,
  ): MetricDataQuery => ({
    Id: id,
    MetricStat: { Metric: metric, Period, Stat, ...(Unit ? { Unit: Unit as 'Count' } : {}) },
  });

  test('ListMetrics pages 500 at a time and filters by namespace, name and dimensions', async () => {
    const { metrics, pages } = await listAll({});
    assert.equal(pages, 3);
    assert.equal(metrics.length, 1200);
    assert.equal(new Set(metrics.map((m) => JSON.stringify(m))).size, 1200);
    assert.equal((await listAll({ Namespace: 'AWS/Lambda' })).metrics.length, 200);
    assert.equal((await listAll({ Namespace: 'AWS/EC2', MetricName: 'CPUUtilization' })).metrics.length, 500);
    assert.equal((await listAll({ Dimensions: [{ Name: 'FunctionName' }] })).metrics.length, 200);
    const one = await listAll({ Dimensions: [{ Name: 'InstanceId', Value: 'r-0007' }] });
    assert.deepEqual(one.metrics, [instances[7]]);
    assert.equal(
      (await rejection(c.cloudwatch.send(new ListMetricsCommand({ NextToken: 'nope' })))).name,
      'InvalidNextToken',
    );
  });

  test('RecentlyActive=PT3H leaves out metrics without data in the last three hours', async () => {
    const own = await startFakeAws();
    const oc = clients(own);
    own.cloudwatch.addDatapoints(REGION, { Namespace: 'App', MetricName: 'Fresh' }, [
      { timestamp: Date.now() - MINUTE, value: 1 },
    ]);
    own.cloudwatch.addDatapoints(REGION, { Namespace: 'App', MetricName: 'Stale' }, [
      { timestamp: Date.now() - 4 * 3_600_000, value: 1 },
    ]);
    const recent = await oc.cloudwatch.send(new ListMetricsCommand({ RecentlyActive: 'PT3H' }));
    assert.deepEqual(
      recent.Metrics?.map((m) => m.MetricName),
      ['Fresh'],
    );
    assert.equal((await oc.cloudwatch.send(new ListMetricsCommand({}))).Metrics?.length, 2);
    oc.destroy();
    await own.stop();
  });

  test('1,200 generated metrics: every datapoint arrives once with its predictable value', async () => {
    const end = Math.floor(Date.now() / MINUTE) * MINUTE - MINUTE;
    const start = end - 10 * MINUTE;
    const seen = new Map<string, number>();
    for (let offset = 0; offset < instances.length; offset += 500) {
      const batch = instances.slice(offset, offset + 500);
      let NextToken: string | undefined;
      do {
        const out = await c.cloudwatch.send(
          new GetMetricDataCommand({
            StartTime: new Date(start),
            EndTime: new Date(end),
            MetricDataQueries: batch.map((m, i) => query(`m${offset + i}`, m)),
            ScanBy: 'TimestampAscending',
            NextToken,
          }),
        );
        for (const r of out.MetricDataResults ?? []) {
          const metric = instances[Number(r.Id?.slice(1))]!;
          r.Timestamps?.forEach((t, k) => {
            const key = `${r.Id}@${t.getTime()}`;
            assert.ok(!seen.has(key), `${key} arrived twice`);
            seen.set(key, r.Values?.[k] ?? NaN);
            assert.equal(r.Values?.[k], generatedValue(metric, 60, t.getTime()));
          });
        }
        NextToken = out.NextToken;
      } while (NextToken);
    }
    assert.equal(seen.size, 1200 * 10);
  });

  test('MaxDatapoints pages results: PartialData, then the rest after NextToken', async () => {
    const end = Math.floor(Date.now() / MINUTE) * MINUTE - MINUTE;
    const queries = [query('a', instances[0]!), query('b', instances[1]!)];
    const input = {
      StartTime: new Date(end - 10 * MINUTE),
      EndTime: new Date(end),
      MetricDataQueries: queries,
      MaxDatapoints: 7,
    };
    const results: MetricDataResult[] = [];
    let NextToken: string | undefined;
    let pages = 0;
    do {
      const out = await c.cloudwatch.send(new GetMetricDataCommand({ ...input, NextToken }));
      results.push(...(out.MetricDataResults ?? []));
      NextToken = out.NextToken;
      pages++;
    } while (NextToken);
    assert.equal(pages, 3);
    assert.deepEqual(
      results.map((r) => [r.Id, r.Timestamps?.length, r.StatusCode]),
      [
        ['a', 7, 'PartialData'],
        ['a', 3, 'Complete'],
        ['b', 4, 'PartialData'],
        ['b', 6, 'Complete'],
      ],
    );
    // Default scan order is newest first.
    const a = results
      .filter((r) => r.Id === 'a')
      .flatMap((r) => r.Timestamps ?? [])
      .map((t) => t.getTime());
    assert.deepEqual(
      a,
      [...a].sort((x, y) => y - x),
    );
  });

  test('seeded samples are aggregated per period and statistic; EndTime is exclusive; Unit filters', async () => {
    const metric: MetricId = {
      Namespace: 'App',
      MetricName: 'Latency',
      Dimensions: [{ Name: 'Api', Value: 'get' }],
    };
    const base = Math.floor(Date.now() / (5 * MINUTE)) * 5 * MINUTE - 60 * MINUTE;
    fake.cloudwatch.addDatapoints(REGION, metric, [
      { timestamp: base + 1000, value: 10, unit: 'Milliseconds' },
      { timestamp: base + 2000, value: 30, unit: 'Milliseconds' },
      { timestamp: base + 3000, value: 20, unit: 'Milliseconds' },
      { timestamp: base + 5 * MINUTE, value: 100, unit: 'Milliseconds' },
      { timestamp: base + 10 * MINUTE, value: 7, unit: 'Milliseconds' },
    ]);
    const stats = ['Sum', 'Average', 'Minimum', 'Maximum', 'SampleCount', 'p50'];
    const out = await c.cloudwatch.send(
      new GetMetricDataCommand({
        StartTime: new Date(base),
        EndTime: new Date(base + 10 * MINUTE),
        ScanBy: 'TimestampAscending',
        MetricDataQueries: [
          ...stats.map((s, i) => query(`s${i}`, metric, s, 300)),
          query('wrongunit', metric, 'Sum', 300, 'Count'),
          { ...query('hidden', metric, 'Sum', 300), ReturnData: false },
        ],
      }),
    );
    const byId = new Map(out.MetricDataResults?.map((r) => [r.Id, r]));
    assert.deepEqual(
      byId.get('s0')?.Timestamps?.map((t) => t.getTime()),
      [base, base + 5 * MINUTE],
    );
    assert.deepEqual(
      stats.map((_, i) => byId.get(`s${i}`)?.Values),
      [
        [60, 100],
        [20, 100],
        [10, 100],
        [30, 100],
        [3, 1],
        [20, 100],
      ],
    );
    assert.deepEqual(byId.get('wrongunit')?.Values, []);
    assert.equal(byId.has('hidden'), false);
    assert.equal(byId.get('s0')?.Label, 'Latency');
  });

  test('invalid requests get CloudWatch errors; throttling is Throttling (400)', async () => {
    const now = Date.now();
    const many = Array.from({ length: 501 }, (_, i) => query(`q${i}`, instances[0]!));
    const tooMany = await rejection(
      c.cloudwatch.send(
        new GetMetricDataCommand({
          StartTime: new Date(now - MINUTE),
          EndTime: new Date(now),
          MetricDataQueries: many,
        }),
      ),
    );
    assert.equal(tooMany.name, 'ValidationException');
    const badId = await rejection(
      c.cloudwatch.send(
        new GetMetricDataCommand({
          StartTime: new Date(now - MINUTE),
          EndTime: new Date(now),
          MetricDataQueries: [query('Bad-Id', instances[0]!)],
        }),
      ),
    );
    assert.equal(badId.name, 'InvalidParameterValueException');
    const badPeriod = await rejection(
      c.cloudwatch.send(
        new GetMetricDataCommand({
          StartTime: new Date(now - MINUTE),
          EndTime: new Date(now),
          MetricDataQueries: [query('a', instances[0]!, 'Sum', 90)],
        }),
      ),
    );
    assert.equal(badPeriod.name, 'InvalidParameterValueException');
    const backwards = await rejection(
      c.cloudwatch.send(
        new GetMetricDataCommand({
          StartTime: new Date(now),
          EndTime: new Date(now - MINUTE),
          MetricDataQueries: [query('a', instances[0]!)],
        }),
      ),
    );
    assert.equal(backwards.name, 'InvalidParameterValueException');

    fake.inject({ service: 'cloudwatch', operation: 'ListMetrics', kind: 'throttle', times: 1 });
    const throttled = await rejection(c.cloudwatch.send(new ListMetricsCommand({})));
    assert.equal(throttled.name, 'Throttling');
    assert.equal((throttled.$metadata as { httpStatusCode: number }).httpStatusCode, 400);
    fake.inject({ service: 'cloudwatch', operation: 'ListMetrics', kind: 'throttle', times: 1 });
    const retrying = clients(fake, { maxAttempts: 2 });
    assert.equal(
      (await retrying.cloudwatch.send(new ListMetricsCommand({ Namespace: 'AWS/Lambda' }))).$metadata
        .attempts,
      2,
    );
    retrying.destroy();
  });
});
