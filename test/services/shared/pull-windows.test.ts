import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startFakeAws, type FakeAws } from '../../../sandbox/fake-aws/index.js';
import { configureRateLimits } from '../../../src/aws/rate-limiter.js';
import { logsSchema, predefinedServiceSchemas } from '../../../src/config/schema.js';
import { createCloudTrailApiWorker } from '../../../src/services/cloudtrail-api/index.js';
import { LogsWorker } from '../../../src/services/cloudwatch-logs/index.js';
import { MetricsWorker } from '../../../src/services/metrics/index.js';
import type { ServiceWorker, WorkerContext } from '../../../src/services/service.js';
import { runScheduled, SimClock } from '../../helpers/clock.js';
import { createHarness, type Harness } from '../../helpers/harness.js';
import { cloudTrailSource, logsSource, metricsSource, type PullSource } from '../../helpers/pull-sources.js';

/**
 * Every pull service × request period × settle delay × start, on a simulated clock: the scheduler
 * runs every period with no real waiting, the worker is replaced (a restart) half way, and what
 * arrived is compared with what the fake AWS holds, by the time each event is stamped with.
 */

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const REGION = 'eu-west-1';
/** Events are stamped over this much time after the collector's first pull. */
const SPREAD_MS = 10 * MINUTE;

interface Service {
  name: string;
  source: PullSource;
  worker(ctx: WorkerContext, fields: Record<string, unknown>): ServiceWorker;
}

const services: Service[] = [
  {
    name: 'audit-events-all',
    source: cloudTrailSource,
    worker: (ctx, fields) =>
      createCloudTrailApiWorker(
        predefinedServiceSchemas['audit-events-all'].parse({
          regions: [REGION],
          types: ['audits_api'],
          ...fields,
        }),
        ctx,
      ),
  },
  {
    name: 'cwl_1',
    source: logsSource,
    worker: (ctx, fields) =>
      new LogsWorker(
        logsSchema.parse({ regions: [REGION], types: ['logs'], log_group: '/app', ...fields }),
        ctx,
      ),
  },
  {
    name: 'metrics-all',
    source: metricsSource,
    worker: (ctx, { settle_delay_seconds, ...fields }) =>
      new MetricsWorker(
        predefinedServiceSchemas['metrics-all'].parse({
          regions: [REGION],
          statistics: ['Sum'],
          delay_seconds: settle_delay_seconds,
          ...fields,
        }),
        ctx,
      ),
  },
];

let harness: Harness | undefined;
const h = () => harness!;

describe('pull services on a simulated clock: every event stamped after the start, once', () => {
  before(() => configureRateLimits({ enabled: false }));
  after(() => configureRateLimits({ enabled: true }));

  for (const service of services)
    for (const period of [5, 60, 600])
      for (const settle of [0, 60, 300, 900])
        for (const withStart of [false, true])
          test(`${service.name} period ${period} s, settle ${settle} s, ${withStart ? 'start_time in the past' : 'no start_time'}`, async () => {
            const fake: FakeAws = await startFakeAws();
            harness = createHarness({ endpoint: fake.endpoint });
            try {
              // Two hours back, off any second: the fake's retention and "recently active" use the real time.
              const firstPull = Date.now() - 2 * 3_600_000 + 123;
              const clock = new SimClock(firstPull);
              const start = withStart
                ? firstPull - 30 * MINUTE + 456
                : Math.floor(firstPull / SECOND) * SECOND;
              const stamp = (t: number) => Math.floor(t / service.source.stampMs) * service.source.stampMs;
              // The first stamp at or after the start; stamps before it must not arrive.
              const first = Math.ceil(start / service.source.stampMs) * service.source.stampMs;
              const early = [first - 5 * MINUTE, first - service.source.stampMs, first - 1]
                .map(stamp)
                .filter((t) => t < start);
              const late: number[] = [];
              for (
                let t = first;
                t <= firstPull + SPREAD_MS;
                t += Math.max(service.source.stampMs, 37 * SECOND)
              )
                late.push(t);
              late.push(stamp(firstPull + SPREAD_MS));
              service.source.prepare(fake, REGION);
              const expected = service.source.seed(fake, REGION, [...new Set(late)]);
              const unexpected = service.source.seed(fake, REGION, [...new Set(early)]);

              const fields = {
                request_period_in_seconds: period,
                settle_delay_seconds: settle,
                ...(withStart ? { start_time: new Date(start).toISOString() } : {}),
              };
              const ctx = () => h().context(service.name, REGION, { clock });
              // Late enough for the last event's window to close and be read.
              const end =
                firstPull + SPREAD_MS + settle * SECOND + 2 * period * SECOND + 2 * metricsSource.stampMs;
              const restart = firstPull + Math.floor((end - firstPull) / 2);
              await runScheduled(service.worker(ctx(), fields), clock, period * SECOND, restart, h().metrics);
              const beforeRestart = h().output.events.length;
              await runScheduled(service.worker(ctx(), fields), clock, period * SECOND, end, h().metrics);

              const got = h().output.events.map((e) => service.source.idOf(e.message));
              const counts = new Map<string, number>();
              for (const id of got) counts.set(id, (counts.get(id) ?? 0) + 1);
              const twice = [...counts].filter(([, n]) => n > 1).map(([id]) => id);
              assert.deepEqual(twice, [], 'no event twice');
              assert.deepEqual(
                unexpected.filter((id) => counts.has(id)),
                [],
                'none stamped before the start',
              );
              assert.deepEqual(
                expected.filter((id) => !counts.has(id)),
                [],
                'every event stamped after the start',
              );
              assert.equal(got.length, expected.length);
              assert.ok(beforeRestart < expected.length, 'the restart came before everything was delivered');
            } finally {
              await h().close();
              await fake.stop();
            }
          });
});
