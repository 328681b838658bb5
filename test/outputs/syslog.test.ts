import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import type { AddressInfo } from 'node:net';
import type { TestPki } from '../../sandbox/certs.js';
import { definition } from '../../src/outputs/syslog/index.js';
import type { CollectorEvent } from '../../src/core/batch.js';
import { waitUntil } from '../helpers/wait.js';
import { Receiver, testContext, withTestPki } from './helpers.js';

let pki: TestPki;
let dir: string;
withTestPki((p, d) => {
  pki = p;
  dir = d;
});

function syslogOutput(config: Record<string, unknown>) {
  const parsed = definition.schema.parse({
    address: '127.0.0.1',
    reconnect: { initial_delay_seconds: 0.01, max_delay_seconds: 0.05 },
    ...config,
  });
  const { ctx, logs } = testContext('siem', dir);
  return { output: definition.create(parsed, ctx), ctx, logs };
}

const EVENTS: CollectorEvent[] = [
  { tag: 'cloud.aws.cloudwatch.events', message: '{"a":1}' },
  { tag: 'cloud.aws.cloudtrail.s3', message: 'multi\nline ✓' },
];

/** Splits an RFC 6587 octet-counted stream into messages, checking each count in bytes. */
function octetFrames(stream: Buffer): string[] {
  const frames: string[] = [];
  let at = 0;
  while (at < stream.length) {
    const space = stream.indexOf(0x20, at);
    const length = Number(stream.subarray(at, space).toString('latin1'));
    assert.ok(Number.isInteger(length) && length > 0, `frame length at byte ${at}`);
    if (space + 1 + length > stream.length) break; // not all arrived yet
    frames.push(stream.subarray(space + 1, space + 1 + length).toString('utf8'));
    at = space + 1 + length;
  }
  return frames;
}

describe('syslog output', () => {
  test('TCP, newline framing, RFC 3164', async () => {
    const receiver = await Receiver.start();
    const { output } = syslogOutput({ port: receiver.port, protocol: 'tcp' });
    try {
      await output.write(EVENTS);
      await waitUntil(() => receiver.lines.length === 2, 5000, 'two lines');
      assert.match(
        receiver.lines[0]!,
        /^<14>\w{3} [ \d]\d \d\d:\d\d:\d\d testhost cloud\.aws\.cloudwatch\.events: \{"a":1\}$/,
      );
      assert.match(receiver.lines[1]!, / testhost cloud\.aws\.cloudtrail\.s3: multi\\nline ✓$/);
    } finally {
      await output.stop();
      await receiver.close();
    }
  });

  test('TCP, octet-counting framing, RFC 5424 (messages kept as they are)', async () => {
    const receiver = await Receiver.start();
    const { output } = syslogOutput({
      port: receiver.port,
      framing: 'octet-counting',
      format: 'rfc5424',
      facility: 16,
      severity: 5,
    });
    try {
      await output.write(EVENTS);
      await output.write([{ tag: 'x'.repeat(60), message: 'long tag' }]);
      const frames = () => octetFrames(Buffer.concat(receiver.raw.flat()));
      await waitUntil(() => frames().length === 3, 5000, 'three frames');
      const [first, second, third] = frames();
      const header = /^<133>1 (\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ) testhost /;
      for (const frame of [first!, second!, third!]) {
        const stamp = header.exec(frame)?.[1];
        assert.ok(stamp, frame);
        assert.ok(Math.abs(Date.parse(stamp) - Date.now()) < 10_000);
      }
      assert.match(first!, /testhost cloud\.aws\.cloudwatch\.events - - - \{"a":1\}$/);
      assert.match(second!, /testhost cloud\.aws\.cloudtrail\.s3 - - - multi\nline ✓$/);
      // APP-NAME holds at most 48 characters.
      assert.match(third!, new RegExp(`testhost ${'x'.repeat(48)} - - - long tag$`));
    } finally {
      await output.stop();
      await receiver.close();
    }
  });

  test('TLS with the server verified against ca (no client certificate)', async () => {
    const receiver = await Receiver.start({ tls: { cert: pki.server.cert, key: pki.server.key } });
    const { output } = syslogOutput({
      port: receiver.port,
      protocol: 'tls',
      ca: 'chain.crt',
      format: 'rfc5424',
    });
    try {
      await output.write(EVENTS.slice(0, 1));
      await waitUntil(() => receiver.lines.length === 1, 5000, 'the line');
      assert.match(
        receiver.lines[0]!,
        /^<14>1 \S+Z testhost cloud\.aws\.cloudwatch\.events - - - \{"a":1\}$/,
      );
    } finally {
      await output.stop();
      await receiver.close();
    }
  });

  test('TLS with a client certificate', async () => {
    const receiver = await Receiver.start({
      tls: {
        cert: pki.server.cert,
        key: pki.server.key,
        ca: pki.ca.cert,
        requestCert: true,
        rejectUnauthorized: true,
      },
    });
    const { output } = syslogOutput({
      port: receiver.port,
      protocol: 'tls',
      ca: 'chain.crt',
      cert: 'client.crt',
      key: 'client.key',
    });
    try {
      await output.write(EVENTS.slice(0, 1));
      await waitUntil(() => receiver.lines.length === 1, 5000, 'the line');
    } finally {
      await output.stop();
      await receiver.close();
    }
  });

  test('UDP: one datagram per event, accepted once sent', async () => {
    const server = createSocket('udp4');
    const datagrams: string[] = [];
    server.on('message', (msg) => datagrams.push(msg.toString('utf8')));
    await new Promise<void>((resolve) => server.bind(0, '127.0.0.1', () => resolve()));
    const { output, ctx } = syslogOutput({ port: (server.address() as AddressInfo).port, protocol: 'udp' });
    try {
      await output.write(EVENTS);
      await waitUntil(() => datagrams.length === 2, 5000, 'two datagrams');
      assert.match(
        datagrams[0]!,
        /^<14>\w{3} [ \d]\d \d\d:\d\d:\d\d testhost cloud\.aws\.cloudwatch\.events: \{"a":1\}$/,
      );
      // A datagram is one message: nothing to escape, nothing to frame.
      assert.match(datagrams[1]!, / testhost cloud\.aws\.cloudtrail\.s3: multi\nline ✓$/);
      assert.equal(await ctx.metrics.total('collector_output_events_total', { output: 'siem' }), 2);
    } finally {
      await output.stop();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  test('schema: cert and key go together, TLS files only with tls', () => {
    const parse = (c: Record<string, unknown>) => definition.schema.safeParse({ address: 'h', ...c });
    assert.equal(parse({ protocol: 'tls', cert: 'c' }).success, false);
    assert.equal(parse({ protocol: 'tcp', ca: 'c' }).success, false);
    assert.equal(parse({ protocol: 'tls', ca: 'c', cert: 'c', key: 'k' }).success, true);
    assert.equal(parse({ framing: 'lines' }).success, false);
    const defaults = definition.schema.parse({ address: 'h' });
    assert.equal(defaults.port, 514);
    assert.equal(defaults.protocol, 'tcp');
    assert.equal(defaults.format, 'rfc3164');
    assert.equal(defaults.recycle_after_seconds, 0);
  });
});
