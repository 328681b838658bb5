import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { startFakeAws, type FakeAws } from '../../../sandbox/fake-aws/index.js';
import { predefinedServiceSchemas, type AuditEventsConfig } from '../../../src/config/schema.js';
import type { CollectorEvent } from '../../../src/core/batch.js';
import { createCloudTrailApiWorker } from '../../../src/services/audit-events-all/audits-api.js';
import type { TimeCheckpoint } from '../../../src/services/shared/time-cursor.js';
import { stateKey } from '../../../src/state/store.js';
import { createLogger } from '../../../src/telemetry/logger.js';
import { createHarness, failAfterWrites, busiestWindow } from '../../helpers/harness.js';
import { clockAt } from '../../helpers/clock.js';
import { Secrets } from '../../../src/telemetry/secrets.js';

const SERVICE = 'audit-events-all';
const MINUTE = 60_000;
const SOURCES = ['ec2.amazonaws.com', 's3.amazonaws.com', 'iam.amazonaws.com'];
const NAMES = ['DescribeInstances', 'PutBucketPolicy', 'CreateUser', 'RunInstances'];

function config(fields: Record<string, unknown> = {}): AuditEventsConfig {
  return predefinedServiceSchemas[SERVICE].parse({
    regions: ['eu-west-1'],
    types: ['audits_api'],
    ...fields,
  });
}

/** `count` events, 2 per second (so seconds are shared), evenly over [from, to]. */
function seed(
  fake: FakeAws,
  region: string,
  count: number,
  from: number,
  to: number,
): { id: string; time: number; name: string; source: string }[] {
  const seconds = Math.ceil(count / 2);
  const step = Math.max(1000, Math.floor((to - from) / seconds / 1000) * 1000);
  const records = Array.from({ length: count }, (_, i) => ({
    eventName: NAMES[i % NAMES.length]!,
    eventSource: SOURCES[i % SOURCES.length]!,
    eventTime: Math.floor((from + Math.floor(i / 2) * step) / 1000) * 1000,
  }));
  const ids = fake.cloudtrail.addEvents(region, records);
  return records.map((r, i) => ({
    id: ids[i]!,
    time: r.eventTime,
    name: r.eventName,
    source: r.eventSource,
  }));
}

function eventIds(events: readonly CollectorEvent[]): string[] {
  return events.map((e) => (JSON.parse(e.message) as { eventID: string }).eventID);
}

describe('CloudTrail LookupEvents (audits_api) against the fake AWS', () => {
  let fake: FakeAws;
  before(async () => {
    fake = await startFakeAws();
  });
  after(async () => {
    await fake.stop();
  });

  test('a backfill reads every page, delivers oldest first, once, tagged, without dropped names', async () => {
    const region = 'eu-west-1';
    const h = createHarness({ endpoint: fake.endpoint });
    try {
      const now = Date.now();
      const seeded = seed(fake, region, 200, now - 40 * MINUTE, now - 3 * MINUTE);
      const cfg = config({
        start_time: new Date(now - 45 * MINUTE).toISOString(),
        auto_event_type: true,
        drop_event_names: ['DescribeInstances'],
      });
      const worker = createCloudTrailApiWorker(
        cfg,
        h.context(SERVICE, region, { clock: clockAt(() => now) }),
        { settleDelayMs: MINUTE },
      );
      await worker.pull();

      const expected = seeded.filter((e) => e.name !== 'DescribeInstances');
      const got = eventIds(h.output.events);
      assert.equal(got.length, expected.length);
      assert.deepEqual(new Set(got), new Set(expected.map((e) => e.id)), 'every event once');
      const times = h.output.events.map((e) =>
        Date.parse((JSON.parse(e.message) as { eventTime: string }).eventTime),
      );
      assert.deepEqual(
        times,
        [...times].sort((a, b) => a - b),
        'oldest first',
      );
      for (const e of h.output.events) {
        const record = JSON.parse(e.message) as { eventSource: string };
        assert.equal(e.tag, `cloud.aws.cloudtrail.${record.eventSource.split('.')[0]}`);
        assert.equal(e.message, JSON.stringify(JSON.parse(e.message)), 'the raw record, compact');
      }
      assert.equal(
        await h.metrics.total('collector_filtered_total', { service: SERVICE, reason: 'drop_event_names' }),
        seeded.length - expected.length,
      );
      const calls = fake.requestsFor({ service: 'cloudtrail', operation: 'LookupEvents', region });
      assert.ok(
        calls.some((c) => c.params.NextToken !== undefined),
        'several pages were read',
      );

      // Nothing new: nothing sent. New events once the settle delay passed them: only those.
      await worker.pull();
      assert.equal(h.output.events.length, expected.length);
      const fresh = seed(fake, region, 4, now - 30_000, now - 28_000);
      const later = createCloudTrailApiWorker(
        cfg,
        h.context(SERVICE, region, { clock: clockAt(() => now + 45_000) }),
        { settleDelayMs: MINUTE },
      );
      await later.pull();
      assert.deepEqual(
        new Set(eventIds(h.output.events.slice(expected.length))),
        new Set(fresh.filter((e) => e.name !== 'DescribeInstances').map((e) => e.id)),
      );
    } finally {
      await h.close();
    }
  });

  test('events of the boundary second: the saved ids are skipped, the others of that second delivered', async () => {
    const region = 'eu-central-1';
    const h = createHarness({ endpoint: fake.endpoint });
    try {
      const now = Date.now();
      const t = Math.floor((now - 10 * MINUTE) / 1000) * 1000;
      const ids = fake.cloudtrail.addEvents(region, [
        ...Array.from({ length: 4 }, () => ({
          eventName: 'CreateUser',
          eventSource: 'iam.amazonaws.com',
          eventTime: t,
        })),
        { eventName: 'CreateUser', eventSource: 'iam.amazonaws.com', eventTime: t - 1000 },
        { eventName: 'CreateUser', eventSource: 'iam.amazonaws.com', eventTime: t + 5000 },
      ]);
      const checkpoint: TimeCheckpoint = { from: t, seen: [ids[0]!, ids[1]!] };
      await h.state.set(stateKey('test', SERVICE, region, 'audits_api'), checkpoint);
      const worker = createCloudTrailApiWorker(
        config(),
        h.context(SERVICE, region, { clock: clockAt(() => now) }),
        { settleDelayMs: MINUTE },
      );
      await worker.pull();
      assert.deepEqual(new Set(eventIds(h.output.events)), new Set([ids[2], ids[3], ids[5]]));
      assert.equal(h.output.events[0]!.tag, 'cloud.aws.cloudwatch.events', 'the default tag');
    } finally {
      await h.close();
    }
  });

  test('after the output failed, a new worker on the same state resumes with no gap and no duplicate', async () => {
    const region = 'us-west-2';
    const h = createHarness({ endpoint: fake.endpoint });
    try {
      const now = Date.now();
      const seeded = seed(fake, region, 160, now - 40 * MINUTE, now - 3 * MINUTE);
      const cfg = config({ start_time: new Date(now - 45 * MINUTE).toISOString() });
      const restore = failAfterWrites(h, 1);
      await createCloudTrailApiWorker(cfg, h.context(SERVICE, region, { clock: clockAt(() => now) }), {
        settleDelayMs: MINUTE,
      }).pull();
      const first = h.output.events.length;
      assert.ok(first > 0 && first < seeded.length, `the first worker got part of the stream (${first})`);
      const saved = await h.state.get<TimeCheckpoint>(stateKey('test', SERVICE, region, 'audits_api'));
      assert.ok(saved && saved.from > now - 45 * MINUTE, 'the delivered part is checkpointed');

      restore();
      await createCloudTrailApiWorker(cfg, h.context(SERVICE, region, { clock: clockAt(() => now) }), {
        settleDelayMs: MINUTE,
      }).pull();
      const got = eventIds(h.output.events);
      assert.equal(got.length, seeded.length, 'no duplicate');
      assert.deepEqual(new Set(got), new Set(seeded.map((e) => e.id)), 'no gap');
    } finally {
      await h.close();
    }
  });

  test('throttling on half the calls still delivers everything once', async () => {
    const region = 'ap-southeast-2';
    const h = createHarness({ endpoint: fake.endpoint });
    const remove = fake.inject({
      service: 'cloudtrail',
      operation: 'LookupEvents',
      kind: 'throttle',
      probability: 0.5,
    });
    try {
      const now = Date.now();
      const seeded = seed(fake, region, 120, now - 20 * MINUTE, now - 3 * MINUTE);
      const cfg = config({ start_time: new Date(now - 25 * MINUTE).toISOString() });
      await createCloudTrailApiWorker(cfg, h.context(SERVICE, region, { clock: clockAt(() => now) }), {
        settleDelayMs: MINUTE,
      }).pull();
      const got = eventIds(h.output.events);
      assert.equal(got.length, seeded.length);
      assert.deepEqual(new Set(got), new Set(seeded.map((e) => e.id)));
      const calls = fake.requestsFor({ service: 'cloudtrail', operation: 'LookupEvents', region });
      assert.ok(
        calls.some((c) => c.fault === 'throttle'),
        'throttling really happened',
      );
      assert.ok(
        busiestWindow(
          calls.map((c) => c.time),
          1000,
        ) <= 2,
        "the SDK's retries are paced too",
      );
    } finally {
      remove();
      await h.close();
    }
  });

  test('workers on the same account and region share 2 LookupEvents a second', async () => {
    const region = 'sa-east-1';
    const h = createHarness({ endpoint: fake.endpoint });
    fake.cloudtrail.setRateLimit(2);
    try {
      const now = Date.now();
      seed(fake, region, 120, now - 20 * MINUTE, now - 3 * MINUTE);
      const cfg = config({ start_time: new Date(now - 25 * MINUTE).toISOString() });
      // Two inputs reading the same account and region, at the same time.
      const workers = ['a', 'b'].map((inputId) =>
        createCloudTrailApiWorker(cfg, h.context(SERVICE, region, { inputId, clock: clockAt(() => now) }), {
          settleDelayMs: MINUTE,
        }),
      );
      await Promise.all(workers.map((w) => w.pull()));
      assert.equal(h.output.events.length, 240);
      const calls = fake.requestsFor({ service: 'cloudtrail', operation: 'LookupEvents', region });
      assert.ok(calls.length >= 6, `${calls.length} calls`);
      assert.ok(
        busiestWindow(
          calls.map((c) => c.time),
          1000,
        ) <= 2,
        'never more than 2 requests in any second',
      );
      assert.equal(calls.filter((c) => c.status !== 200).length, 0, 'so CloudTrail never throttled them');
    } finally {
      fake.cloudtrail.setRateLimit(undefined);
      await h.close();
    }
  });

  test('a start_time beyond the 90 days LookupEvents keeps is clamped, with a warning', async () => {
    const region = 'ca-central-1';
    const lines: string[] = [];
    const logger = createLogger({
      secrets: new Secrets(),
      level: 'warn',
      destination: new Writable({
        write(chunk: Buffer, _enc, done) {
          lines.push(chunk.toString());
          done();
        },
      }),
    });
    const h = createHarness({ endpoint: fake.endpoint, logger });
    try {
      const now = Date.now();
      const cfg = config({ start_time: new Date(now - 100 * 86_400_000).toISOString() });
      await createCloudTrailApiWorker(cfg, h.context(SERVICE, region, { clock: clockAt(() => now) }), {
        settleDelayMs: MINUTE,
      }).pull();
      const clamped = lines
        .map((l) => JSON.parse(l) as Record<string, unknown>)
        .find((l) => l.event === 'start_clamped');
      assert.ok(clamped, lines.join(''));
      // 90 days, less a margin of 10 minutes, whole seconds.
      const from = Math.ceil((now - 90 * 86_400_000 + 600_000) / 1000) * 1000;
      assert.equal(clamped.from, new Date(from).toISOString());
      const calls = fake.requestsFor({ service: 'cloudtrail', operation: 'LookupEvents', region });
      const oldest = Math.min(...calls.map((c) => Number(c.params.StartTime) * 1000));
      assert.ok(oldest >= now - 90 * 86_400_000, 'no query before the 90 days');
      const saved = await h.state.get<TimeCheckpoint>(stateKey('test', SERVICE, region, 'audits_api'));
      assert.equal(saved?.from, Math.floor((now - MINUTE) / 1000) * 1000, 'the whole range was walked');
    } finally {
      await h.close();
    }
  });
});
