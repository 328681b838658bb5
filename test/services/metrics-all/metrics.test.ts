import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  generatedValue,
  startFakeAws,
  type FakeAws,
  type MetricId,
} from '../../../sandbox/fake-aws/index.js';
import { predefinedServiceSchemas, type MetricsConfig } from '../../../src/config/schema.js';
import { MetricsWorker, type MetricsCheckpoint } from '../../../src/services/metrics-all/index.js';
import { stateKey } from '../../../src/state/store.js';
import { createHarness, type Harness, failAfterWrites } from '../../helpers/harness.js';
import { clockAt } from '../../helpers/clock.js';

const SERVICE = 'metrics-all';
const MINUTE = 60_000;
const NAMESPACES = ['AWS/EC2', 'AWS/EBS', 'AWS/RDS', 'AWS/Lambda', 'Custom/App'];

interface MetricEvent {
  timestamp: string;
  region: string;
  accountId: string;
  namespace: string;
  metricName: string;
  dimensions: Record<string, string>;
  period: number;
  statistics: Record<string, number>;
}

/** A config whose first pull at `now` reads one window: the last closed period (delay 120 s). */
function config(fields: Record<string, unknown> = {}, now = Date.now() - 2 * MINUTE): MetricsConfig {
  const firstWindow = Math.floor((now - 2 * MINUTE) / MINUTE) * MINUTE - MINUTE;
  return predefinedServiceSchemas[SERVICE].parse({
    regions: ['eu-west-1'],
    period_in_seconds: 60,
    delay_seconds: 120,
    start_time: new Date(firstWindow).toISOString(),
    ...fields,
  });
}

/** `count` generated metrics spread over the 5 namespaces. */
function seedMetrics(fake: FakeAws, region: string, count: number): MetricId[] {
  const metrics = Array.from({ length: count }, (_, i) => ({
    Namespace: NAMESPACES[i % NAMESPACES.length]!,
    MetricName: `Metric${i % 7}`,
    Dimensions: [{ Name: 'ResourceId', Value: `r-${i}` }],
  }));
  for (const m of metrics) fake.cloudwatch.addMetric(region, m, { generated: true });
  return metrics;
}

function parse(h: Harness): MetricEvent[] {
  return h.output.events.map((e) => JSON.parse(e.message) as MetricEvent);
}

/** Metric + timestamp of each event: a datapoint's identity. */
function datapointKeys(events: MetricEvent[]): string[] {
  return events.map((e) => `${e.namespace}|${e.metricName}|${e.dimensions.ResourceId}|${e.timestamp}`);
}

function metricId(e: MetricEvent): MetricId {
  return {
    Namespace: e.namespace,
    MetricName: e.metricName,
    Dimensions: [{ Name: 'ResourceId', Value: e.dimensions.ResourceId! }],
  };
}

describe('CloudWatch metrics (metrics-all) against the fake AWS', () => {
  let fake: FakeAws;
  before(async () => {
    fake = await startFakeAws();
  });
  after(async () => {
    await fake.stop();
  });

  test('1,200 metrics in 5 namespaces: ≤ 3 GetMetricData calls a window, every datapoint once', async () => {
    const region = 'eu-west-1';
    const h = createHarness({ endpoint: fake.endpoint });
    try {
      seedMetrics(fake, region, 1200);
      let clock = Date.now() - 2 * MINUTE;
      const worker = new MetricsWorker(
        config({ statistics: ['Average'] }, clock),
        h.context(SERVICE, region, { clock: clockAt(() => clock) }),
      );
      for (let window = 1; window <= 2; window++) {
        const since = Date.now();
        await worker.pull();
        const calls = fake.requestsFor({ service: 'cloudwatch', operation: 'GetMetricData', region, since });
        assert.equal(calls.length, 3, `window ${window}: ${calls.length} GetMetricData calls`);
        assert.equal(h.output.events.length, 1200 * window);
        clock += MINUTE;
      }
      const events = parse(h);
      assert.equal(new Set(datapointKeys(events)).size, 2400, 'no datapoint twice');
      assert.equal(new Set(events.map((e) => e.timestamp)).size, 2, 'two consecutive periods');
      assert.equal(new Set(events.map((e) => e.namespace)).size, 5);
      for (const e of events) {
        assert.deepEqual(e.statistics, { Average: generatedValue(metricId(e), 60, Date.parse(e.timestamp)) });
        assert.equal(e.region, region);
        assert.equal(e.accountId, '123456789012');
        assert.equal(e.period, 60);
      }
      assert.ok(h.output.events.every((e) => e.tag === 'cloud.aws.cloudwatch.metrics'));
      assert.equal(
        fake.requestsFor({ service: 'cloudwatch', operation: 'ListMetrics', region }).length,
        6,
        '3 pages a cycle',
      );
    } finally {
      await h.close();
    }
  });

  test('all five statistics: one event per datapoint holding every statistic, 500 queries a call', async () => {
    const region = 'eu-central-1';
    const h = createHarness({ endpoint: fake.endpoint });
    try {
      seedMetrics(fake, region, 1200);
      const now = Date.now() - 2 * MINUTE;
      const worker = new MetricsWorker(
        config({ tag: 'my.app.{region}.metrics' }, now),
        h.context(SERVICE, region, { clock: clockAt(() => now) }),
      );
      await worker.pull();
      const calls = fake.requestsFor({ service: 'cloudwatch', operation: 'GetMetricData', region });
      // 1,200 metrics × 5 statistics = 6,000 queries: 12 calls is the least the API allows.
      assert.equal(calls.length, 12);
      assert.ok(calls.every((c) => (c.params.MetricDataQueries as unknown[]).length === 500));
      const events = parse(h);
      assert.equal(events.length, 1200);
      assert.equal(new Set(datapointKeys(events)).size, 1200);
      for (const e of events) {
        const v = generatedValue(metricId(e), 60, Date.parse(e.timestamp));
        assert.deepEqual(e.statistics, { Average: v, Sum: v, Minimum: v, Maximum: v, SampleCount: 1 });
      }
      assert.ok(h.output.events.every((e) => e.tag === 'my.app.eu-central-1.metrics'));
    } finally {
      await h.close();
    }
  });

  test('after the output failed mid-window, a new worker resumes within the window: no gap, no duplicate', async () => {
    const region = 'us-west-2';
    const h = createHarness({ endpoint: fake.endpoint });
    try {
      seedMetrics(fake, region, 1200);
      const now = Date.now() - 2 * MINUTE;
      const cfg = config({}, now);
      const restore = failAfterWrites(h, 3);
      await new MetricsWorker(cfg, h.context(SERVICE, region, { clock: clockAt(() => now) })).pull();
      assert.equal(h.output.events.length, 300, 'three groups of 100 metrics went through');
      const saved = await h.state.get<MetricsCheckpoint>(stateKey('test', SERVICE, region));
      assert.ok(saved?.after !== undefined && saved.end !== undefined, 'the checkpoint is inside the window');

      restore();
      const since = Date.now();
      await new MetricsWorker(cfg, h.context(SERVICE, region, { clock: clockAt(() => now) })).pull();
      assert.equal(
        fake.requestsFor({ service: 'cloudwatch', operation: 'GetMetricData', region, since }).length,
        9,
        'only the rest is fetched',
      );
      const keys = datapointKeys(parse(h));
      assert.equal(keys.length, 1200, 'no duplicate');
      assert.equal(new Set(keys).size, 1200, 'no gap');
    } finally {
      await h.close();
    }
  });

  test('catching up after a stop reads every period since the checkpoint, in time slices', async () => {
    const region = 'ap-northeast-1';
    const h = createHarness({ endpoint: fake.endpoint });
    try {
      const metrics = seedMetrics(fake, region, 600);
      const now = Date.now() - 2 * MINUTE;
      const end = Math.floor((now - 2 * MINUTE) / MINUTE) * MINUTE;
      const from = end - 90 * MINUTE;
      await h.state.set(stateKey('test', SERVICE, region), { next: from } satisfies MetricsCheckpoint);
      await new MetricsWorker(
        config({ statistics: ['Maximum'] }),
        h.context(SERVICE, region, { clock: clockAt(() => now) }),
      ).pull();
      const events = parse(h);
      assert.equal(events.length, 600 * 90);
      assert.equal(new Set(datapointKeys(events)).size, 600 * 90, 'each period of each metric once');
      const times = new Set(events.map((e) => Date.parse(e.timestamp)));
      assert.equal(Math.min(...times), from);
      assert.equal(Math.max(...times), end - MINUTE);
      assert.equal(metrics.length, new Set(events.map((e) => e.dimensions.ResourceId)).size);
      assert.deepEqual(await h.state.get(stateKey('test', SERVICE, region)), { next: end });
    } finally {
      await h.close();
    }
  });

  test('throttling on half the calls still delivers every datapoint once; only the configured namespaces', async () => {
    const region = 'sa-east-1';
    const h = createHarness({ endpoint: fake.endpoint });
    const removers = ['ListMetrics', 'GetMetricData'].map((operation) =>
      fake.inject({ service: 'cloudwatch', operation, kind: 'throttle', probability: 0.5 }),
    );
    try {
      seedMetrics(fake, region, 1000);
      const now = Date.now() - 2 * MINUTE;
      const worker = new MetricsWorker(
        config({ namespaces: ['AWS/EC2', 'Custom/App'] }, now),
        h.context(SERVICE, region, { clock: clockAt(() => now) }),
      );
      await worker.pull();
      const events = parse(h);
      assert.equal(events.length, 400);
      assert.equal(new Set(datapointKeys(events)).size, 400);
      assert.deepEqual(new Set(events.map((e) => e.namespace)), new Set(['AWS/EC2', 'Custom/App']));
      assert.ok(fake.requestsFor({ service: 'cloudwatch', region }).some((r) => r.fault === 'throttle'));
    } finally {
      for (const remove of removers) remove();
      await h.close();
    }
  });
});
