import type { FakeAws } from '../../sandbox/fake-aws/index.js';

/**
 * Events of the three pull services written into the fake AWS at chosen timestamps, and the id of
 * each as delivered, so tests can say which of them arrived. One log group `/app` and one metric
 * (datapoints stamped with the start of their 60 s period) per region.
 */
export interface PullSource {
  /** Timestamps are rounded down to this by the source (CloudTrail: seconds; metrics: the period). */
  stampMs: number;
  /** Creates what holds the events (once per fake AWS and region). */
  prepare(fake: FakeAws, region: string): void;
  /** Writes one event stamped at each of `times` (epoch ms); returns their ids, in order. */
  seed(fake: FakeAws, region: string, times: number[]): string[];
  /** The id of a delivered event, from its message. */
  idOf(message: string): string;
}

const METRIC_PERIOD_MS = 60_000;
const METRIC = {
  Namespace: 'Custom/App',
  MetricName: 'Requests',
  Dimensions: [{ Name: 'Host', Value: 'a' }],
};

export const cloudTrailSource: PullSource = {
  stampMs: 1000,
  prepare: () => undefined,
  seed: (fake, region, times) =>
    fake.cloudtrail.addEvents(
      region,
      times.map((t) => ({ eventName: 'PutObject', eventSource: 's3.amazonaws.com', eventTime: t })),
    ),
  idOf: (m) => (JSON.parse(m) as { eventID: string }).eventID,
};

let logLines = 0;
export const logsSource: PullSource = {
  stampMs: 1,
  prepare: (fake, region) => fake.logs.createLogGroup(region, '/app'),
  seed: (fake, region, times) => {
    const ids = times.map((t) => `line ${++logLines} at ${t}`);
    fake.logs.putEvents(
      region,
      '/app',
      's',
      times.map((t, i) => ({ timestamp: t, message: ids[i]! })),
    );
    return ids;
  },
  idOf: (m) => (JSON.parse(m) as { message: string }).message,
};

export const metricsSource: PullSource = {
  stampMs: METRIC_PERIOD_MS,
  prepare: () => undefined,
  seed: (fake, region, times) => {
    fake.cloudwatch.addDatapoints(
      region,
      METRIC,
      times.map((t) => ({ timestamp: t, value: 1 })),
    );
    return times.map((t) => new Date(Math.floor(t / METRIC_PERIOD_MS) * METRIC_PERIOD_MS).toISOString());
  },
  idOf: (m) => (JSON.parse(m) as { timestamp: string }).timestamp,
};
