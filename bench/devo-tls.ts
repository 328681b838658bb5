import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { spawn } from 'node:child_process';
import { createTestPki, writeTestPki } from '../sandbox/certs.js';
import { definition } from '../src/outputs/devo-platform/index.js';
import type { CollectorEvent } from '../src/core/batch.js';
import { silentLogger } from '../src/telemetry/logger.js';
import { Metrics } from '../src/telemetry/metrics.js';
import type { BenchResult } from './types.js';
import { Secrets } from '../src/telemetry/secrets.js';

/**
 * devo_platform throughput: 200-byte events into the output, over TLS with client-certificate
 * authentication, to a loopback receiver in a child process (so the sender has a core to itself
 * and its CPU and memory figures are its own). Target: ≥ 500,000 events/s on one core.
 */
const EVENTS = 2_000_000;
const WARMUP_EVENTS = 200_000;
const BATCH = 1000;
const CONCURRENT_WRITES = 16;
const MESSAGE_BYTES = 200;
const TAG = 'cloud.aws.vpc.flowlogs';
const TARGET_EVENTS_PER_SECOND = 500_000;

// Plain JavaScript run with \`node -e\`, so it works from the TypeScript sources and the compiled build alike.
const RECEIVER = `
const tls = require('node:tls');
const pki = JSON.parse(process.env.BENCH_PKI);
let bytes = 0;
const server = tls.createServer(
  { cert: pki.cert, key: pki.key, ca: pki.ca, requestCert: true, rejectUnauthorized: true },
  (socket) => {
    socket.on('data', (chunk) => { bytes += chunk.length; });
    socket.on('error', () => {});
  },
);
server.listen(0, '127.0.0.1', () => process.send({ port: server.address().port }));
process.on('message', (msg) => {
  if (msg === 'bytes') process.send({ bytes });
  if (msg === 'close') server.close(() => process.exit(0));
});
`;

export async function run(): Promise<BenchResult[]> {
  const dir = await mkdtemp(join(tmpdir(), 'devo-tls-bench-'));
  const pki = await createTestPki();
  await writeTestPki(dir, pki);
  const receiver = spawn(process.execPath, ['-e', RECEIVER], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    env: {
      ...process.env,
      BENCH_PKI: JSON.stringify({ cert: pki.server.cert, key: pki.server.key, ca: pki.ca.cert }),
    },
  });
  const ask = <T>(message: string): Promise<T> =>
    new Promise((resolve) => {
      receiver.once('message', (reply) => resolve(reply as T));
      receiver.send(message);
    });
  const { port } = await new Promise<{ port: number }>((resolve) =>
    receiver.once('message', (reply) => resolve(reply as { port: number })),
  );

  const config = definition.schema.parse({
    address: '127.0.0.1',
    port,
    chain: 'chain.crt',
    cert: 'client.crt',
    key: 'client.key',
  });
  const metrics = new Metrics();
  const output = definition.create(config, {
    name: 'devo',
    configDir: dir,
    logger: silentLogger(),
    metrics,
    secrets: new Secrets(),
    hostname: 'bench-host',
  });
  // Distinct 200-byte messages, as compact JSON would be; batches reuse them.
  const batch: CollectorEvent[] = Array.from({ length: BATCH }, (_, i) => {
    const head = `{"seq":${i},"data":"`;
    return { tag: TAG, message: head + 'x'.repeat(MESSAGE_BYTES - head.length - 2) + '"}' };
  });

  let peakRss = 0;
  const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage.rss())), 50);
  const send = async (total: number): Promise<void> => {
    let sent = 0;
    const writer = async (): Promise<void> => {
      while (sent < total) {
        sent += BATCH;
        await output.write(batch);
      }
    };
    await Promise.all(Array.from({ length: CONCURRENT_WRITES }, writer));
  };

  try {
    await output.start();
    await send(WARMUP_EVENTS);
    const bytesBefore = await metrics.total('collector_output_bytes_total');
    const receivedBefore = (await ask<{ bytes: number }>('bytes')).bytes;
    const started = process.hrtime.bigint();
    const cpuStarted = process.cpuUsage();
    await send(EVENTS);
    const accepted = Number(process.hrtime.bigint() - started) / 1e9;
    const cpu = process.cpuUsage(cpuStarted);
    const bytes = (await metrics.total('collector_output_bytes_total')) - bytesBefore;
    // End to end: until the receiver has read every byte.
    for (;;) {
      const received = (await ask<{ bytes: number }>('bytes')).bytes - receivedBefore;
      if (received >= bytes) break;
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
    const delivered = Number(process.hrtime.bigint() - started) / 1e9;
    const cpuSeconds = (cpu.user + cpu.system) / 1e6;
    const result = (name: string, seconds: number, notes: string): BenchResult => ({
      name,
      events: EVENTS,
      seconds,
      eventsPerSecond: Math.round(EVENTS / seconds),
      megabytesPerSecond: Number((bytes / seconds / 1e6).toFixed(1)),
      peakRssMb: Math.round(peakRss / 1e6),
      notes,
    });
    // The receiver's decryption competes for the machine's other core: events per second of the
    // sender's own CPU is the figure the one-core target is about.
    const perCpuSecond = EVENTS / cpuSeconds;
    return [
      result(
        'devo-tls output (accepted: flushed to the kernel)',
        accepted,
        `${MESSAGE_BYTES}-byte events, batches of ${BATCH}, ${CONCURRENT_WRITES} writes outstanding, ${config.connections} TLS connections; ` +
          `sender busy ${((cpuSeconds / accepted) * 100).toFixed(0)} % of one core, ${Math.round(perCpuSecond)} events per sender CPU-second; ` +
          `target ≥ ${TARGET_EVENTS_PER_SECOND} events/s on one core: ${perCpuSecond >= TARGET_EVENTS_PER_SECOND ? 'met' : 'NOT met'}`,
      ),
      result(
        'devo-tls output (end to end: read by the receiver)',
        delivered,
        'receiver: node:tls in a child process',
      ),
    ];
  } finally {
    clearInterval(sampler);
    await output.stop();
    receiver.send('close');
    await new Promise((resolve) => receiver.once('exit', resolve));
    await rm(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  for (const r of await run()) console.log(JSON.stringify(r));
}
