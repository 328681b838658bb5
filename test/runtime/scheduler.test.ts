import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { runWorker } from '../../src/runtime/scheduler.js';
import type { ServiceWorker } from '../../src/services/definition.js';
import { silentLogger } from '../../src/telemetry/logger.js';
import { Metrics } from '../../src/telemetry/metrics.js';

const labels = { service: 'svc', region: 'us-east-1' };

function worker(name: string, pull: () => Promise<void>): ServiceWorker & { pulls: number[] } {
  const pulls: number[] = [];
  return {
    name,
    pulls,
    pull: async () => {
      pulls.push(Date.now());
      await pull();
    },
    stop: async () => undefined,
  };
}

describe('runWorker', () => {
  test('a failed pull is retried pull_retries times with backoff, then waits for the next period; other workers go on', async () => {
    const abort = new AbortController();
    const metrics = new Metrics();
    const failing = worker('failing', async () => {
      throw Object.assign(new Error('queue gone'), { code: 'QUEUE_NOT_FOUND' });
    });
    const healthy = worker('healthy', async () => undefined);
    const schedule = { periodMs: 400, retries: 2, backoff: { baseMs: 20, maxMs: 40 } };
    const loops = [
      runWorker(failing, schedule, abort.signal, silentLogger(), metrics, labels),
      runWorker(healthy, schedule, abort.signal, silentLogger(), metrics, labels),
    ];
    await new Promise((r) => setTimeout(r, 600));
    abort.abort();
    await Promise.all(loops);
    // Period 1: first try + 2 retries; period 2 (at 400 ms): 3 more.
    assert.equal(failing.pulls.length, 6);
    const firstPeriod = failing.pulls.slice(0, 3);
    assert.ok(
      firstPeriod[2]! - firstPeriod[0]! < 200,
      'retries come quickly, with backoff, not a period apart',
    );
    assert.ok(failing.pulls[3]! - failing.pulls[0]! >= 390, 'then the next try waits for the next period');
    assert.equal(healthy.pulls.length, 2, 'the healthy worker kept its period');
    assert.equal(await metrics.total('collector_errors_total', { code: 'QUEUE_NOT_FOUND' }), 6);
  });

  test('returns promptly when aborted during the wait between periods', async () => {
    const abort = new AbortController();
    const w = worker('w', async () => undefined);
    const loop = runWorker(
      w,
      { periodMs: 60_000, retries: 3, backoff: { baseMs: 1000, maxMs: 30_000 } },
      abort.signal,
      silentLogger(),
      new Metrics(),
      labels,
    );
    await new Promise((r) => setTimeout(r, 50));
    const t0 = Date.now();
    abort.abort();
    await loop;
    assert.ok(Date.now() - t0 < 100);
    assert.equal(w.pulls.length, 1);
  });
});
