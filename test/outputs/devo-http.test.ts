import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { TestPki } from '../../sandbox/certs.js';
import { isCollectorError } from '../../src/core/errors.js';
import { definition, retryAfterMs } from '../../src/outputs/devo-http/index.js';
import type { CollectorEvent } from '../../src/core/batch.js';
import { Health } from '../../src/telemetry/health.js';
import { FakeDevo } from '../helpers/fake-devo-http.js';
import { waitUntil } from '../helpers/wait.js';
import { testContext, withTestPki } from './helpers.js';

const TOKEN = 'tok-5ecret-Value-0123456789';

let pki: TestPki;
let dir: string;
withTestPki((p, d) => {
  pki = p;
  dir = d;
});

function httpOutput(port: number, overrides: Record<string, unknown> = {}) {
  const config = definition.schema.parse({
    url: `https://127.0.0.1:${port}`,
    domain: 'acme',
    token: TOKEN,
    host: 'collector-1',
    ca: 'chain.crt',
    retry: { initial_delay_seconds: 0.01, max_delay_seconds: 0.05 },
    ...overrides,
  });
  const { ctx, logs } = testContext('devo_http', dir);
  const clock = { now: 1_000_000 };
  const health = new Health(() => clock.now).output('devo_http');
  const timed = { ...ctx, now: () => clock.now, health };
  return { output: definition.create(config, timed), ctx: timed, logs, clock, health };
}

function events(tag: string, n: number, prefix = 'e'): CollectorEvent[] {
  return Array.from({ length: n }, (_, i) => ({ tag, message: `{"${prefix}":${i}}` }));
}

describe('devo_http output', () => {
  test('gzip bodies, grouped by tag into the URL path, decode to the exact events', async () => {
    const devo = await new FakeDevo().start(pki);
    const { output, ctx } = httpOutput(devo.port);
    try {
      const batch = [
        ...events('cloud.aws.cloudwatch.events', 3),
        { tag: 'cloud.aws.vpc.flowlogs', message: 'line with\na break' },
        ...events('cloud.aws.cloudwatch.events', 2, 'f'),
      ];
      await output.write(batch);
      assert.equal(devo.requests.length, 2);
      const byPath = new Map(devo.requests.map((r) => [r.path, r]));
      const events1 = byPath.get(`/stream/acme/token!${TOKEN}/collector-1/cloud.aws.cloudwatch.events`)!;
      const flows = byPath.get(`/stream/acme/token!${TOKEN}/collector-1/cloud.aws.vpc.flowlogs`)!;
      assert.equal(events1.method, 'POST');
      assert.equal(events1.encoding, 'gzip');
      assert.equal(events1.body, '{"e":0}\n{"e":1}\n{"e":2}\n{"f":0}\n{"f":1}\n');
      assert.equal(flows.body, 'line with\\na break\n');
      assert.equal(await ctx.metrics.total('collector_output_events_total', { output: 'devo_http' }), 6);
    } finally {
      await output.stop();
      await devo.close();
    }
  });

  test('requests are split to stay within max_request_bytes (uncompressed)', async () => {
    const devo = await new FakeDevo().start(pki);
    const { output } = httpOutput(devo.port, { max_request_bytes: 1024 });
    try {
      const batch = Array.from({ length: 100 }, (_, i) => ({ tag: 't', message: `${i}`.padEnd(99, '.') }));
      await output.write(batch);
      assert.ok(devo.requests.length >= 10, `${devo.requests.length} requests`);
      for (const r of devo.requests)
        assert.ok(Buffer.byteLength(r.body) <= 1024, `${Buffer.byteLength(r.body)} bytes`);
      // Requests go in parallel: their order is not the events' order.
      assert.deepEqual(
        devo.requests.flatMap((r) => r.body.split('\n').filter(Boolean)).sort(),
        batch.map((e) => e.message).sort(),
      );
    } finally {
      await output.stop();
      await devo.close();
    }
  });

  test('503 then 200: retried, nothing lost', async () => {
    const devo = await new FakeDevo().start(pki);
    devo.answer = (_req, i) => ({ status: i < 2 ? 503 : 200 });
    const { output, logs } = httpOutput(devo.port);
    try {
      const batch = events('t', 50);
      await output.write(batch);
      assert.equal(devo.requests.length, 3);
      assert.equal(devo.accepted.length, 1);
      assert.equal(devo.accepted[0]!.body, batch.map((e) => `${e.message}\n`).join(''));
      assert.ok(logs.some((l) => l.level === 'warn' && l.event === 'output_retry' && l.status === 503));
      assert.ok(logs.some((l) => l.level === 'info' && l.event === 'output_recovered' && l.retries === 2));
    } finally {
      await output.stop();
      await devo.close();
    }
  });

  test('429 with Retry-After is honoured', async () => {
    const devo = await new FakeDevo().start(pki);
    devo.answer = (_req, i) => (i === 0 ? { status: 429, headers: { 'Retry-After': '1' } } : { status: 200 });
    const { output } = httpOutput(devo.port);
    try {
      await output.write(events('t', 5));
      assert.equal(devo.requests.length, 2);
      const waited = devo.times[1]! - devo.times[0]!;
      assert.ok(
        waited >= 950,
        `waited ${waited} ms, Retry-After said 1 s (the backoff alone would be ≤ 50 ms)`,
      );
    } finally {
      await output.stop();
      await devo.close();
    }
  });

  for (const status of [401, 400]) {
    test(`HTTP ${status} holds writes (never rejects them), one request probes with backoff, says so once, reports it; accepted again without restart, nothing lost`, async () => {
      const devo = await new FakeDevo().start(pki);
      let refusing = true;
      devo.answer = () => ({ status: refusing ? status : 200 });
      const { output, logs, ctx, clock, health } = httpOutput(devo.port);
      const outcomes: string[] = [];
      try {
        const writes = ['a', 'b', 'c'].map((tag) =>
          output.write(events(tag, 2)).then(
            () => outcomes.push('resolved'),
            (err: unknown) => outcomes.push(`rejected ${String(err)}`),
          ),
        );
        await waitUntil(() => devo.requests.length >= 12, 5_000, 'a dozen refused requests');
        assert.deepEqual(outcomes, [], 'no write settles while refused');
        assert.deepEqual(health.blocked, { code: 'OUTPUT_REJECTED', since: clock.now });
        assert.equal(health.connected, false);
        assert.equal(await ctx.metrics.total('collector_output_refused', { output: 'devo_http' }), 1);
        const errors = logs.filter((l) => l.level === 'error');
        assert.equal(errors.length, 1, 'said once, not per retry');
        assert.equal(errors[0]!.status, status);
        assert.equal(errors[0]!.code, 'OUTPUT_REJECTED');
        assert.equal(logs.filter((l) => l.level === 'warn').length, 0);

        // A reminder once a minute while it lasts, however many retries.
        clock.now += 59_000;
        let seen = devo.requests.length;
        await waitUntil(() => devo.requests.length >= seen + 3, 5_000, 'more probes');
        assert.equal(logs.filter((l) => l.level === 'error').length, 1);
        clock.now += 1_000;
        seen = devo.requests.length;
        await waitUntil(() => devo.requests.length >= seen + 3, 5_000, 'more probes');
        const reminders = logs.filter((l) => l.level === 'error');
        assert.equal(reminders.length, 2);
        assert.equal(reminders[1]!.refusedForSeconds, 60);
        assert.equal(health.blocked?.code, 'OUTPUT_REJECTED');

        refusing = false;
        await Promise.all(writes);
        assert.deepEqual(outcomes, ['resolved', 'resolved', 'resolved']);
        assert.equal(health.blocked, undefined);
        assert.equal(health.connected, true);
        assert.equal(await ctx.metrics.total('collector_output_refused', { output: 'devo_http' }), 0);
        const delivered = devo.accepted.flatMap((r) => r.body.split('\n').filter(Boolean));
        assert.equal(delivered.length, 6);
        assert.ok(
          logs.some((l) => l.level === 'info' && l.status === status),
          'the recovery is logged',
        );
        assert.ok(!JSON.stringify(logs).includes(TOKEN), 'the token never reaches the logs');
      } finally {
        await output.stop();
        await devo.close();
      }
    });
  }

  test('while refused, only one request at a time probes the receiver', async () => {
    const devo = await new FakeDevo().start(pki);
    devo.answer = () => ({ status: 401 });
    const { output } = httpOutput(devo.port, {
      retry: { initial_delay_seconds: 0.001, max_delay_seconds: 0.002 },
    });
    const writes = Array.from({ length: 8 }, (_, i) =>
      output.write(events(`t${i}`, 1)).catch(() => undefined),
    );
    try {
      await waitUntil(() => devo.requests.length >= 8, 5_000, 'the first requests');
      await waitUntil(() => devo.open === 0, 5_000, 'the first answers');
      devo.mostOpen = 0;
      const seen = devo.requests.length;
      await waitUntil(() => devo.requests.length >= seen + 20, 5_000, 'twenty probes');
      assert.equal(devo.mostOpen, 1);
    } finally {
      await output.stop();
      await Promise.all(writes);
      await devo.close();
    }
  });

  test('413 splits the request until the parts are taken; one event alone that is too large rejects OUTPUT_REJECTED', async () => {
    const devo = await new FakeDevo().start(pki);
    devo.answer = (req) => ({ status: req.body.split('\n').filter(Boolean).length > 2 ? 413 : 200 });
    const { output } = httpOutput(devo.port);
    try {
      await output.write(events('t', 7));
      const delivered = devo.accepted.flatMap((r) => r.body.split('\n').filter(Boolean));
      assert.deepEqual(
        delivered.sort(),
        events('t', 7)
          .map((e) => e.message)
          .sort(),
      );
      assert.ok(devo.accepted.every((r) => r.body.split('\n').filter(Boolean).length <= 2));

      devo.answer = () => ({ status: 413 });
      await assert.rejects(output.write(events('big', 1)), (err: unknown) => {
        assert.ok(isCollectorError(err, 'OUTPUT_REJECTED'));
        assert.equal(err.details.status, 413);
        return true;
      });
    } finally {
      await output.stop();
      await devo.close();
    }
  });

  test('network errors are retried until the endpoint answers; stop() rejects what is pending', async () => {
    const devo = await new FakeDevo().start(pki);
    const port = devo.port;
    await devo.close();
    const { output, logs } = httpOutput(port);
    const write = output.write(events('t', 1));
    await new Promise((resolve) => setTimeout(resolve, 150));
    const retry = logs.find((l) => l.level === 'warn' && l.event === 'output_retry');
    assert.equal((retry?.err as { cause: { code: string } }).cause.code, 'ECONNREFUSED');
    await output.stop();
    await assert.rejects(write, (err) => isCollectorError(err, 'OUTPUT_STOPPED'));
    assert.ok(!JSON.stringify(logs).includes(TOKEN));
  });

  test('token_file is read at start; a missing one is SECRET_UNAVAILABLE naming the file', async () => {
    const devo = await new FakeDevo().start(pki);
    await writeFile(join(dir, 'token.txt'), `${TOKEN}\n`);
    const good = httpOutput(devo.port, { token: undefined, token_file: 'token.txt' });
    const bad = httpOutput(devo.port, { token: undefined, token_file: 'nope.txt' });
    try {
      await good.output.write(events('t', 1));
      assert.equal(devo.requests[0]!.path, `/stream/acme/token!${TOKEN}/collector-1/t`);
      await assert.rejects(bad.output.start(), (err: unknown) => {
        assert.ok(isCollectorError(err, 'SECRET_UNAVAILABLE'));
        assert.match(err.message, /nope\.txt/);
        return true;
      });
    } finally {
      await good.output.stop();
      await bad.output.stop();
      await devo.close();
    }
  });

  test('schema: exactly one of region/url and of token/token_file; https only', () => {
    const parse = (c: Record<string, unknown>) => definition.schema.safeParse({ domain: 'd', ...c });
    assert.equal(parse({ region: 'eu', token: 'x' }).success, true);
    assert.equal(parse({ token: 'x' }).success, false);
    assert.equal(parse({ region: 'eu', url: 'https://h', token: 'x' }).success, false);
    assert.equal(parse({ region: 'eu' }).success, false);
    assert.equal(parse({ region: 'eu', token: 'x', token_file: 'f' }).success, false);
    assert.equal(parse({ url: 'http://plain.example', token: 'x' }).success, false);
    assert.equal(parse({ region: 'eu', token: 'x', max_request_bytes: 64_000_000 }).success, false);
  });

  test('Retry-After parsing: seconds, HTTP date, garbage', () => {
    const now = Date.parse('2024-05-01T00:00:00Z');
    assert.equal(retryAfterMs('3', now), 3000);
    assert.equal(retryAfterMs('Wed, 01 May 2024 00:00:10 GMT', now), 10_000);
    assert.equal(retryAfterMs('Tue, 30 Apr 2024 00:00:00 GMT', now), 0);
    assert.equal(retryAfterMs('soon', now), undefined);
    assert.equal(retryAfterMs(undefined, now), undefined);
    assert.equal(retryAfterMs('999999', now), 600_000);
  });
});
