import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { connect } from 'node:tls';
import {
  createCa,
  createTestPki,
  issueCertificate,
  writeTestPki,
  type TestPki,
  type TestPkiFiles,
} from '../../sandbox/certs.js';
import { isCollectorError } from '../../src/core/errors.js';
import { definition } from '../../src/outputs/devo-platform/index.js';
import type { SyslogStreamOutput } from '../../src/outputs/stream-output.js';
import { rfc3164Timestamp } from '../../src/outputs/syslog-line.js';
import type { CollectorEvent } from '../../src/core/batch.js';
import { waitUntil } from '../helpers/wait.js';
import { Receiver, tempDir, testContext } from './helpers.js';

let pki: TestPki;
let dir: string;
let removeDir: () => Promise<void>;
let files: TestPkiFiles;

before(async () => {
  pki = await createTestPki();
  ({ dir, remove: removeDir } = await tempDir());
  // Devo's collector packages keep the certificates in certs/ beside the configuration.
  files = await writeTestPki(join(dir, 'certs'), pki);
});

after(async () => {
  await removeDir();
});

function tlsServer(server = pki.server, ca = pki.ca.cert): Promise<Receiver> {
  return Receiver.start({
    tls: {
      cert: server.cert,
      key: server.key,
      ca,
      requestCert: true,
      rejectUnauthorized: true,
      minVersion: 'TLSv1.2',
    },
  });
}

function devoOutput(port: number, overrides: Record<string, unknown> = {}, configDir = dir) {
  const config = definition.schema.parse({
    address: '127.0.0.1',
    port,
    type: 'SSL',
    chain: 'chain.crt',
    cert: 'client.crt',
    key: 'client.key',
    reconnect: { initial_delay_seconds: 0.01, max_delay_seconds: 0.05 },
    ...overrides,
  });
  const { ctx, logs } = testContext('devo', configDir);
  return { output: definition.create(config, ctx) as SyslogStreamOutput, ctx, logs };
}

/** The header timestamps a line written between `from` and `to` (ms) may carry. */
function timestampsBetween(from: number, to: number): Set<string> {
  const out = new Set<string>();
  for (let s = Math.floor(from / 1000); s <= Math.floor(to / 1000); s++)
    out.add(rfc3164Timestamp(new Date(s * 1000)));
  return out;
}

function expectStopped(promise: Promise<unknown>): Promise<void> {
  return assert.rejects(promise, (err) => isCollectorError(err, 'OUTPUT_STOPPED'));
}

describe('devo_platform output', () => {
  test('lines arrive byte-exact over TLS with a client certificate; line breaks are escaped', async () => {
    const receiver = await tlsServer();
    const { output, ctx } = devoOutput(receiver.port);
    const events: CollectorEvent[] = [
      { tag: 'cloud.aws.cloudwatch.events', message: '{"detail-type":"GuardDuty Finding","id":"1"}' },
      { tag: 'cloud.aws.cloudtrail.ec2', message: 'two\nlines and a\r\nCRLF' },
      {
        tag: 'cloud.aws.vpc.flowlogs',
        message: '2 123456789010 eni-1 10.0.0.1 10.0.0.2 443 49152 6 10 840 ACCEPT OK',
      },
      { tag: 'cloud.aws.cloudwatch.logs', message: 'ünïcødé ✓ 日本' },
    ];
    try {
      await output.start();
      const from = Date.now();
      await output.write(events);
      const to = Date.now();
      await waitUntil(() => receiver.lines.length >= events.length, 5000, 'lines');
      const stamps = timestampsBetween(from, to);
      const expectedTails = [
        'cloud.aws.cloudwatch.events: {"detail-type":"GuardDuty Finding","id":"1"}',
        'cloud.aws.cloudtrail.ec2: two\\nlines and a\\r\\nCRLF',
        'cloud.aws.vpc.flowlogs: 2 123456789010 eni-1 10.0.0.1 10.0.0.2 443 49152 6 10 840 ACCEPT OK',
        'cloud.aws.cloudwatch.logs: ünïcødé ✓ 日本',
      ];
      assert.equal(receiver.lines.length, events.length);
      receiver.lines.forEach((line, i) => {
        const stamp = line.slice(4, 19);
        assert.ok(stamps.has(stamp), `timestamp ${stamp} of ${line}`);
        assert.equal(line, `<14>${stamp} testhost ${expectedTails[i]}`);
      });
      // The exact bytes: nothing but these lines, each ending with one line feed.
      const wire = Buffer.concat(receiver.raw.flat()).toString('utf8');
      assert.equal(wire, receiver.lines.map((l) => `${l}\n`).join(''));
      assert.equal(await ctx.metrics.total('collector_output_events_total', { output: 'devo' }), 4);
      assert.equal(
        await ctx.metrics.total('collector_output_bytes_total', { output: 'devo' }),
        Buffer.byteLength(wire),
      );
    } finally {
      await output.stop();
      await receiver.close();
    }
  });

  test('the receiver refuses a client without a certificate', async () => {
    const receiver = await tlsServer();
    try {
      const outcome = await new Promise<string>((resolve) => {
        const socket = connect({
          host: '127.0.0.1',
          port: receiver.port,
          ca: pki.ca.cert,
          minVersion: 'TLSv1.2',
        });
        socket.on('secureConnect', () => socket.write('<14>Jan  1 00:00:00 h t: should not arrive\n'));
        socket.on('error', (err) => resolve(`error: ${err.message}`));
        socket.on('close', () => resolve('closed'));
      });
      assert.match(outcome, /certificate required|closed|alert/i);
      await waitUntil(() => receiver.tlsErrors.length === 1, 5000, 'the refusal on the server side');
      assert.equal(receiver.lines.length, 0);
    } finally {
      await receiver.close();
    }
  });

  test('a client certificate from another CA is refused: writes wait, then reject OUTPUT_STOPPED on stop', async () => {
    const receiver = await tlsServer();
    const stranger = await createCa({ commonName: 'someone else' });
    const otherDir = join(dir, 'stranger');
    await mkdir(otherDir, { recursive: true });
    const client = await issueCertificate(stranger, { usage: 'client', commonName: 'intruder' });
    await writeFile(join(otherDir, 'client.crt'), client.cert);
    await writeFile(join(otherDir, 'client.key'), client.key);
    const { output } = devoOutput(receiver.port, { chain: files.chain }, otherDir);
    try {
      await output.start();
      const write = output.write([{ tag: 't', message: 'refused' }]);
      let settled = false;
      write.then(
        () => (settled = true),
        () => (settled = true),
      );
      await waitUntil(() => receiver.tlsErrors.length >= 2, 5000, 'refused handshakes');
      // The bytes may have reached the kernel before the refusal, yet the write is not lost:
      // it is kept for re-sending, and nothing was ever read by the receiver.
      assert.equal(receiver.lines.length, 0);
      await output.stop();
      if (!settled) await expectStopped(write);
    } finally {
      await output.stop();
      await receiver.close();
    }
  });

  test('a server certificate from another CA fails verification, logged as an error', async () => {
    const other = await createTestPki();
    const receiver = await tlsServer(other.server, pki.ca.cert);
    const { output, logs } = devoOutput(receiver.port);
    try {
      await output.start();
      const write = output.write([{ tag: 't', message: 'never' }]);
      await waitUntil(() => logs.some((l) => l.level === 'error'), 5000, 'an error log');
      const error = logs.find((l) => l.level === 'error')!;
      const err = error.err as { code: string; details: { tlsVerification: boolean } };
      assert.deepEqual(
        [error.event, error.output, error.target, err.code, err.details.tlsVerification],
        ['output_connect_failed', 'devo', `127.0.0.1:${receiver.port}`, 'OUTPUT_UNAVAILABLE', true],
      );
      assert.equal(receiver.lines.length, 0);
      await output.stop();
      await expectStopped(write);
    } finally {
      await output.stop();
      await receiver.close();
    }
  });

  test('a server certificate for another host name fails, unless verify_hostname is false (warned)', async () => {
    const server = await issueCertificate(pki.ca, { usage: 'server', hosts: ['collector-us.devo.io'] });
    const receiver = await tlsServer(server);
    const strict = devoOutput(receiver.port);
    const lax = devoOutput(receiver.port, { verify_hostname: false });
    try {
      await strict.output.start();
      const write = strict.output.write([{ tag: 't', message: 'strict' }]);
      await waitUntil(() => strict.logs.some((l) => l.level === 'error'), 5000, 'an error log');
      const failed = strict.logs.find((l) => l.level === 'error')!;
      assert.equal(failed.event, 'output_connect_failed');
      assert.equal((failed.err as { cause: { code: string } }).cause.code, 'ERR_TLS_CERT_ALTNAME_INVALID');
      await strict.output.stop();
      await expectStopped(write);

      await lax.output.start();
      assert.ok(
        lax.logs.some(
          (l) =>
            l.level === 'warn' &&
            l.event === 'tls_hostname_unverified' &&
            l.configKey === 'outputs.devo.config.verify_hostname',
        ),
      );
      await lax.output.write([{ tag: 't', message: 'lax' }]);
      await waitUntil(() => receiver.lines.length === 1, 5000, 'the line');
      assert.match(receiver.lines[0]!, / testhost t: lax$/);
    } finally {
      await strict.output.stop();
      await lax.output.stop();
      await receiver.close();
    }
  });

  test('spreads writes over several connections and delivers every line', async () => {
    const receiver = await tlsServer();
    const { output } = devoOutput(receiver.port, { connections: 3 });
    try {
      await output.start();
      await waitUntil(() => receiver.openSockets === 3, 5000, 'three connections');
      const writes = [];
      for (let w = 0; w < 30; w++) {
        writes.push(
          output.write(Array.from({ length: 100 }, (_, i) => ({ tag: 't', message: `m${w * 100 + i}` }))),
        );
      }
      await Promise.all(writes);
      await waitUntil(() => receiver.lines.length === 3000, 5000, '3000 lines');
      const seen = new Set(receiver.lines.map((l) => l.slice(l.indexOf('t: ') + 3)));
      assert.equal(seen.size, 3000);
      assert.ok(
        receiver.raw.filter((chunks) => chunks.length > 0).length >= 2,
        'more than one connection carried data',
      );
    } finally {
      await output.stop();
      await receiver.close();
    }
  });

  test('backpressure: writes stay pending while the receiver does not read, and complete once it does', async () => {
    const receiver = await tlsServer();
    const { output } = devoOutput(receiver.port, { connections: 1 });
    try {
      await output.start();
      await waitUntil(() => receiver.openSockets === 1, 5000, 'a connection');
      receiver.pause();
      const message = 'x'.repeat(1000);
      let resolved = 0;
      const writes = Array.from({ length: 200 }, () =>
        output.write(Array.from({ length: 100 }, () => ({ tag: 't', message }))).then(() => resolved++),
      );
      await new Promise((resolve) => setTimeout(resolve, 300));
      // 20 MB cannot all fit into socket buffers that nobody drains.
      assert.ok(resolved < 200, `only part of the writes can be flushed (${resolved} were)`);
      receiver.resume();
      await Promise.all(writes);
      await waitUntil(() => receiver.lines.length === 20_000, 10_000, 'every line');
    } finally {
      await output.stop();
      await receiver.close();
    }
  });

  test('recycles connections gracefully, without losing or repeating a line', async () => {
    const receiver = await tlsServer();
    const { output } = devoOutput(receiver.port, { connections: 1, recycle_after_seconds: 1 });
    try {
      await output.start();
      let n = 0;
      const until = Date.now() + 1600;
      while (Date.now() < until) {
        await output.write(Array.from({ length: 50 }, () => ({ tag: 't', message: `m${n++}` })));
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
      await waitUntil(() => receiver.lines.length === n, 5000, 'every line');
      assert.ok(receiver.connections >= 2, `recycled at least once (${receiver.connections} connections)`);
      assert.deepEqual(
        receiver.lines.map((l) => l.slice(l.indexOf('t: ') + 3)),
        Array.from({ length: n }, (_, i) => `m${i}`),
      );
    } finally {
      await output.stop();
      await receiver.close();
    }
  });

  test('stop() is safe before start() and twice; writes after stop() reject OUTPUT_STOPPED', async () => {
    const { output } = devoOutput(1);
    await output.stop();
    await output.stop();
    await expectStopped(output.write([{ tag: 't', message: 'late' }]));
  });

  test('type TCP sends plain text and is warned about', async () => {
    const receiver = await Receiver.start();
    const config = definition.schema.parse({ address: '127.0.0.1', port: receiver.port, type: 'TCP' });
    const { ctx, logs } = testContext('devo', dir);
    const output = definition.create(config, ctx);
    try {
      assert.ok(
        logs.some(
          (l) =>
            l.level === 'warn' &&
            l.event === 'output_unencrypted' &&
            l.configKey === 'outputs.devo.config.type',
        ),
      );
      await output.write([{ tag: 'my.app.test', message: 'plain' }]);
      await waitUntil(() => receiver.lines.length === 1, 5000, 'the line');
      assert.match(receiver.lines[0]!, /^<14>\w{3} [ \d]\d \d\d:\d\d:\d\d testhost my\.app\.test: plain$/);
    } finally {
      await output.stop();
      await receiver.close();
    }
  });

  test('the schema requires chain, cert and key for SSL and rejects unknown keys', () => {
    const missing = definition.schema.safeParse({ address: 'collector-us.devo.io' });
    assert.equal(missing.success, false);
    assert.deepEqual(missing.error!.issues.map((i) => i.path.join('.')).sort(), ['cert', 'chain', 'key']);
    const unknown = definition.schema.safeParse({
      address: 'a',
      chain: 'c',
      cert: 'c',
      key: 'k',
      hostname: 'x',
    });
    assert.equal(unknown.success, false);
    const ok = definition.schema.parse({
      address: 'collector-eu.devo.io',
      chain: 'chain.crt',
      cert: 'd.crt',
      key: 'd.key',
    });
    assert.equal(ok.port, 443);
    assert.equal(ok.connections, 2);
    assert.equal(ok.verify_hostname, true);
    assert.equal(ok.reconnect.max_delay_seconds, 30);
  });
});
