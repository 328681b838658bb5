import assert from 'node:assert/strict';
import { test } from 'node:test';
import { stopChild } from '../../sandbox/demo/environment.js';
import { startFakeAws } from '../../sandbox/fake-aws/index.js';
import type { CliRun } from '../helpers/cli.js';
import { tempDir } from '../helpers/paths.js';
import { skipWithoutRedis, startRedis } from '../helpers/redis.js';
import {
  deliveredIds,
  heldTasks,
  mostPerSecond,
  startReplica,
  writeReplicaConfig,
} from '../helpers/replicas.js';
import { waitUntil } from '../helpers/wait.js';

const skip = skipWithoutRedis;

const REGIONS = ['eu-west-1', 'us-east-1'];
// Short, for a quick takeover; long enough that renewals are not late on a loaded test machine.
const TTL_S = 5;
const PERIOD_S = 1;
const SETTLE_S = 1;
/** The SQS service's visibility timeout (its minimum). */
const VISIBILITY_S = 10;
const TRAIL_EVENTS = 800;
const LOG_EVENTS = 200;
const MESSAGES = 300;
const LATER = 40;
/** Over a bound on the survivor's catch-up: a loaded test machine's delays. */
const SLACK_MS = 3_000;

test(
  'three replicas on one Redis: every event once while they live; after two are killed the survivor takes their tasks over',
  { skip },
  async (t) => {
    const tmp = tempDir('dac-replicas-');
    const fake = await startFakeAws();
    const redis = await startRedis();
    const runs: CliRun[] = [];
    try {
      const start = Date.now() - 3_600_000;
      // The backfill: 800 CloudTrail events in each region over the last hour, 200 log lines, 300 messages.
      const stamps = (n: number, from: number, to: number) =>
        Array.from({ length: n }, (_, i) => Math.floor(from + ((to - from) * i) / n));
      const trail = (region: string, times: number[]) =>
        fake.cloudtrail.addEvents(
          region,
          times.map((time) => ({ eventName: 'PutObject', eventSource: 's3.amazonaws.com', eventTime: time })),
        );
      let lines = 0;
      const logs = (times: number[]) => {
        const ids = times.map((time) => `line ${++lines} at ${time}`);
        fake.logs.putEvents(
          REGIONS[0]!,
          '/app',
          's',
          ids.map((message, i) => ({ timestamp: times[i]!, message })),
        );
        return ids;
      };
      let sent = 0;
      const messages = (n: number) =>
        Array.from({ length: n }, () => {
          const id = `evt-${++sent}`;
          fake.sqs.send(
            REGIONS[0]!,
            'events',
            JSON.stringify({ id, source: 'aws.ec2', 'detail-type': 'x', detail: {} }),
          );
          return id;
        });
      fake.logs.createLogGroup(REGIONS[0]!, '/app');
      fake.sqs.createQueue(REGIONS[0]!, 'events', { VisibilityTimeout: '5' });
      const backfill = [
        ...REGIONS.flatMap((r) => trail(r, stamps(TRAIL_EVENTS, start + 60_000, Date.now() - 60_000))),
        ...logs(stamps(LOG_EVENTS, start + 60_000, Date.now() - 60_000)),
        ...messages(MESSAGES),
      ];

      const window = `start_time: '${new Date(start).toISOString()}', settle_delay_seconds: ${SETTLE_S}, request_period_in_seconds: ${PERIOD_S}`;
      const config = writeReplicaConfig({
        dir: tmp.dir,
        endpoint: fake.endpoint,
        keyPrefix: 'e2e:',
        redisPort: redis.port,
        leaseTtlSeconds: TTL_S,
        services: [
          `      audit-events-all: { types: [audits_api], regions: [${REGIONS.join(', ')}], ${window} }`,
          `      cwl_1: { types: [logs], log_group: /app, regions: [${REGIONS[0]}], ${window} }`,
          `      service-events-all: { cloudwatch_sqs_queue_name: events, regions: [${REGIONS[0]}], visibility_timeout_seconds: ${VISIBILITY_S}, request_period_in_seconds: ${PERIOD_S} }`,
        ].join('\n'),
      });
      for (let i = 0; i < 3; i++) runs.push(startReplica(config, tmp.dir));
      const all = () => runs.flatMap((r) => deliveredIds(r));
      await waitUntil(
        () =>
          new Set(all()).size >= backfill.length &&
          fake.sqs.stats(REGIONS[0]!, 'events').deleted === MESSAGES,
        90_000,
        'the backfill delivered',
      );
      // The three tasks (CloudTrail × 2 regions, the log group) spread one each.
      await waitUntil(() => runs.every((r) => heldTasks(r).length === 1), 20_000, 'one task each');
      const delivered = all();
      t.diagnostic(`while all live: ${delivered.length} delivered, ${backfill.length} distinct expected`);
      assert.equal(delivered.length, backfill.length, 'every event exactly once while all three live');
      assert.deepEqual(new Set(delivered), new Set(backfill));
      for (const region of REGIONS) {
        const calls = fake.requestsFor({ service: 'cloudtrail', operation: 'LookupEvents', region });
        const most = mostPerSecond(calls.map((c) => c.time));
        t.diagnostic(`${region}: ${calls.length} LookupEvents calls, at most ${most} in one second`);
        assert.ok(most <= 2, `LookupEvents in ${region}: ${most} calls in one second`);
      }

      // Two die; new events of each kind arrive; the survivor takes every task over.
      const [survivor, ...killed] = runs;
      for (const k of killed) assert.equal(await stopChild(k.child, 'SIGKILL'), 'SIGKILL');
      const killedAt = Date.now();
      const laterByKind: Record<string, string[]> = {
        ...Object.fromEntries(
          REGIONS.map((r) => [`cloudtrail ${r}`, trail(r, stamps(LATER, Date.now() - 500, Date.now()))]),
        ),
        logs: logs(stamps(LATER, Date.now() - 500, Date.now())),
        sqs: messages(LATER),
      };
      const later = Object.values(laterByKind).flat();
      // When each kind was complete at the survivor, ms after the kill: the one that lags names the cause.
      const caughtUp: Record<string, number> = {};
      const survivorCaughtUp = () => {
        const got = new Set(deliveredIds(survivor!));
        for (const [kind, ids] of Object.entries(laterByKind))
          if (caughtUp[kind] === undefined && ids.every((id) => got.has(id)))
            caughtUp[kind] = Date.now() - killedAt;
        return Object.keys(caughtUp).length === Object.keys(laterByKind).length;
      };
      await waitUntil(survivorCaughtUp, 60_000, 'the new events delivered by the survivor').catch(
        (err: unknown) => {
          const got = new Set(deliveredIds(survivor!));
          t.diagnostic(
            `caught up: ${JSON.stringify(caughtUp)}; not delivered by the survivor (first 10): ${later
              .filter((id) => !got.has(id))
              .slice(0, 10)
              .join(' ')}`,
          );
          throw err;
        },
      );
      t.diagnostic(`each kind complete at the survivor, ms after the kill: ${JSON.stringify(caughtUp)}`);
      // A pull task moves in the survivor's lease round right after the killed holder's heartbeat
      // and lease expire (within a TTL), and is read at its next period. A message a killed replica
      // held, or that its last long poll took as it died (SQS cannot tell), returns after the
      // visibility timeout, and the survivor's receivers, polling again within a period of an empty
      // long poll, take it then. Slack for a loaded machine.
      for (const [kind, took] of Object.entries(caughtUp)) {
        const bound = ((kind === 'sqs' ? VISIBILITY_S : TTL_S) + PERIOD_S) * 1000;
        assert.ok(
          took <= bound + SLACK_MS,
          `${kind}: caught up ${took} ms after the kill, bound ${bound} ms`,
        );
      }
      assert.deepEqual(heldTasks(survivor!).length, 3);
      await waitUntil(
        () => fake.sqs.stats(REGIONS[0]!, 'events').deleted === MESSAGES + LATER,
        20_000,
        'SQS drained',
      );
      const stats = fake.sqs.stats(REGIONS[0]!, 'events');
      assert.equal(
        fake.sqs.messages(REGIONS[0]!, 'events').length,
        0,
        `the queue is empty (${JSON.stringify(stats)})`,
      );
      // Nothing was in flight when they died (all caught up): no event arrived twice.
      const everything = all();
      assert.equal(everything.length - new Set(everything).size, 0, 'duplicates');
      assert.equal(await stopChild(survivor!.child, 'SIGTERM'), 0, 'the survivor exits 0');
    } finally {
      for (const r of runs) await stopChild(r.child, 'SIGKILL');
      await redis.stop();
      await fake.stop();
      tmp.cleanup();
    }
  },
);
