import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { startFakeAws, type FakeAws, type FakeRequest } from '../../../sandbox/fake-aws/index.js';
import { logsSchema } from '../../../src/config/schema.js';
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
});
