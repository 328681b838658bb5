import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startFakeAws, type FakeAws } from '../../../sandbox/fake-aws/index.js';
import { logsSchema, type LogsConfig } from '../../../src/config/schema.js';
import { ErrorCodes, isCollectorError } from '../../../src/core/errors.js';
import type { TimeCheckpoint } from '../../../src/services/shared/time-cursor.js';
import { LogsWorker } from '../../../src/services/cloudwatch-logs/index.js';
import { FileStateStore } from '../../../src/state/file-store.js';
import { stateKey } from '../../../src/state/store.js';
import { writeFileSync } from 'node:fs';
import { createHarness, type Harness, failAfterWrites, busiestWindow } from '../../helpers/harness.js';
import { clockAt } from '../../helpers/clock.js';

const MINUTE = 60_000;

interface LogRecord {
  logGroup: string;
  logStream: string;
  timestamp: number;
  ingestionTime: number;
  eventId: string;
  message: string;
}

function config(logGroup: string, fields: Record<string, unknown> = {}): LogsConfig {
  return logsSchema.parse({ regions: ['eu-west-1'], types: ['logs'], log_group: logGroup, ...fields });
}

function parse(h: Harness): LogRecord[] {
  return h.output.events.map((e) => JSON.parse(e.message) as LogRecord);
}

/** `count` events over 3 streams, from `from` on, one millisecond apart (`sameAt` of them share one timestamp). */
function seedLogs(fake: FakeAws, region: string, group: string, count: number, from: number): string[] {
  fake.logs.createLogGroup(region, group);
  const messages: string[] = [];
  for (let s = 0; s < 3; s++) {
    const events = [];
    for (let i = s; i < count; i += 3) {
      const message = `line ${i}\nwith "quotes" and a second line`;
      events.push({ timestamp: from + i, message });
      messages.push(message);
    }
    fake.logs.putEvents(region, group, `stream-${s}`, events);
  }
  return messages;
}

describe('CloudWatch Logs (types: [logs]) against the fake AWS', () => {
  let fake: FakeAws;
  before(async () => {
    fake = await startFakeAws();
  });
  after(async () => {
    await fake.stop();
  });

  test('every stream of the group, over several pages, oldest first, once, as compact JSON', async () => {
    const region = 'eu-west-1';
    const h = createHarness({ endpoint: fake.endpoint });
    try {
      const now = Date.now();
      const messages = seedLogs(fake, region, '/app/web', 25_000, now - 20 * MINUTE);
      const cfg = config('/app/web', { start_time: new Date(now - 30 * MINUTE).toISOString() });
      await new LogsWorker(cfg, h.context('cwl_1', region, { clock: clockAt(() => now) })).pull();
      const records = parse(h);
      assert.equal(records.length, 25_000);
      assert.equal(new Set(records.map((r) => r.eventId)).size, 25_000, 'no event twice');
      assert.deepEqual(new Set(records.map((r) => r.message)), new Set(messages));
      assert.deepEqual(
        new Set(records.map((r) => r.logStream)),
        new Set(['stream-0', 'stream-1', 'stream-2']),
      );
      assert.ok(
        records.every((r, i) => i === 0 || r.timestamp >= records[i - 1]!.timestamp),
        'oldest first',
      );
      assert.ok(records.every((r) => r.logGroup === '/app/web' && r.ingestionTime > 0));
      assert.ok(
        h.output.events.every((e) => !e.message.includes('\n') && e.tag === 'cloud.aws.cloudwatch.logs'),
      );
      assert.equal(
        fake.requestsFor({ service: 'logs', operation: 'FilterLogEvents', region }).length,
        3,
        'three pages',
      );

      // The next pull reads only what came after.
      fake.logs.putEvents(region, '/app/web', 'stream-0', [
        { timestamp: now - 50_000, message: 'late line' },
      ]);
      await new LogsWorker(cfg, h.context('cwl_1', region, { clock: clockAt(() => now + 20_000) })).pull();
      assert.deepEqual(
        parse(h)
          .slice(25_000)
          .map((r) => r.message),
        ['late line'],
      );
    } finally {
      await h.close();
    }
  });

  test('a restart inside a timestamp shared across pages resumes with no gap and no duplicate', async () => {
    const region = 'eu-central-1';
    const h = createHarness({ endpoint: fake.endpoint });
    try {
      const now = Date.now();
      const t = now - 10 * MINUTE;
      fake.logs.createLogGroup(region, '/app/batch');
      // Page 1 (10,000 events) ends 10 events into the 30 that share timestamp t.
      fake.logs.putEvents(
        region,
        '/app/batch',
        'a',
        Array.from({ length: 9_990 }, (_, i) => ({ timestamp: t - 10_000 + i, message: `before ${i}` })),
      );
      fake.logs.putEvents(
        region,
        '/app/batch',
        'b',
        Array.from({ length: 30 }, (_, i) => ({ timestamp: t, message: `same ${i}` })),
      );
      fake.logs.putEvents(
        region,
        '/app/batch',
        'a',
        Array.from({ length: 5_000 }, (_, i) => ({ timestamp: t + 1 + i, message: `after ${i}` })),
      );
      const cfg = config('/app/batch', {
        start_time: new Date(t - 20_000).toISOString(),
        tag: 'my.app.{account_id}.logs',
      });

      const restore = failAfterWrites(h, 1);
      await new LogsWorker(cfg, h.context('cwl_2', region, { clock: clockAt(() => now) })).pull();
      assert.equal(h.output.events.length, 10_000);
      const saved = await h.state.get<TimeCheckpoint>(stateKey('test', 'cwl_2', region, '/app/batch'));
      assert.equal(saved?.from, t);
      assert.equal(saved?.seen.length, 10, 'the ids delivered at the boundary timestamp are kept');

      restore();
      await new LogsWorker(cfg, h.context('cwl_2', region, { clock: clockAt(() => now) })).pull();
      const records = parse(h);
      assert.equal(records.length, 15_020, 'no duplicate');
      assert.equal(new Set(records.map((r) => r.eventId)).size, 15_020, 'no gap');
      assert.ok(h.output.events.every((e) => e.tag === 'my.app.123456789012.logs'));
    } finally {
      await h.close();
    }
  });

  test('throttling on half the calls still delivers everything once', async () => {
    const region = 'us-west-2';
    const h = createHarness({ endpoint: fake.endpoint });
    const remove = fake.inject({
      service: 'logs',
      operation: 'FilterLogEvents',
      kind: 'throttle',
      probability: 0.5,
    });
    try {
      const now = Date.now();
      seedLogs(fake, region, '/app/api', 30_000, now - 10 * MINUTE);
      const cfg = config('/app/api', { start_time: new Date(now - 15 * MINUTE).toISOString() });
      await new LogsWorker(cfg, h.context('cwl_3', region, { clock: clockAt(() => now) })).pull();
      const records = parse(h);
      assert.equal(records.length, 30_000);
      assert.equal(new Set(records.map((r) => r.eventId)).size, 30_000);
      assert.ok(fake.requestsFor({ service: 'logs', region }).some((r) => r.fault === 'throttle'));
    } finally {
      remove();
      await h.close();
    }
  });

  test('log groups in one account and region share 5 FilterLogEvents a second', async () => {
    const region = 'ap-southeast-2';
    const h = createHarness({ endpoint: fake.endpoint });
    try {
      const now = Date.now();
      const workers = Array.from({ length: 12 }, (_, i) => {
        seedLogs(fake, region, `/group/${i}`, 3, now - 5 * MINUTE);
        const cfg = config(`/group/${i}`, { start_time: new Date(now - 6 * MINUTE).toISOString() });
        return new LogsWorker(cfg, h.context(`cwl_${i}`, region, { clock: clockAt(() => now) }));
      });
      await Promise.all(workers.map((w) => w.pull()));
      assert.equal(h.output.events.length, 36);
      const calls = fake.requestsFor({ service: 'logs', operation: 'FilterLogEvents', region });
      assert.equal(calls.length, 12);
      assert.ok(
        busiestWindow(
          calls.map((c) => c.time),
          1000,
        ) <= 5,
      );
    } finally {
      await h.close();
    }
  });

  test('log_stream_prefix and log_stream_names read only those streams (FilterLogEvents parameters)', async () => {
    const region = 'eu-north-1';
    const h = createHarness({ endpoint: fake.endpoint });
    try {
      const now = Date.now();
      fake.logs.createLogGroup(region, '/app/streams');
      for (const stream of ['web-1', 'web-2', 'worker-1'])
        fake.logs.putEvents(
          region,
          '/app/streams',
          stream,
          Array.from({ length: 4 }, (_, i) => ({
            timestamp: now - 5 * MINUTE + i,
            message: `${stream} ${i}`,
          })),
        );
      const start_time = new Date(now - 6 * MINUTE).toISOString();
      const streamsRead = async (service: string, fields: Record<string, unknown>): Promise<string[]> => {
        const before = h.output.events.length;
        await new LogsWorker(
          config('/app/streams', { start_time, ...fields }),
          h.context(service, region, { clock: clockAt(() => now) }),
        ).pull();
        return [
          ...new Set(
            parse(h)
              .slice(before)
              .map((r) => r.logStream),
          ),
        ].sort();
      };
      assert.deepEqual(await streamsRead('cwl_prefix', { log_stream_prefix: 'web-' }), ['web-1', 'web-2']);
      assert.deepEqual(await streamsRead('cwl_names', { log_stream_names: ['worker-1', 'web-2'] }), [
        'web-2',
        'worker-1',
      ]);
      assert.equal(h.output.events.length, 16);
      const params = fake
        .requestsFor({ service: 'logs', operation: 'FilterLogEvents', region })
        .map((r) => r.params);
      assert.deepEqual(
        params.map((p) => [p.logStreamNamePrefix, p.logStreamNames]),
        [
          ['web-', undefined],
          [undefined, ['worker-1', 'web-2']],
        ],
      );
    } finally {
      await h.close();
    }
  });

  test("log_group_identifier reads a linked source account's group by ARN; unlinked, it is LOG_GROUP_NOT_FOUND", async () => {
    const region = 'us-east-2';
    const source = '222222222222';
    const h = createHarness({ endpoint: fake.endpoint });
    try {
      const now = Date.now();
      fake.logs.createLogGroup(region, '/shared/app', source);
      fake.logs.putEvents(
        region,
        '/shared/app',
        's',
        Array.from({ length: 5 }, (_, i) => ({ timestamp: now - 5 * MINUTE + i, message: `shared ${i}` })),
        source,
      );
      const arn = `arn:aws:logs:${region}:${source}:log-group:/shared/app`;
      const worker = new LogsWorker(
        logsSchema.parse({
          regions: [region],
          types: ['logs'],
          log_group_identifier: arn,
          start_time: new Date(now - 6 * MINUTE).toISOString(),
        }),
        h.context('cwl_linked', region, { clock: clockAt(() => now) }),
      );
      await assert.rejects(
        worker.pull(),
        (err: unknown) =>
          isCollectorError(err, ErrorCodes.LOG_GROUP_NOT_FOUND) &&
          err.details.key === 'log_group_identifier' &&
          err.details.logGroup === arn,
      );
      fake.logs.linkSourceAccount('123456789012', source);
      await worker.pull();
      assert.deepEqual(
        parse(h).map((r) => [r.logGroup, r.message]),
        Array.from({ length: 5 }, (_, i) => [arn, `shared ${i}`]),
      );
      const calls = fake.requestsFor({ service: 'logs', operation: 'FilterLogEvents', region });
      assert.ok(
        calls.every((c) => c.params.logGroupIdentifier === arn && c.params.logGroupName === undefined),
      );
      assert.ok(
        calls.every((c) => c.accountId === '123456789012'),
        'read from the monitoring account',
      );
      const saved = await h.state.get<TimeCheckpoint>(stateKey('test', 'cwl_linked', region, arn));
      assert.ok(saved && saved.from > now - 5 * MINUTE, 'its checkpoint is its own');
    } finally {
      await h.close();
    }
  });

  test('a corrupt state file fails that worker every pull with STATE_UNREADABLE; it never starts over', async () => {
    const region = 'sa-east-1';
    const h = createHarness({ endpoint: fake.endpoint });
    try {
      const now = Date.now();
      seedLogs(fake, region, '/corrupt', 5, now - 5 * MINUTE);
      const key = stateKey('test', 'cwl_corrupt', region, '/corrupt');
      writeFileSync((h.state as FileStateStore).fileFor(key), '{"value": {"t": 1');
      const worker = new LogsWorker(
        config('/corrupt', { start_time: new Date(now - 6 * MINUTE).toISOString() }),
        h.context('cwl_corrupt', region, { clock: clockAt(() => now) }),
      );
      // The scheduler retries it every period (the other workers run on): the file can be mended in place.
      for (let pull = 0; pull < 2; pull++)
        await assert.rejects(worker.pull(), (err: unknown) =>
          isCollectorError(err, ErrorCodes.STATE_UNREADABLE),
        );
      assert.equal(h.output.events.length, 0, 'nothing read from the start instead');
      await h.state.set(key, { from: now - 6 * MINUTE, seen: [] } satisfies TimeCheckpoint);
      await worker.pull();
      assert.equal(h.output.events.length, 5);
    } finally {
      await h.close();
    }
  });

  test('a missing log group is LOG_GROUP_NOT_FOUND naming it and its region, for that worker only', async () => {
    const region = 'ca-central-1';
    const h = createHarness({ endpoint: fake.endpoint });
    try {
      const now = Date.now();
      seedLogs(fake, region, '/exists', 5, now - 5 * MINUTE);
      const missing = new LogsWorker(
        config('/does/not/exist', { start_time: new Date(now - 6 * MINUTE).toISOString() }),
        h.context('cwl_missing', region, { clock: clockAt(() => now) }),
      );
      const present = new LogsWorker(
        config('/exists', { start_time: new Date(now - 6 * MINUTE).toISOString() }),
        h.context('cwl_ok', region, { clock: clockAt(() => now) }),
      );
      const [failed, ok] = await Promise.allSettled([missing.pull(), present.pull()]);
      assert.equal(ok.status, 'fulfilled');
      assert.equal(failed.status, 'rejected');
      const err = (failed as PromiseRejectedResult).reason as unknown;
      assert.ok(isCollectorError(err, ErrorCodes.LOG_GROUP_NOT_FOUND), String(err));
      assert.match(err.message, /\/does\/not\/exist/);
      assert.match(err.message, /ca-central-1/);
      assert.equal(h.output.events.length, 5);
    } finally {
      await h.close();
    }
  });
});
