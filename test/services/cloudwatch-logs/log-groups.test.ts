import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { startFakeAws, type FakeAws, type FakeRequest } from '../../../sandbox/fake-aws/index.js';
import { logsSchema } from '../../../src/config/schema.js';
import { CollectorError, ErrorCodes, isCollectorError } from '../../../src/core/errors.js';
import { LIMITER_WINDOW_MS } from '../../../src/aws/rate-limiter.js';
import { LogsWorker, readIntervalSeconds } from '../../../src/services/cloudwatch-logs/index.js';
import { runScheduled, SimClock } from '../../helpers/clock.js';
import {
  busiestWindow,
  capturingLogger,
  createHarness,
  requestsInFlight,
  type Harness,
} from '../../helpers/harness.js';

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const REGION = 'eu-west-1';

interface LogRecord {
  logGroup: string;
  logStream: string;
  eventId: string;
  message: string;
}

/** The fake AWS, a harness and a simulated clock that stamps the fake's request log and paces the limiters. */
async function simulated(start: number): Promise<{
  fake: FakeAws;
  h: Harness;
  clock: SimClock;
  logs: () => Record<string, unknown>[];
  close: () => Promise<void>;
}> {
  let inFlight = (): number => 0;
  const clock = new SimClock(start, () => inFlight() === 0);
  const fake = await startFakeAws({ now: () => clock.now() });
  const { logger, lines } = capturingLogger();
  const h = createHarness({ endpoint: fake.endpoint, clock, logger });
  inFlight = requestsInFlight(h.aws.logs(REGION));
  return {
    fake,
    h,
    clock,
    logs: lines,
    close: async () => {
      await h.close();
      await fake.stop();
    },
  };
}

/** `count` events in `group` over two streams, `stepMs` apart from `from` on. */
function seed(fake: FakeAws, group: string, count: number, from: number, stepMs = SECOND): void {
  fake.logs.createLogGroup(REGION, group);
  for (const stream of [0, 1]) {
    const events = [];
    for (let i = stream; i < count; i += 2)
      events.push({ timestamp: from + i * stepMs, message: `${group} event ${i}` });
    fake.logs.putEvents(REGION, group, `stream-${stream}`, events);
  }
}

const records = (h: Harness): LogRecord[] => h.output.events.map((e) => JSON.parse(e.message) as LogRecord);

function countByGroup(h: Harness): Map<string, number> {
  const counts = new Map<string, number>();
  for (const r of records(h)) counts.set(r.logGroup, (counts.get(r.logGroup) ?? 0) + 1);
  return counts;
}

const groupOf = (r: FakeRequest): string => String(r.params.logGroupName);

describe('CloudWatch Logs: many log groups from one entry, on a simulated clock', () => {
  test('300 groups under a prefix and a group created while running: every event once, 5 calls/s, fair turns', async () => {
    const t0 = Math.floor(Date.now() / SECOND) * SECOND;
    const { fake, h, clock, logs, close } = await simulated(t0);
    try {
      const names = Array.from({ length: 300 }, (_, i) => `/aws/lambda/fn-${String(i).padStart(3, '0')}`);
      for (const name of names) seed(fake, name, 20, t0 - 10 * MINUTE);
      // Two groups with a backlog of 400 pages each (a page read alone at 5 calls/s takes longer
      // than a round of the other groups).
      fake.logs.maxPageEvents = 100;
      const busy = ['/aws/lambda/busy-1', '/aws/lambda/busy-2'];
      for (const name of busy) seed(fake, name, 40_000, t0 - 14 * MINUTE, 10);
      for (const name of ['/aws/lambda-edge/other', '/aws/rds/db', '/app/aws/lambda/x'])
        seed(fake, name, 20, t0 - 10 * MINUTE);

      const config = logsSchema.parse({
        regions: [REGION],
        types: ['logs'],
        log_group_prefix: '/aws/lambda/',
        start_time: new Date(t0 - 15 * MINUTE).toISOString(),
        request_period_in_seconds: 300,
      });
      const worker = new LogsWorker(config, h.context('cwl_many', REGION, { clock }));
      // One pull (minutes long: 1,100 pages at 5 calls/s).
      await runScheduled(worker, clock, 5 * MINUTE, t0 + MINUTE, h.metrics);

      // A group created while running, with events after its creation.
      const created = clock.now();
      seed(fake, '/aws/lambda/new-fn', 20, created + SECOND);
      // Two more: the second comes after the groups are looked for again (every 5 minutes).
      await runScheduled(worker, clock, 5 * MINUTE, t0 + 11 * MINUTE, h.metrics);

      const counts = countByGroup(h);
      const expected = new Map([
        ...names.map((n) => [n, 20] as const),
        ...busy.map((n) => [n, 40_000] as const),
        ['/aws/lambda/new-fn', 20] as const,
      ]);
      assert.deepEqual(counts, expected, 'every event of the matching groups, none of the others');
      assert.equal(new Set(records(h).map((r) => r.eventId)).size, h.output.events.length, 'each once');

      const calls = fake.requestsFor({ service: 'logs', operation: 'FilterLogEvents', region: REGION });
      assert.ok(
        busiestWindow(
          calls.map((c) => c.time),
          SECOND,
        ) <= 5,
        'at most 5 FilterLogEvents a second',
      );

      const schedules = logs().filter((l) => l.event === 'log_groups_schedule');
      assert.deepEqual(
        schedules.map((l) => [l.groups, l.callsPerSecond, l.worstIntervalSeconds]),
        [
          [302, 5, readIntervalSeconds(302)],
          [303, 5, readIntervalSeconds(303)],
        ],
      );
      assert.ok(logs().some((l) => l.event === 'log_group_added' && l.logGroup === '/aws/lambda/new-fn'));

      // The first pull, while the busy groups have a backlog: every group is read within the
      // logged interval of the start, and a busy group waits no longer between its pages.
      const limit = Number(schedules[0]!.worstIntervalSeconds) * SECOND;
      const first = calls[0]!.time;
      for (const name of [...names, ...busy]) {
        const own = calls.filter((c) => groupOf(c) === name);
        assert.ok(own[0]!.time - first <= limit, `${name} first read after ${own[0]!.time - first} ms`);
        for (let i = 1; i < own.length; i++)
          if (own[i]!.params.nextToken !== undefined)
            assert.ok(own[i]!.time - own[i - 1]!.time <= limit, `${name} waited with a backlog`);
      }
      // Once the others are done, the busy groups get every turn: their 800 pages take one round
      // of the others and then the whole rate, not a round of the others each.
      const backlog = calls.filter((c) => busy.includes(groupOf(c))).slice(0, 800);
      assert.ok(backlog.at(-1)!.params.nextToken !== undefined);
      assert.ok(
        backlog.at(-1)!.time - first <= limit + Math.ceil(800 / 5 + 1) * LIMITER_WINDOW_MS,
        'the busy groups were read at the whole rate once the others were done',
      );
    } finally {
      await close();
    }
  });

  test('defaults: only regions, types and log_group_prefix read every event stamped after the start', async () => {
    const t0 = Math.floor(Date.now() / SECOND) * SECOND;
    const { fake, h, clock, close } = await simulated(t0);
    try {
      const config = logsSchema.parse({ regions: [REGION], types: ['logs'], log_group_prefix: '/svc/' });
      assert.equal(config.request_period_in_seconds, 60);
      assert.equal(config.settle_delay_seconds, 60);
      for (const name of ['/svc/a', '/svc/b']) seed(fake, name, 10, t0 + 30 * SECOND);
      seed(fake, '/svc/a-before-start', 0, t0);
      fake.logs.putEvents(REGION, '/svc/a-before-start', 's', [{ timestamp: t0 - SECOND, message: 'old' }]);
      const worker = new LogsWorker(config, h.context('cwl_defaults', REGION, { clock }));
      await runScheduled(worker, clock, 60 * SECOND, t0 + 4 * MINUTE, h.metrics);
      assert.deepEqual(
        countByGroup(h),
        new Map([
          ['/svc/a', 10],
          ['/svc/b', 10],
        ]),
      );
    } finally {
      await close();
    }
  });

  test('a lease lost mid-pull stops every group of the entry at once, with no warning per group', async () => {
    const t0 = Math.floor(Date.now() / SECOND) * SECOND;
    const { fake, h, clock, logs, close } = await simulated(t0);
    try {
      const names = Array.from({ length: 30 }, (_, i) => `/lease/g${String(i).padStart(2, '0')}`);
      for (const name of names) seed(fake, name, 10, t0 - 10 * MINUTE);
      const config = logsSchema.parse({
        regions: [REGION],
        types: ['logs'],
        log_group_prefix: '/lease/',
        start_time: new Date(t0 - 15 * MINUTE).toISOString(),
      });
      // Replicas: the entry's lease moves on after 3 batches.
      let batches = 0;
      const lease = {
        guard: async (key: string) => {
          if (++batches > 3) throw new CollectorError(ErrorCodes.LEASE_LOST, `task ${key}: taken`);
        },
        fence: () => undefined,
      };
      const worker = new LogsWorker(config, h.context('cwl_lease', REGION, { clock, lease }));
      await assert.rejects(worker.pull(), (err) => isCollectorError(err, ErrorCodes.LEASE_LOST));
      const calls = fake.requestsFor({ service: 'logs', operation: 'FilterLogEvents' }).length;
      // Those under way when the loss was found finish; no group starts another read.
      assert.ok(calls <= 3 + 5 + 1, `${calls} FilterLogEvents calls for 30 groups`);
      assert.equal(logs().filter((l) => l.event === 'log_group_read_failed').length, 0);
    } finally {
      await close();
    }
  });

  test('a deleted group is dropped with a log line, at the next refresh or when FilterLogEvents no longer finds it', async () => {
    const t0 = Math.floor(Date.now() / SECOND) * SECOND;
    const { fake, h, clock, logs, close } = await simulated(t0);
    try {
      for (const name of ['/svc/keep', '/svc/gone', '/svc/vanished']) seed(fake, name, 4, t0 - 2 * MINUTE);
      const worker = new LogsWorker(
        logsSchema.parse({
          regions: [REGION],
          types: ['logs'],
          log_group_pattern: '^/svc/(keep|gone|vanished)$',
          start_time: new Date(t0 - 3 * MINUTE).toISOString(),
        }),
        h.context('cwl_deleted', REGION, { clock }),
      );
      await worker.pull();
      assert.equal(h.output.events.length, 12);
      // Deleted before the refresh: the listing no longer has it.
      fake.logs.deleteLogGroup(REGION, '/svc/gone');
      clock.time = t0 + 5 * MINUTE;
      await worker.pull();
      // Deleted between refreshes: FilterLogEvents says it does not exist; the pull goes on.
      fake.logs.deleteLogGroup(REGION, '/svc/vanished');
      fake.logs.putEvents(REGION, '/svc/keep', 'late', [{ timestamp: t0 + 5 * MINUTE, message: 'late' }]);
      clock.time = t0 + 7 * MINUTE;
      await worker.pull();
      assert.deepEqual(records(h).at(-1)?.message, 'late');
      const dropped = logs().filter((l) => l.event === 'log_group_dropped');
      assert.deepEqual(
        dropped.map((l) => [l.logGroup, l.reason]),
        [
          ['/svc/gone', 'deleted'],
          ['/svc/vanished', 'not_found'],
        ],
      );
      assert.deepEqual(
        logs()
          .filter((l) => l.event === 'log_groups_schedule')
          .map((l) => l.groups),
        [3, 2],
      );
    } finally {
      await close();
    }
  });

  test('each group resumes from its own checkpoint after a restart; a log_group entry turned into a prefix resumes too', async () => {
    const t0 = Math.floor(Date.now() / SECOND) * SECOND;
    const { fake, h, clock, close } = await simulated(t0);
    try {
      for (const name of ['/svc/x', '/svc/y']) seed(fake, name, 6, t0 - 5 * MINUTE);
      const start_time = new Date(t0 - 6 * MINUTE).toISOString();
      const entry = (fields: Record<string, unknown>) =>
        new LogsWorker(
          logsSchema.parse({ regions: [REGION], types: ['logs'], start_time, ...fields }),
          h.context('cwl_restart', REGION, { clock }),
        );
      await entry({ log_group: '/svc/x' }).pull();
      assert.equal(h.output.events.length, 6);
      fake.logs.putEvents(REGION, '/svc/x', 'late', [{ timestamp: t0 - 30 * SECOND, message: 'x after' }]);
      clock.time = t0 + MINUTE;
      await entry({ log_group_prefix: '/svc/' }).pull();
      fake.logs.putEvents(REGION, '/svc/y', 'late', [{ timestamp: t0, message: 'y after' }]);
      clock.time = t0 + 2 * MINUTE;
      await entry({ log_group_prefix: '/svc/' }).pull();
      assert.deepEqual(
        countByGroup(h),
        new Map([
          ['/svc/x', 7],
          ['/svc/y', 7],
        ]),
      );
      assert.equal(new Set(records(h).map((r) => r.eventId)).size, 14, 'nothing read twice');
    } finally {
      await close();
    }
  });

  test('config: exactly one way to choose groups, one way to choose streams, a valid bounded pattern, a usable ARN', () => {
    const base = { regions: [REGION], types: ['logs'] };
    const problems = (fields: Record<string, unknown>) => {
      const result = logsSchema.safeParse({ ...base, ...fields });
      return result.success ? [] : result.error.issues.map((i) => [i.path.join('.'), i.message]);
    };
    const at = (fields: Record<string, unknown>) => problems(fields).map(([path]) => path);
    assert.deepEqual(at({}), ['log_group']);
    assert.match(
      problems({})[0]![1]!,
      /log_group, log_group_prefix, log_group_pattern, log_group_identifier/,
    );
    assert.deepEqual(at({ log_group: '/a', log_group_prefix: '/b' }), ['log_group_prefix']);
    assert.match(
      problems({ log_group: '/a', log_group_prefix: '/b' })[0]![1]!,
      /log_group and log_group_prefix/,
    );
    assert.deepEqual(at({ log_group_pattern: '(unclosed' }), ['log_group_pattern']);
    assert.deepEqual(at({ log_group_pattern: 'a'.repeat(1025) }), ['log_group_pattern']);
    assert.deepEqual(at({ log_group: '/a', log_stream_prefix: 'x', log_stream_names: ['y'] }), [
      'log_stream_names',
    ]);
    assert.match(
      problems({ log_group: '/a', log_stream_prefix: 'x', log_stream_names: ['y'] })[0]![1]!,
      /log_stream_prefix and log_stream_names/,
    );
    assert.deepEqual(
      at({ log_group: '/a', log_stream_names: Array.from({ length: 101 }, (_, i) => `s${i}`) }),
      ['log_stream_names'],
    );
    const arn = `arn:aws:logs:${REGION}:222222222222:log-group:/shared`;
    assert.deepEqual(at({ log_group_identifier: `${arn}:*` }), ['log_group_identifier']);
    assert.deepEqual(at({ log_group_identifier: arn, regions: [REGION, 'us-east-1'] }), ['regions']);
    assert.deepEqual(at({ log_group_identifier: arn }), []);
    const compiled = logsSchema.parse({ ...base, log_group_pattern: '^/app/' }).log_group_pattern;
    assert.ok(compiled instanceof RegExp && compiled.test('/app/web'), 'compiled once, at validation');
  });
});
