import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  buildQueries,
  datapointMessage,
  DatapointMerger,
  metricsPerCall,
  toMetricRefs,
} from '../../../src/services/metrics-all/queries.js';

const T0 = Date.UTC(2026, 10, 20, 18, 0, 0);

describe('metric queries', () => {
  test('metrics are deduplicated and ordered by a key that ignores dimension order', () => {
    const refs = toMetricRefs([
      {
        Namespace: 'AWS/EC2',
        MetricName: 'CPUUtilization',
        Dimensions: [{ Name: 'InstanceId', Value: 'i-2' }],
      },
      {
        Namespace: 'AWS/EBS',
        MetricName: 'VolumeReadOps',
        Dimensions: [
          { Name: 'VolumeId', Value: 'v-1' },
          { Name: 'A', Value: 'x' },
        ],
      },
      {
        Namespace: 'AWS/EBS',
        MetricName: 'VolumeReadOps',
        Dimensions: [
          { Name: 'A', Value: 'x' },
          { Name: 'VolumeId', Value: 'v-1' },
        ],
      },
      {
        Namespace: 'AWS/EC2',
        MetricName: 'CPUUtilization',
        Dimensions: [{ Name: 'InstanceId', Value: 'i-1' }],
      },
      { MetricName: 'no namespace' },
    ]);
    assert.deepEqual(
      refs.map((r) => [r.namespace, r.dimensions.map((d) => d.Value).join(',')]),
      [
        ['AWS/EBS', 'v-1,x'],
        ['AWS/EC2', 'i-1'],
        ['AWS/EC2', 'i-2'],
      ],
    );
  });

  test('every statistic of a metric is one query, and a call holds whole metrics only', () => {
    assert.equal(metricsPerCall(1), 500);
    assert.equal(metricsPerCall(5), 100);
    assert.equal(metricsPerCall(3), 166);
    const [m] = toMetricRefs([{ Namespace: 'N', MetricName: 'M' }]);
    const queries = buildQueries([m!, m!], ['Average', 'Sum'], 60);
    assert.deepEqual(
      queries.map((q) => [q.Id, q.MetricStat?.Stat, q.MetricStat?.Period]),
      [
        ['m0_0', 'Average', 60],
        ['m0_1', 'Sum', 60],
        ['m1_0', 'Average', 60],
        ['m1_1', 'Sum', 60],
      ],
    );
  });

  test('results of every statistic and page merge into one datapoint per metric and time', () => {
    const group = toMetricRefs([
      { Namespace: 'N', MetricName: 'A' },
      { Namespace: 'N', MetricName: 'B', Dimensions: [{ Name: 'D', Value: 'v' }] },
    ]);
    const merger = new DatapointMerger(group, ['Average', 'Sum']);
    const at = (minutes: number) => new Date(T0 + minutes * 60_000);
    // Page 1: metric 0 complete for Average, cut (PartialData) for Sum.
    merger.add([
      { Id: 'm0_0', Timestamps: [at(0), at(1)], Values: [1, 2], StatusCode: 'Complete' },
      { Id: 'm0_1', Timestamps: [at(0)], Values: [10], StatusCode: 'PartialData' },
    ]);
    // Page 2: the rest, and a datapoint outside the window that must not come out.
    const failed = merger.add([
      { Id: 'm0_1', Timestamps: [at(1)], Values: [20], StatusCode: 'Complete' },
      { Id: 'm1_0', Timestamps: [at(1), at(2)], Values: [5, 6], StatusCode: 'Complete' },
      { Id: 'm1_1', Timestamps: [], Values: [], StatusCode: 'Forbidden' },
    ]);
    assert.deepEqual(
      failed.map((f) => [f.id, f.status, f.metric?.name]),
      [['m1_1', 'Forbidden', 'B']],
    );
    const points = [...merger.datapoints(T0, T0 + 2 * 60_000)];
    assert.deepEqual(
      points.map((p) => [p.metric.name, (p.timestamp - T0) / 60_000, p.values]),
      [
        ['A', 0, { Average: 1, Sum: 10 }],
        ['A', 1, { Average: 2, Sum: 20 }],
        ['B', 1, { Average: 5 }],
      ],
    );
  });

  test('a datapoint becomes one compact JSON event', () => {
    const [metric] = toMetricRefs([
      {
        Namespace: 'AWS/EC2',
        MetricName: 'CPUUtilization',
        Dimensions: [{ Name: 'InstanceId', Value: 'i-1' }],
      },
    ]);
    const message = datapointMessage(
      { metric: metric!, timestamp: T0, values: { Average: 12.5, Maximum: 40 } },
      60,
      'eu-west-1',
      '123456789012',
    );
    assert.ok(!message.includes('\n'));
    assert.deepEqual(JSON.parse(message), {
      timestamp: '2026-11-20T18:00:00.000Z',
      region: 'eu-west-1',
      accountId: '123456789012',
      namespace: 'AWS/EC2',
      metricName: 'CPUUtilization',
      dimensions: { InstanceId: 'i-1' },
      period: 60,
      statistics: { Average: 12.5, Maximum: 40 },
    });
  });
});
