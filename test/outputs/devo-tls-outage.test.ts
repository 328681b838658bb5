import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { TestPki } from '../../sandbox/certs.js';
import { definition } from '../../src/outputs/devo-platform/index.js';
import type { SyslogStreamOutput } from '../../src/outputs/stream-output.js';
import { waitUntil } from '../helpers/wait.js';
import { Receiver, testContext, withTestPki } from './helpers.js';

/**
 * The receiver goes away in the middle of 100,000 events and comes back: every event must
 * arrive at least once, with duplicates bounded by what was in flight, and bounded memory.
 * DEVO_OUTAGE_SECONDS sets the outage (default 10 s, as the acceptance asks).
 */
const OUTAGE_MS = Number(process.env.DEVO_OUTAGE_SECONDS ?? '10') * 1000;
const TOTAL = 100_000;
const BATCH = 500;
const CONCURRENT_WRITES = 8;
const CONNECTIONS = 2;
const RESEND_WINDOW_BYTES = 2 * 1024 * 1024;

let pki: TestPki;
let dir: string;
withTestPki((p, d) => {
  pki = p;
  dir = d;
});

test(`outage of ${OUTAGE_MS / 1000} s in the middle of ${TOTAL} events: every event arrives, duplicates and memory bounded`, async (t) => {
  const counts = new Uint16Array(TOTAL);
  let received = 0;
  let outage: Promise<void> | undefined;
  const receiver: Receiver = await Receiver.start({
    tls: {
      cert: pki.server.cert,
      key: pki.server.key,
      ca: pki.ca.cert,
      requestCert: true,
      rejectUnauthorized: true,
    },
    onLine: (line) => {
      const at = line.indexOf('{"seq":');
      const seq = Number.parseInt(line.slice(at + 7), 10);
      counts[seq]!++;
      received++;
      if (received === 30_000 && !outage) {
        outage = receiver.goAway().then(() => new Promise((resolve) => setTimeout(resolve, OUTAGE_MS)));
        void outage.then(() => receiver.comeBack());
      }
    },
  });
  const config = definition.schema.parse({
    address: '127.0.0.1',
    port: receiver.port,
    chain: 'chain.crt',
    cert: 'client.crt',
    key: 'client.key',
    connections: CONNECTIONS,
    resend_window_bytes: RESEND_WINDOW_BYTES,
    reconnect: { initial_delay_seconds: 0.05, max_delay_seconds: 0.25 },
  });
  const { ctx, logs } = testContext('devo', dir);
  const output = definition.create(config, ctx) as SyslogStreamOutput;
  const pad = 'p'.repeat(80);
  let maxBuffered = 0;
  const sampler = setInterval(() => (maxBuffered = Math.max(maxBuffered, output.bufferedBytes)), 10);
  try {
    await output.start();
    let next = 0;
    const writer = async (): Promise<void> => {
      while (next < TOTAL) {
        const first = next;
        next += BATCH;
        const events = [];
        for (let i = first; i < first + BATCH; i++) {
          events.push({ tag: 'cloud.aws.cloudwatch.events', message: `{"seq":${i},"pad":"${pad}"}` });
        }
        await output.write(events);
      }
    };
    await Promise.all(Array.from({ length: CONCURRENT_WRITES }, writer));
    await waitUntil(() => counts.every((c) => c > 0), 30_000, 'every event at the receiver');

    assert.ok(outage, 'the outage happened');
    let duplicates = 0;
    for (const c of counts) duplicates += c - 1;
    const lineBytes = Buffer.byteLength(
      `<14>Jan  1 00:00:00 testhost cloud.aws.cloudwatch.events: {"seq":99999,"pad":"${pad}"}\n`,
    );
    const inFlightEvents =
      CONNECTIONS * Math.ceil(RESEND_WINDOW_BYTES / lineBytes) + CONCURRENT_WRITES * BATCH;
    assert.ok(duplicates <= inFlightEvents, `${duplicates} duplicates, at most ${inFlightEvents} expected`);
    const bound = CONNECTIONS * RESEND_WINDOW_BYTES + CONCURRENT_WRITES * BATCH * lineBytes;
    assert.ok(maxBuffered <= bound, `held at most ${maxBuffered} bytes (bound ${bound})`);
    assert.ok(
      logs.some((l) => l.level === 'info' && l.event === 'output_reconnected'),
      'reconnection logged',
    );
    t.diagnostic(
      `outage ${OUTAGE_MS / 1000} s: ${received} lines received for ${TOTAL} events, ${duplicates} duplicates, ` +
        `max ${(maxBuffered / 1e6).toFixed(1)} MB held`,
    );
  } finally {
    clearInterval(sampler);
    await output.stop();
    await receiver.close();
  }
});
