import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Redis } from 'ioredis';
import { stopChild } from '../../sandbox/demo/environment.js';
import { startFakeAws } from '../../sandbox/fake-aws/index.js';
import type { CliRun } from '../helpers/cli.js';
import { tempDir } from '../helpers/paths.js';
import { REDIS_PASSWORD, skipWithoutRedis, startRedis } from '../helpers/redis.js';
import { deliveredIds, heldTasks, logEvents, startReplica, writeReplicaConfig } from '../helpers/replicas.js';
import { waitUntil } from '../helpers/wait.js';

const skip = skipWithoutRedis;

const REGION = 'eu-west-1';
const TASK = 'cwl_1/eu-west-1';
const CHECKPOINT = 'e2e:replicas/cwl_1/eu-west-1/%2Fapp';

test(
  'a replica paused (SIGSTOP) past its lease and resumed after another took over delivers no window and writes no checkpoint',
  { skip },
  async (t) => {
    const tmp = tempDir('dac-fencing-');
    const fake = await startFakeAws();
    const redis = await startRedis();
    const raw = new Redis({ host: '127.0.0.1', port: redis.port, password: REDIS_PASSWORD });
    const runs: CliRun[] = [];
    let watching = true;
    try {
      fake.logs.createLogGroup(REGION, '/app');
      let lines = 0;
      const logs = (n: number, at: number) => {
        const ids = Array.from({ length: n }, () => `line ${++lines}`);
        fake.logs.putEvents(
          REGION,
          '/app',
          's',
          ids.map((message, i) => ({ timestamp: at + i, message })),
        );
        return ids;
      };
      const first = logs(50, Date.now() - 60_000);
      const config = writeReplicaConfig({
        dir: tmp.dir,
        endpoint: fake.endpoint,
        keyPrefix: 'e2e:',
        redisPort: redis.port,
        leaseTtlSeconds: 2,
        services: `      cwl_1: { types: [logs], log_group: /app, regions: [${REGION}], start_time: '${new Date(Date.now() - 120_000).toISOString()}', settle_delay_seconds: 1, request_period_in_seconds: 1 }`,
      });

      const a = startReplica(config, tmp.dir);
      runs.push(a);
      await waitUntil(() => first.every((id) => deliveredIds(a).includes(id)), 30_000, 'A delivers the task');
      const b = startReplica(config, tmp.dir);
      runs.push(b);
      await b.waitForLog('"msg":"started ');

      // The checkpoint must never move back: sampled all along from here.
      const froms: number[] = [];
      const watch = (async () => {
        while (watching) {
          const saved = await raw.get(CHECKPOINT);
          if (saved) froms.push((JSON.parse(saved) as { value: { from: number } }).value.from);
          await new Promise((r) => setTimeout(r, 20));
        }
      })();

      a.child.kill('SIGSTOP');
      const aBefore = deliveredIds(a).length;
      const later = logs(50, Date.now());
      await waitUntil(() => heldTasks(b).includes(TASK), 20_000, 'B takes the task over');
      await waitUntil(
        () => later.every((id) => deliveredIds(b).includes(id)),
        20_000,
        'B delivers the new lines',
      );
      a.child.kill('SIGCONT');
      await waitUntil(() => logEvents(a, 'lease_lost').length > 0, 20_000, 'A notices');
      // A few of A's periods after it noticed: still nothing from it, and B goes on holding the task.
      const more = logs(10, Date.now());
      await waitUntil(() => more.every((id) => deliveredIds(b).includes(id)), 20_000, 'B delivers more');
      watching = false;
      await watch;

      const lost = logEvents(a, 'lease_lost')[0]!;
      t.diagnostic(`A: ${JSON.stringify({ reason: lost.reason, code: lost.code })}`);
      assert.equal(lost.code, 'LEASE_LOST');
      assert.equal(deliveredIds(a).length, aBefore, 'A delivered nothing after its pause');
      assert.deepEqual(heldTasks(b), [TASK]);
      assert.deepEqual(heldTasks(a), []);
      assert.ok(froms.length > 10, `checkpoint sampled (${froms.length})`);
      assert.deepEqual(
        froms.filter((f, i) => i > 0 && f < froms[i - 1]!),
        [],
        'the checkpoint never moved back',
      );
      // Each line once overall.
      const all = [...deliveredIds(a), ...deliveredIds(b)];
      assert.equal(all.length, new Set(all).size);
      for (const r of runs) assert.equal(await stopChild(r.child, 'SIGTERM'), 0);
    } finally {
      watching = false;
      for (const r of runs) {
        r.child.kill('SIGCONT');
        await stopChild(r.child, 'SIGKILL');
      }
      raw.disconnect();
      await redis.stop();
      await fake.stop();
      tmp.cleanup();
    }
  },
);
