import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { networkInterfaces } from 'node:os';
import { describe, test } from 'node:test';
import { runWorker } from '../../src/runtime/scheduler.js';
import {
  Health,
  STUCK_AFTER_MIN_MS,
  STUCK_AFTER_PERIODS,
  type HealthReport,
} from '../../src/telemetry/health.js';
import { silentLogger } from '../../src/telemetry/logger.js';
import { Metrics } from '../../src/telemetry/metrics.js';
import { startStatusServer } from '../../src/telemetry/status-server.js';
import { clockAt } from '../helpers/clock.js';
import { waitUntil } from '../helpers/wait.js';

const noInFlight = () => ({ events: 0, bytes: 0, batches: 0 });

/** This machine's first non-loopback IPv4 address, if it has one. */
function ownAddress(): string | undefined {
  for (const list of Object.values(networkInterfaces()))
    for (const a of list ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  return undefined;
}

async function get(
  host: string,
  port: number,
  path: string,
): Promise<{ status: number; body: HealthReport }> {
  const res = await fetch(`http://${host}:${port}${path}`);
  return { status: res.status, body: (await res.json()) as HealthReport };
}

describe('status server', () => {
  test('close() does not wait for a client that connected and never sent a request', async () => {
    const server = await startStatusServer('127.0.0.1', 0, {
      metrics: new Metrics(),
      health: new Health(),
      inFlight: noInFlight,
    });
    const client = connect(server.port, '127.0.0.1');
    await new Promise<void>((resolve) => client.once('connect', () => resolve()));
    const closedByServer = new Promise<void>((resolve) => client.once('close', () => resolve()));
    let timer: NodeJS.Timeout | undefined;
    const outcome = await Promise.race([
      server.close().then(() => 'closed'),
      new Promise<string>((resolve) => (timer = setTimeout(() => resolve('still open after 2 s'), 2_000))),
    ]);
    clearTimeout(timer);
    client.destroy();
    assert.equal(outcome, 'closed', 'shutdown must not hang on an idle status connection');
    await closedByServer;
  });

  // Listens on every address and is asked through this machine's own non-loopback address, as a
  // kubelet or Prometheus would reach a pod.
  const own = ownAddress();
  test(
    '/healthz and /readyz follow start, output down, worker stuck and shutdown, from a non-loopback address',
    { skip: own === undefined ? 'this machine has no non-loopback IPv4 address' : false },
    async () => {
      const host = own!;
      let now = 1_000_000;
      const health = new Health(() => now);
      const metrics = new Metrics();
      metrics.track(health);
      const server = await startStatusServer('0.0.0.0', 0, { metrics, health, inFlight: noInFlight });
      const abort = new AbortController();
      try {
        const output = health.output('devo');
        const periodMs = 60_000;
        const worker = health.worker(
          { service: 'cwl_1', region: 'eu-west-1', task: 'cwl_1/eu-west-1' },
          periodMs,
        );

        // Start: nothing connected or started yet.
        let ready = await get(host, server.port, '/readyz');
        assert.equal(ready.status, 503);
        assert.deepEqual(
          ready.body.workers.map((w) => [w.task, w.started]),
          [['cwl_1/eu-west-1', false]],
        );
        assert.equal(ready.body.outputs[0]!.connectedOnce, false);

        // The output connects and the worker starts (the real scheduler), with a pull that hangs.
        output.up();
        let release!: () => void;
        const hanging = new Promise<void>((resolve) => (release = resolve));
        const loop = runWorker(
          { name: 'cwl_1/eu-west-1', pull: () => hanging, stop: async () => undefined },
          { periodMs, retries: 0, backoff: { baseMs: 1, maxMs: 1 } },
          abort.signal,
          silentLogger(),
          metrics,
          { service: 'cwl_1', region: 'eu-west-1' },
          clockAt(() => now),
          worker,
        );
        ready = await get(host, server.port, '/readyz');
        assert.equal(ready.status, 200);
        assert.equal((await get(host, server.port, '/healthz')).status, 200);

        // Output down: still ready (it connected once) but reported; refused for good: not ready.
        output.down();
        ready = await get(host, server.port, '/readyz');
        assert.equal(ready.status, 200);
        assert.equal(ready.body.outputs[0]!.connected, false);
        output.block('OUTPUT_REJECTED');
        ready = await get(host, server.port, '/readyz');
        assert.equal(ready.status, 503);
        assert.deepEqual(ready.body.outputs[0]!.blocked, { code: 'OUTPUT_REJECTED', since: now });
        output.up();

        // Worker stuck: its pull has been under way for more than STUCK_AFTER_PERIODS periods (above STUCK_AFTER_MIN_MS).
        now += STUCK_AFTER_PERIODS * periodMs;
        assert.equal((await get(host, server.port, '/healthz')).status, 200, 'not yet past the limit');
        now += 1;
        let live = await get(host, server.port, '/healthz');
        assert.equal(live.status, 503);
        assert.equal(live.body.workers[0]!.stuck, true);
        assert.equal(live.body.workers[0]!.pullsInProgress, 1);
        assert.match(
          await (await fetch(`http://${host}:${server.port}/metrics`)).text(),
          /collector_worker_stuck\{service="cwl_1",region="eu-west-1",task="cwl_1\/eu-west-1"\} 1/,
        );

        // The pull finishes: alive again, with its success time.
        release();
        await waitUntil(() => worker.pullsInProgress === 0, 5_000, 'the pull to finish');
        live = await get(host, server.port, '/healthz');
        assert.equal(live.status, 200);
        assert.equal(live.body.workers[0]!.lastSuccess, new Date(now).toISOString());

        // Shutdown: not ready any more.
        health.shutdown();
        ready = await get(host, server.port, '/readyz');
        assert.equal(ready.status, 503);
        assert.equal(ready.body.shuttingDown, true);
        abort.abort();
        await loop;
      } finally {
        abort.abort();
        await server.close();
      }
    },
  );

  test('a short period is not stuck during one long poll: the limit is at least STUCK_AFTER_MIN_MS', () => {
    let now = 0;
    const health = new Health(() => now);
    const w = health.worker({ service: 'sqs-cloudwatch-consumer', region: 'us-east-1', task: 't' }, 5_000);
    w.start();
    w.pullStarted();
    now = STUCK_AFTER_MIN_MS;
    assert.equal(w.stuck, false, 'a 20 s long poll spans 4 periods of 5 s');
    now += 1;
    assert.equal(w.stuck, true);
    w.acknowledged();
    assert.equal(w.stuck, false, 'an acknowledged batch is progress');
  });

  test('a pull that fails because state cannot be saved is a process-level condition on /healthz', async () => {
    const now = 5_000;
    const health = new Health(() => now);
    const w = health.worker(
      { service: 'metrics-all', region: 'us-east-1', task: 'metrics-all/us-east-1' },
      60_000,
    );
    w.start();
    w.pullStarted();
    w.pullFinished('STATE_WRITE_FAILED');
    assert.equal(health.live().ok, false);
    assert.deepEqual(health.live().conditions, [{ code: 'STATE_WRITE_FAILED', since: now }]);
    w.pullStarted();
    w.pullFinished();
    assert.equal(health.live().ok, true);
  });

  test('with a shared Redis, whose outage is ridden out in place, state conditions are reported but keep /healthz up', () => {
    const health = new Health(() => 5_000, false);
    const w = health.worker({ service: 'cwl_1', region: 'eu-west-1', task: 'cwl_1/eu-west-1' }, 60_000);
    w.start();
    w.pullStarted();
    w.pullFinished('STATE_UNREADABLE');
    assert.equal(health.live().ok, true);
    assert.deepEqual(health.live().conditions, [{ code: 'STATE_UNREADABLE', since: 5_000 }]);
  });

  test('a checkpoint that cannot be saved (the worker pulls on from memory) is a condition on /healthz', () => {
    const now = 7_000;
    let unsavedSince: number | undefined = 2_000;
    const health = new Health(() => now);
    health.worker({ service: 'cwl_1', region: 'eu-west-1', task: 'cwl_1/eu-west-1' }, 60_000, () => ({
      stateUnsavedSince: unsavedSince,
    }));
    assert.equal(health.live().ok, false);
    assert.deepEqual(health.live().conditions, [{ code: 'STATE_WRITE_FAILED', since: 2_000 }]);
    unsavedSince = undefined;
    assert.equal(health.live().ok, true);
  });
});
