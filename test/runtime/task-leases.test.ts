import { Secrets } from '../../src/telemetry/secrets.js';
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Redis } from 'ioredis';
import { ErrorCodes, isCollectorError } from '../../src/core/errors.js';
import { TaskLeases } from '../../src/runtime/task-leases.js';
import type { PullTask, ServiceWorker } from '../../src/services/definition.js';
import { RedisLeases } from '../../src/state/leases.js';
import { RedisStateStore } from '../../src/state/redis-store.js';
import { stateKey } from '../../src/state/store.js';
import { Metrics } from '../../src/telemetry/metrics.js';
import { capturingLogger } from '../helpers/harness.js';
import { SimClock } from '../helpers/clock.js';
import { REDIS_PASSWORD, skipWithoutRedis, startRedis } from '../helpers/redis.js';

const skip = skipWithoutRedis;

/** Long in Redis (nothing expires by itself during a test): expiry is played by deleting the key. */
const TTL_MS = 60_000;
const PREFIX = 'dac-test:';

interface Replica {
  leases: TaskLeases;
  store: RedisStateStore;
  clock: SimClock;
  metrics: Metrics;
  log: ReturnType<typeof capturingLogger>;
  workers: ServiceWorker[];
  /** Keys of the tasks whose pull ran, in order. */
  pulled: string[];
  forgotten: string[];
}

describe('TaskLeases on a real redis-server', { skip }, () => {
  let redis: Awaited<ReturnType<typeof startRedis>>;
  let raw: Redis;
  const replicas: Replica[] = [];
  before(async () => {
    redis = await startRedis();
    raw = new Redis({ host: '127.0.0.1', port: redis.port, password: REDIS_PASSWORD });
  });
  after(async () => {
    for (const r of replicas) await r.store.close();
    raw.disconnect();
    await redis.stop();
  });

  function replica(
    id: string,
    tasks: string[],
    pull?: (key: string, r: Replica) => Promise<void>,
    ttlMs = TTL_MS,
    clock = new SimClock(1_700_000_000_000),
  ): Replica {
    const store = new RedisStateStore(
      {
        host: '127.0.0.1',
        port: redis.port,
        password: REDIS_PASSWORD,
        db: 0,
        tls: false,
        key_prefix: PREFIX,
      },
      new Secrets(),
    );
    const metrics = new Metrics();
    const log = capturingLogger();
    const leases = new TaskLeases({
      store,
      leases: store.leases(id, ttlMs),
      clock,
      logger: log.logger,
      metrics,
    });
    const r: Replica = { leases, store, clock, metrics, log, workers: [], pulled: [], forgotten: [] };
    for (const key of tasks) {
      const task: PullTask = { key, forget: () => void r.forgotten.push(key) };
      const worker: ServiceWorker = {
        name: `w/${key}`,
        pull: async () => {
          r.pulled.push(key);
          await pull?.(key, r);
        },
        stop: async () => undefined,
      };
      r.workers.push(leases.lease(worker, task, { service: 'svc', region: key }));
    }
    replicas.push(r);
    return r;
  }

  const held = (r: Replica): string[] =>
    r.log
      .lines()
      .filter((l) => l.event === 'lease_taken' || l.event === 'lease_released' || l.event === 'lease_lost')
      .reduce<string[]>(
        (keys, l) =>
          l.event === 'lease_taken'
            ? [...keys, l.checkpointKey as string]
            : keys.filter((k) => k !== l.checkpointKey),
        [],
      )
      .sort();

  /** A replica's heartbeat expires: it leaves every group's set of live replicas. */
  async function expireBeat(id: string): Promise<void> {
    for (const key of await raw.keys(`${PREFIX}replicas:*`)) await raw.zrem(key, id);
  }

  async function pullAll(r: Replica): Promise<void> {
    for (const w of r.workers) await w.pull();
  }

  test('a replica takes its fair share; a joining one gets tasks handed over; a dead one’s are taken over', async () => {
    await raw.flushdb();
    const tasks = ['t0', 't1', 't2', 't3', 't4'].map((t) => stateKey('in', 'svc', t));
    const a = replica('a', tasks);
    await a.leases.round();
    assert.deepEqual(held(a), [...tasks].sort(), 'alone: every task');
    const b = replica('b', tasks);
    const c = replica('c', tasks);
    await b.leases.round();
    await c.leases.round();
    assert.deepEqual([...held(b), ...held(c)], [], 'nothing free yet');
    // A sees 3 live replicas: keeps ceil(5/3) = 2 and hands the rest over.
    await a.leases.round();
    assert.equal(held(a).length, 2);
    assert.equal(
      a.log.lines().filter((l) => l.event === 'lease_released' && l.reason === 'rebalance').length,
      3,
    );
    // Handed-over tasks stay closed a little (the APIs' per-second quotas), then are free.
    for (const t of tasks) if (!held(a).includes(t)) await raw.pexpire(`${PREFIX}lease:${t}`, 1);
    await new Promise((r) => setTimeout(r, 5));
    await b.leases.round();
    await c.leases.round();
    assert.deepEqual([held(a).length, held(b).length, held(c).length], [2, 2, 1]);
    assert.deepEqual([...held(a), ...held(b), ...held(c)].sort(), [...tasks].sort(), 'each task once');
    assert.equal(
      (await b.metrics.registry.getSingleMetric('collector_replicas_live')?.get())?.values[0]?.value,
      3,
    );

    // Pulls run only where the lease is held.
    for (const r of [a, b, c]) await pullAll(r);
    assert.deepEqual([...a.pulled, ...b.pulled, ...c.pulled].sort(), [...tasks].sort());

    // A dies: its heartbeat and leases expire; B and C take its tasks over (share ceil(5/2) = 3).
    await expireBeat('a');
    await raw.del(...held(a).map((t) => `${PREFIX}lease:${t}`));
    await b.leases.round();
    await c.leases.round();
    assert.deepEqual([held(b).length, held(c).length].sort(), [2, 3]);
    assert.deepEqual([...held(b), ...held(c)].sort(), [...tasks].sort());
    const gauge = await c.metrics.registry.getSingleMetric('collector_lease_held')?.get();
    assert.equal(gauge?.values.filter((v) => v.value === 1).length, held(c).length);
  });

  test('fencing: a replica whose lease moved on has its deliveries and checkpoint writes refused', async () => {
    await raw.flushdb();
    const key = stateKey('in', 'svc', 'fenced');
    let resume!: () => void;
    const paused = new Promise<void>((r) => (resume = r));
    const outcomes: string[] = [];
    const pull = async (k: string, r: Replica): Promise<void> => {
      if (r === a) await paused;
      for (const step of [
        () => r.leases.checks.guard(k),
        () => r.leases.state.set(k, { by: r === a ? 'a' : 'b' }),
      ]) {
        try {
          await step();
          outcomes.push(`${r === a ? 'a' : 'b'}:ok`);
        } catch (err) {
          assert.ok(isCollectorError(err, ErrorCodes.LEASE_LOST), String(err));
          outcomes.push(`${r === a ? 'a' : 'b'}:${ErrorCodes.LEASE_LOST}`);
          throw err;
        }
      }
    };
    const a = replica('a', [key], pull);
    await a.leases.round();
    const aPull = a.workers[0]!.pull(); // A pulls, then pauses before delivering
    // A's lease expires while it is paused; B takes the task over and moves the checkpoint.
    await raw.del(`${PREFIX}lease:${key}`);
    await expireBeat('a');
    const b = replica('b', [key], pull);
    await b.leases.round();
    assert.deepEqual(held(b), [key]);
    await b.workers[0]!.pull();
    // A resumes: nothing it does reaches the output or the checkpoint.
    resume();
    await aPull;
    assert.deepEqual(outcomes, ['b:ok', 'b:ok', `a:${ErrorCodes.LEASE_LOST}`]);
    assert.deepEqual(await b.store.get(key), { by: 'b' });
    const lost = a.log.lines().find((l) => l.event === 'lease_lost');
    assert.equal(lost?.reason, 'taken');
    assert.equal(lost?.code, ErrorCodes.LEASE_LOST);
    // A straight write with A's old lease is refused by Redis itself (the Lua fence), not only locally.
    await assert.rejects(
      a.store.setFenced(
        new RedisLeases(raw, PREFIX, 'a', TTL_MS),
        { task: key, token: 1, holder: 'a:1' },
        key,
        {
          by: 'a',
        },
      ),
      (err) => isCollectorError(err, ErrorCodes.LEASE_LOST),
    );
    assert.deepEqual(await b.store.get(key), { by: 'b' });
    // A later takes the task again: its first pull starts from the saved checkpoint, not from memory.
    await b.leases.stop();
    await a.leases.round();
    assert.deepEqual(held(a), [key]);
    await a.workers[0]!.pull();
    assert.ok(a.forgotten.length >= 2, 'a new lease drops the position kept in memory');
  });

  test('a lease that expired with nobody taking it over meanwhile keeps the position in memory', async () => {
    await raw.flushdb();
    const key = stateKey('in', 'svc', 'late');
    const a = replica('a', [key]);
    await a.leases.round();
    await a.workers[0]!.pull();
    assert.deepEqual(a.forgotten, [key], 'the first lease starts from the saved checkpoint');
    // The renewal came too late (a busy process): the lease expired, and A takes the task again.
    await raw.del(`${PREFIX}lease:${key}`);
    await a.leases.round();
    await a.leases.round();
    assert.deepEqual(held(a), [key]);
    await a.workers[0]!.pull();
    assert.deepEqual(a.forgotten, [key], 'A was the last holder: nobody moved the checkpoint');
  });

  test('a lease whose previous holder was another replica drops the position in memory, even if its token follows ours', async () => {
    await raw.flushdb();
    const key = stateKey('in', 'svc', 'lost-incr');
    const a = replica('a', [key]);
    await a.leases.round();
    await a.workers[0]!.pull();
    // Redis lost A's lease and its token (a failover) and B took the task with that same token;
    // then B's lease expired and A takes the task with the token after its own.
    await raw.del(`${PREFIX}lease:${key}`);
    await raw.decr(`${PREFIX}fence:${key}`);
    const b = replica('b', [key]);
    await b.leases.round();
    assert.deepEqual(held(b), [key]);
    await raw.del(`${PREFIX}lease:${key}`);
    await expireBeat('b');
    await a.leases.round();
    await a.leases.round();
    assert.deepEqual(held(a), [key]);
    await a.workers[0]!.pull();
    assert.deepEqual(a.forgotten, [key, key], 'B held the task in between');
  });

  test('a dead replica’s tasks are taken in the round right after its heartbeat and leases expire', async () => {
    await raw.flushdb();
    const tasks = ['y0', 'y1'].map((t) => stateKey('in', 'svc', t));
    const a = replica('a', tasks);
    await a.leases.round();
    assert.deepEqual(held(a), [...tasks].sort());
    // A dies: its heartbeat runs out in Redis within a second, its leases 300 ms later.
    const [sec, usec] = (await raw.time()) as [string, string];
    const redisNow = Number(sec) * 1000 + Math.floor(Number(usec) / 1000);
    await raw.zadd((await raw.keys(`${PREFIX}replicas:*`))[0]!, redisNow + 1000, 'a');
    for (const t of tasks) await raw.pexpire(`${PREFIX}lease:${t}`, 1300);
    // B's lease loop on a clock whose sleeps the test ends.
    const sleeps: number[] = [];
    const gates: (() => void)[] = [];
    const clock = new (class extends SimClock {
      override async sleep(ms: number, signal?: AbortSignal): Promise<boolean> {
        sleeps.push(ms);
        await new Promise<void>((r) => gates.push(r));
        return super.sleep(ms, signal);
      }
    })(1_700_000_000_000);
    const b = replica('b', tasks, undefined, TTL_MS, clock);
    const next = async (): Promise<void> => {
      const n = sleeps.length;
      gates.shift()!();
      while (sleeps.length === n) await new Promise((r) => setTimeout(r, 5));
    };
    b.leases.start();
    while (sleeps.length === 0) await new Promise((r) => setTimeout(r, 5));
    assert.ok(sleeps[0]! <= 1000 + 20, `first round in ${sleeps[0]} ms: when A's heartbeat expires`);
    await next();
    assert.deepEqual(held(b), [], 'A still counted (no time passed): B has its share of 1, held by A');
    assert.ok(sleeps[1]! <= 1300 + 20, `next round in ${sleeps[1]} ms: when A's lease of it expires`);
    await new Promise((r) => setTimeout(r, 1400));
    await next();
    assert.deepEqual(held(b), [...tasks].sort(), 'A gone: B takes both');
    assert.equal(sleeps[2], TTL_MS / 3, 'alone: back to a round every third of the TTL');
    gates.shift()!();
    await b.leases.stop();
  });

  test('replicas of another configuration on the same Redis and prefix are not counted', async () => {
    await raw.flushdb();
    const tasks = ['u0', 'u1', 'u2', 'u3'].map((t) => stateKey('in', 'svc', t));
    const other = replica('other', [stateKey('in', 'svc', 'elsewhere')]);
    await other.leases.round();
    const a = replica('a', tasks);
    await a.leases.round();
    assert.deepEqual(held(a), [...tasks].sort(), 'alone among the replicas of its tasks: every task');
    assert.equal(
      (await a.metrics.registry.getSingleMetric('collector_replicas_live')?.get())?.values[0]?.value,
      1,
    );
  });

  test('a rebalance gives idle tasks up first, and a pulling one at its next batch', async () => {
    await raw.flushdb();
    const tasks = ['v0', 'v1', 'v2'].map((t) => stateKey('in', 'svc', t));
    const [p0, p1, idle] = tasks as [string, string, string];

    let firstBatches = 0;
    let bothDelivered!: () => void;
    const delivered = new Promise<void>((r) => (bothDelivered = r));
    let nextBatch!: () => void;
    const paused = new Promise<void>((r) => (nextBatch = r));
    const outcomes: string[] = [];
    // Two tasks' pulls deliver a batch, then wait before their second; the third stays idle.
    const a = replica('a', tasks, async (k, r) => {
      if (k === idle) return;
      await r.leases.checks.guard(k);
      if (++firstBatches === 2) bothDelivered();
      await paused;
      try {
        await r.leases.checks.guard(k);
        outcomes.push(`${k}: delivered`);
      } catch (err) {
        assert.ok(isCollectorError(err, ErrorCodes.LEASE_LOST));
        outcomes.push(`${k}: ${ErrorCodes.LEASE_LOST}`);
        throw err;
      }
    });
    await a.leases.round();
    assert.deepEqual(held(a), [...tasks].sort());
    const pulls = [a.workers[0]!.pull(), a.workers[1]!.pull()];
    await delivered;
    // Two replicas join: A's share is 1 of 3. The idle task goes at once; of the pulling ones, one
    // keeps its lease until its pull ends.
    for (const id of ['b', 'c']) await replica(id, tasks).leases.round();
    await a.leases.round();
    assert.deepEqual(held(a), [p0, p1].sort(), 'the idle task first');
    // At its next batch the handed-over pull ends (that batch refused: the next holder reads it
    // from the checkpoint) and its task is given up; the other goes on.
    nextBatch();
    await Promise.all(pulls);
    const kept = outcomes.filter((o) => o.endsWith('delivered')).map((o) => o.split(':')[0]);
    assert.equal(kept.length, 1, outcomes.join(', '));
    assert.deepEqual(outcomes.length, 2);
    assert.deepEqual(held(a), kept);
    assert.equal(
      a.log.lines().filter((l) => l.event === 'lease_released' && l.reason === 'rebalance').length,
      2,
    );
  });

  test('shutting down: leases are renewed but no task is taken or handed over until stop()', async () => {
    await raw.flushdb();
    const tasks = ['w0', 'w1'].map((t) => stateKey('in', 'svc', t));
    const a = replica('a', tasks);
    await a.leases.round();
    assert.deepEqual(held(a), [...tasks].sort());
    a.leases.quiesce();
    const b = replica('b', tasks);
    await b.leases.round();
    await a.leases.round();
    assert.deepEqual(held(a), [...tasks].sort(), 'no rebalance while the batches in flight settle');
    assert.ok(
      Number(await raw.pttl(`${PREFIX}lease:${tasks[0]}`)) > TTL_MS - 5_000,
      'renewed while quiescing',
    );
    await a.leases.stop();
    assert.deepEqual(held(a), []);
  });

  test('the fence refuses a batch whose lease expired while it waited for room after the guard', async () => {
    await raw.flushdb();
    const key = stateKey('in', 'svc', 'fence');
    const ttl = 3_000;
    const a = replica(
      'a',
      [key],
      async (k, r) => {
        await r.leases.checks.guard(k);
        // The batch waits for room in the delivery window longer than the lease lives.
        r.clock.time += ttl;
        assert.throws(
          () => r.leases.checks.fence(k),
          (err) => isCollectorError(err, ErrorCodes.LEASE_LOST),
        );
      },
      ttl,
    );
    await a.leases.round();
    await a.workers[0]!.pull();
    assert.deepEqual(a.pulled, [key]);
  });

  test('redis lost while running: leases are not renewed, tasks pause once they would expire, and resume', async () => {
    await raw.flushdb();
    const key = stateKey('in', 'svc', 'outage');
    // A short lease, so its commands give up quickly (a third of it) while Redis is silent.
    const ttl = 600;
    const a = replica('a', [key], undefined, ttl);
    await a.leases.round();
    assert.deepEqual(held(a), [key]);
    // Redis stops answering (longer than the lease commands wait).
    await raw.call('CLIENT', 'PAUSE', '1000', 'ALL');
    await a.leases.round();
    assert.deepEqual(held(a), [key], 'held while it cannot have expired');
    a.clock.time += ttl;
    await a.leases.round();
    assert.deepEqual(held(a), [], 'paused once it would have expired');
    await a.workers[0]!.pull();
    assert.deepEqual(a.pulled, [], 'no pull without the lease');
    const events = a.log.lines().map((l) => l.event);
    assert.ok(events.includes('redis_unreachable'));
    assert.equal(a.log.lines().find((l) => l.event === 'lease_lost')?.reason, 'unrenewable');
    // Back (this command waits for the pause to end): the lease, expired in Redis meanwhile, is
    // taken again and the task pulls.
    await raw.ping();
    await a.leases.round();
    assert.deepEqual(held(a), [key]);
    assert.ok(a.log.lines().some((l) => l.event === 'redis_reachable'));
    await a.workers[0]!.pull();
    assert.deepEqual(a.pulled, [key]);
  });
});
