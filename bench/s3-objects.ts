import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, rmSync, statSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { createGunzip, createGzip } from 'node:zlib';
import { createTestPki, writeTestPki } from '../sandbox/certs.js';
import { startFakeAws, type FakeAws } from '../sandbox/fake-aws/index.js';
import { AwsClients } from '../src/aws/clients.js';
import { predefinedServiceSchemas } from '../src/config/schema.js';
import { definition as devoTls } from '../src/outputs/devo-platform/index.js';
import { createAuditS3Worker } from '../src/services/audit-events-all/audits-s3.js';
import { createNonCloudwatchLogsWorkers } from '../src/services/non-cloudwatch-logs/index.js';
import { createS3LogsWorker, s3LogsSchema } from '../src/services/s3-logs/index.js';
import type { ServiceWorker, WorkerContext } from '../src/services/definition.js';
import { createLogger } from '../src/telemetry/logger.js';
import { Metrics } from '../src/telemetry/metrics.js';
import { benchPipeline } from './pipeline.js';
import type { BenchResult } from './types.js';
import { seededRandom as random } from '../sandbox/random.js';
import { writeVpcFlowParquetFile } from '../sandbox/vpc-flow-parquet.js';
import { Secrets } from '../src/telemetry/secrets.js';

/**
 * S3 objects announced on SQS, end to end: one gzip object per format (about 1 GiB uncompressed)
 * in the fake S3, announced on its queue, read by the real worker (the non-cloudwatch-logs or
 * audit-events-all factory, default settings) in a child process — the "collector", so its RSS is
 * its own, not the fake's copy of the object — and delivered to the devo_platform output over TLS
 * (client certificate) to a loopback receiver in another child. Timed from sending the
 * notification until the message is deleted, i.e. until every event was flushed by the TLS output
 * and acknowledged. Next to it, the raw gunzip rate of the same object (node's zlib stream, in
 * this process; the mean of a run just before and one just after the end-to-end run). Targets: VPC Flow Logs ≥ 50 % of the raw gunzip rate; CloudTrail ≥ 100,000
 * records/s; peak RSS < 256 MB for a 1 GiB object of each format.
 * ALB access logs are read as the generic source reads them (the worker with elbFormat); VPC Flow
 * Logs in Parquet (GZIP pages, as AWS writes them) are a smaller object, as they read far slower per
 * byte, with no gunzip baseline.
 * Environment: BENCH_S3_OBJECTS_MB (object size, default 1024), BENCH_S3_OBJECTS_PARQUET_MB (the
 * Parquet object's size, default 128), BENCH_S3_OBJECTS_KINDS (formats, e.g. `vpcflowlogs,cloudtrail`), BENCH_S3_OBJECTS_RESEND_WINDOW_BYTES (devo_platform's
 * resend_window_bytes, to see what its buffers weigh in the RSS).
 */
const MEGABYTES = Number(process.env.BENCH_S3_OBJECTS_MB ?? 1024);
const RESEND_WINDOW_BYTES = process.env.BENCH_S3_OBJECTS_RESEND_WINDOW_BYTES;
const PARQUET_MEGABYTES = Number(process.env.BENCH_S3_OBJECTS_PARQUET_MB ?? 128);
const KINDS = (
  process.env.BENCH_S3_OBJECTS_KINDS ?? 'vpcflowlogs,cloudtrail,cloudfront,alb,vpcparquet'
).split(',') as ObjectKind[];
const REGION = 'eu-west-1';
const INPUT_ID = 'bench';
const CHILD_ENV = 'S3_OBJECTS_BENCH_CHILD';
const RSS_TARGET_MB = 256;
const CREDENTIALS = { access_key: 'AKIABENCHBENCHBENCH', access_secret: 'bench-secret-key-0000' };

export type ObjectKind = TextKind | 'vpcparquet';
/** Kinds whose objects are gzip text (generateObject). */
type TextKind = 'vpcflowlogs' | 'cloudtrail' | 'cloudfront' | 'alb';

export interface GeneratedObject {
  /** The gzip bytes. */
  body: Buffer;
  /** Events the object holds. */
  events: number;
  /** Uncompressed size. */
  bytes: number;
}

/** Decimal strings of 0..65535: number-to-string conversions would dominate the generation. */
const DECIMAL = Array.from({ length: 65536 }, (_, i) => String(i));
/** A random decimal in [0, n), n ≤ 65536. */
const num = (next: () => number, n: number): string => DECIMAL[(next() * n) | 0] as string;
/** A random hexadecimal word of 8 digits. */
const hex = (next: () => number): string =>
  (((next() * 0x100000000) >>> 0) + 0x100000000).toString(16).slice(1);
const ip = (next: () => number): string => `10.${num(next, 256)}.${num(next, 256)}.${num(next, 256)}`;

const VPC_HEADER =
  'version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status';
const CLOUDFRONT_HEADER =
  '#Version: 1.0\n#Fields: date time x-edge-location sc-bytes c-ip cs-method cs(Host) cs-uri-stem sc-status cs(Referer) cs(User-Agent) cs-uri-query cs(Cookie) x-edge-result-type x-edge-request-id x-host-header cs-protocol cs-bytes time-taken x-forwarded-for ssl-protocol ssl-cipher x-edge-response-result-type cs-protocol-version fle-status fle-encrypted-fields c-port time-to-first-byte x-edge-detailed-result-type sc-content-type sc-content-len sc-range-start sc-range-end';

const rows: Record<TextKind, (next: () => number, i: number) => string> = {
  alb: (next, i) =>
    `https 2026-11-20T18:${DECIMAL[10 + (i % 50)]}:00.186641Z app/my-loadbalancer/50dc6c495c0c9188 ${ip(next)}:${num(next, 61000)} ` +
    `10.0.0.1:80 0.000 0.0${num(next, 100)} 0.000 200 200 ${num(next, 1000)} ${num(next, 65536)} ` +
    `"GET https://www.example.com:443/api/${hex(next)}?page=${num(next, 100)} HTTP/1.1" "Mozilla/5.0 (Windows NT 10.0; Win64; x64)" ` +
    `ECDHE-RSA-AES128-GCM-SHA256 TLSv1.2 arn:aws:elasticloadbalancing:us-east-2:123456789012:targetgroup/my-targets/73e2d6bc24d8a067 ` +
    `"Root=1-58337281-${hex(next)}${hex(next)}${hex(next)}" "www.example.com" "arn:aws:acm:us-east-2:123456789012:certificate/12345678-1234-1234-1234-123456789012" ` +
    `1 2026-11-20T18:00:00.000000Z "forward" "-" "-" "10.0.0.1:80" "200" "-" "-" TID_${hex(next)}`,
  vpcflowlogs: (next, i) =>
    `2 123456789012 eni-0a1b2c3d4e${DECIMAL[i % 997]} ${ip(next)} ${ip(next)} ${num(next, 61000)} ` +
    `${['22', '443', '80', '3389', '53'][i % 5]} 6 ${num(next, 100)} ${num(next, 65536)}${num(next, 10)} ` +
    `17957${DECIMAL[i >> 14]} 17957${DECIMAL[(i >> 14) + 60]} ${next() < 0.8 ? 'ACCEPT' : 'REJECT'} OK`,
  cloudfront: (next, i) =>
    `2026-11-20\t18:${DECIMAL[10 + (i % 50)]}:02\tLHR62-C2\t${num(next, 65536)}\t${ip(next)}\tGET\t` +
    `d111111abcdef8.cloudfront.net\t/assets/${hex(next)}.js\t200\t-\tMozilla/5.0%20(Windows%20NT%2010.0)\t-\t-\tHit\t` +
    `${hex(next)}${hex(next)}${hex(next)}==\twww.example.com\thttps\t23\t0.001\t-\tTLSv1.3\t` +
    `TLS_AES_128_GCM_SHA256\tHit\tHTTP/2.0\t-\t-\t${num(next, 61000)}\t0.001\tHit\ttext/html\t${num(next, 5000)}\t-\t-`,
  cloudtrail: (next, i) => {
    const service = ['ec2', 's3', 'iam', 'sts', 'lambda', 'kms', 'dynamodb', 'cloudwatch'][i % 8] as string;
    return JSON.stringify({
      eventVersion: '1.09',
      userIdentity: {
        type: 'AssumedRole',
        principalId: `AROAEXAMPLE${i % 50}:session-${hex(next)}`,
        arn: `arn:aws:sts::123456789012:assumed-role/Role${i % 50}/session`,
        accountId: '123456789012',
        accessKeyId: `ASIA${hex(next)}${hex(next)}`,
        sessionContext: {
          sessionIssuer: {
            type: 'Role',
            principalId: 'AROAEXAMPLE',
            arn: 'arn:aws:iam::123456789012:role/Role',
          },
          attributes: { creationDate: '2026-11-20T17:00:00Z', mfaAuthenticated: 'false' },
        },
      },
      eventTime: `2026-11-20T18:${DECIMAL[10 + (i % 50)]}:01Z`,
      eventSource: `${service}.amazonaws.com`,
      eventName: `${['Describe', 'Get', 'List', 'Put'][i % 4]}Thing`,
      awsRegion: ['eu-west-1', 'us-east-1', 'ap-southeast-2', 'us-west-2'][i % 4],
      sourceIPAddress: ip(next),
      userAgent: 'aws-sdk-java/2.20.0 Linux/5.10 OpenJDK_64-Bit_Server_VM/17.0.8',
      requestParameters: {
        filterSet: { items: [{ name: 'tag:Name', valueSet: { items: [{ value: `app-${i}` }] } }] },
      },
      responseElements: null,
      requestID: `${hex(next)}${hex(next)}-${i}`,
      eventID: `${hex(next)}-${hex(next)}-${hex(next)}`,
      readOnly: true,
      eventType: 'AwsApiCall',
      managementEvent: true,
      recipientAccountId: '123456789012',
      eventCategory: 'Management',
    });
  },
};

/** Rows generated once per object; the content repeats them (farther apart than deflate's 32 KiB window). */
const BLOCK_BYTES = 2 * 1024 * 1024;

/**
 * A gzip object of about `bytes` uncompressed bytes of `kind` (a CloudTrail log document, or a log
 * file with its header lines), compressed as it is written: the uncompressed content never exists
 * whole in memory. A 2 MiB block of distinct random rows is generated once and repeated — deflate
 * only sees 32 KiB back, so the compression ratio and the gunzip work are those of random rows.
 */
export async function generateObject(kind: TextKind, bytes: number): Promise<GeneratedObject> {
  const gzip = createGzip({ level: 1 });
  const out: Buffer[] = [];
  gzip.on('data', (chunk: Buffer) => out.push(chunk));
  const ended = new Promise<void>((resolve, reject) => gzip.on('end', resolve).on('error', reject));
  let written = 0;
  const write = async (chunk: Buffer): Promise<void> => {
    written += chunk.length;
    if (!gzip.write(chunk)) await new Promise((resolve) => gzip.once('drain', resolve));
  };
  const [head, separator, tail] =
    kind === 'cloudtrail'
      ? ['{"Records":[', ',', ']}']
      : [kind === 'alb' ? '' : `${kind === 'vpcflowlogs' ? VPC_HEADER : CLOUDFRONT_HEADER}\n`, '\n', '\n'];
  const next = random(bytes);
  const lines: string[] = [];
  for (let size = 0; size < BLOCK_BYTES; size += (lines[lines.length - 1] as string).length + 1) {
    lines.push(rows[kind](next, lines.length));
  }
  const block = Buffer.from(lines.join(separator), 'latin1');
  const between = Buffer.from(separator, 'latin1');
  await write(Buffer.from(head, 'latin1'));
  let events = 0;
  while (written + block.length <= bytes || events === 0) {
    if (events > 0) await write(between);
    await write(block);
    events += lines.length;
  }
  await write(Buffer.from(tail, 'latin1'));
  gzip.end();
  await ended;
  return { body: Buffer.concat(out), events, bytes: written };
}

/**
 * A VPC Flow Logs file in Parquet (AWS's columns and types, see sandbox/vpc-flow-parquet.ts) of
 * about `bytes` bytes at `path`: one row group of `rowGroupRows` random rows, repeated. `codec`
 * GZIP as AWS writes it; UNCOMPRESSED reaches a size with a third of the rows.
 */
export function generateParquetFile(
  path: string,
  bytes: number,
  codec: 'GZIP' | 'UNCOMPRESSED' = 'GZIP',
  rowGroupRows = 100_000,
): { events: number; bytes: number } {
  const next = random(bytes);
  const rowsOfGroup = Array.from({ length: rowGroupRows }, (_, i) => rows.vpcflowlogs(next, i).split(' '));
  const fields = VPC_HEADER.split(' ');
  // One row group first, to learn its size.
  writeVpcFlowParquetFile(path, fields, rowsOfGroup, 1, { codec });
  const copies = Math.max(1, Math.ceil(bytes / statSync(path).size));
  writeVpcFlowParquetFile(path, fields, rowsOfGroup, copies, { codec });
  return { events: copies * rowGroupRows, bytes: statSync(path).size };
}

/** A Parquet flow log object of BENCH_S3_OBJECTS_PARQUET_MB, made at `path` (then removed). */
function parquetObject(path: string): GeneratedObject {
  const { events } = generateParquetFile(path, PARQUET_MEGABYTES * 1e6);
  const body = readFileSync(path);
  rmSync(path);
  return { body, events, bytes: body.length };
}

/** node's zlib alone over the object, in 64 KiB slices as a GetObject body arrives: MB/s of output. */
async function rawGunzipSeconds(gz: Buffer): Promise<number> {
  const started = process.hrtime.bigint();
  const zlib = createGunzip({ chunkSize: 64 * 1024 });
  const done = new Promise<void>((resolve, reject) => {
    zlib.on('data', () => {});
    zlib.on('end', resolve);
    zlib.on('error', reject);
  });
  for (let at = 0; at < gz.length; at += 64 * 1024) {
    if (!zlib.write(gz.subarray(at, at + 64 * 1024)))
      await new Promise((resolve) => zlib.once('drain', resolve));
  }
  zlib.end();
  await done;
  return Number(process.hrtime.bigint() - started) / 1e9;
}

// ---- the collector child -------------------------------------------------------------------------

interface ChildConfig {
  kind: ObjectKind;
  endpoint: string;
  queue: string;
  tlsPort: number;
  certDir: string;
}

interface ChildReport {
  peakRss: number;
  /** process.memoryUsage() when the peak was sampled. */
  atPeak: NodeJS.MemoryUsage;
  idleRss: number;
  cpuSeconds: number;
  /** Time the main thread was not idle in its event loop (ms). */
  mainActiveMs: number;
  delivered: number;
}

/** Runs in the child: the worker with the product's defaults, delivering to devo_platform over TLS. */
async function collectorChild(config: ChildConfig): Promise<void> {
  const idleRss = process.memoryUsage.rss();
  let peakRss = idleRss;
  let atPeak = process.memoryUsage();
  const sampler = setInterval(() => {
    const rss = process.memoryUsage.rss();
    if (rss > peakRss) {
      peakRss = rss;
      atPeak = process.memoryUsage();
    }
  }, 25);
  const secrets = new Secrets();
  const logger = createLogger({ secrets, level: 'warn' });
  const metrics = new Metrics();
  const aws = new AwsClients({
    credentials: CREDENTIALS,
    secrets,
    endpoint: config.endpoint,
    stsRegion: REGION,
  });
  const output = devoTls.create(
    devoTls.schema.parse({
      address: '127.0.0.1',
      port: config.tlsPort,
      chain: 'chain.crt',
      cert: 'client.crt',
      key: 'client.key',
      ...(RESEND_WINDOW_BYTES === undefined ? {} : { resend_window_bytes: Number(RESEND_WINDOW_BYTES) }),
    }),
    { name: 'devo', configDir: config.certDir, logger, metrics, secrets, hostname: 'bench-host' },
  );
  await output.start();
  const pipeline = benchPipeline({
    output,
    aws,
    stateDir: join(config.certDir, 'state'),
    logger,
    metrics,
    inputId: INPUT_ID,
  });
  const ctx = (serviceName: string): WorkerContext => pipeline.context(serviceName, REGION);
  const { abort } = pipeline;
  const tuning = { waitTimeSeconds: 1 };
  let worker: ServiceWorker;
  if (config.kind === 'cloudtrail') {
    const service = predefinedServiceSchemas['audit-events-all'].parse({
      regions: [REGION],
      types: ['audits_s3'],
      audit_sqs_queue_name: config.queue,
    });
    worker = createAuditS3Worker(service, ctx('audit-events-all'), tuning);
  } else if (config.kind === 'alb') {
    // The generic S3 source with only its required keys: `format: auto` finds ALB by its key.
    const service = s3LogsSchema.parse({ types: ['s3'], regions: [REGION], sqs_queue_name: config.queue });
    worker = createS3LogsWorker(service, ctx('lb_logs'), tuning);
  } else {
    const service = predefinedServiceSchemas['non-cloudwatch-logs'].parse({
      regions: [REGION],
      ...(config.kind === 'vpcparquet' ? { vpcflowlogs_sqs_queue_name: config.queue } : {}),
    });
    const [vpc, cloudfront] = createNonCloudwatchLogsWorkers(service, ctx('non-cloudwatch-logs'), tuning);
    worker = (config.kind === 'cloudfront' ? cloudfront : vpc) as ServiceWorker;
  }
  const cpu = process.cpuUsage();
  const loop = performance.eventLoopUtilization();
  process.on('message', (message) => {
    if (message === 'stop') abort.abort();
  });
  process.send?.({ ready: true });
  while (!abort.signal.aborted) await worker.pull();
  const used = process.cpuUsage(cpu);
  const mainActiveMs = performance.eventLoopUtilization(loop).active;
  clearInterval(sampler);
  const report: ChildReport = {
    peakRss,
    idleRss,
    atPeak,
    cpuSeconds: (used.user + used.system) / 1e6,
    mainActiveMs,
    delivered: await metrics.total('collector_events_delivered_total'),
  };
  await worker.stop();
  await pipeline.drain();
  await output.stop();
  await pipeline.state.close();
  aws.destroy();
  process.send?.({ report }, () => process.disconnect());
}

// ---- the parent ----------------------------------------------------------------------------------

// Plain JavaScript run with `node -e`: counts the lines it reads, nothing else.
const RECEIVER = `
const tls = require('node:tls');
const pki = JSON.parse(process.env.BENCH_PKI);
let lines = 0;
const server = tls.createServer(
  { cert: pki.cert, key: pki.key, ca: pki.ca, requestCert: true, rejectUnauthorized: true },
  (socket) => {
    socket.on('data', (chunk) => { let i = -1; while ((i = chunk.indexOf(10, i + 1)) >= 0) lines++; });
    socket.on('error', () => {});
  },
);
server.listen(0, '127.0.0.1', () => process.send({ port: server.address().port }));
process.on('message', (msg) => {
  if (msg === 'lines') process.send({ lines });
  if (msg === 'close') server.close(() => process.exit(0));
});
`;

function nextMessage<T>(child: ChildProcess): Promise<T> {
  return new Promise((resolve, reject) => {
    const onExit = (code: number | null): void =>
      reject(new Error(`bench child exited (code ${code}) early`));
    child.once('exit', onExit);
    child.once('message', (m) => {
      child.off('exit', onExit);
      resolve(m as T);
    });
  });
}

const QUEUES: Record<ObjectKind, string> = {
  vpcflowlogs: `devo-ncwl-vpcfl-${INPUT_ID}`,
  vpcparquet: 'vpc-parquet-bench',
  alb: 'lb-logs-bench',
  cloudfront: `devo-ncwl-cfl-${INPUT_ID}`,
  cloudtrail: 'cloudtrail-bench',
};
const KEYS: Record<ObjectKind, string> = {
  vpcparquet:
    'AWSLogs/123456789012/vpcflowlogs/eu-west-1/2026/11/20/123456789012_vpcflowlogs_eu-west-1_fl-0a1b2c3d_20261120T1805Z_bench.log.parquet',
  alb: 'AWSLogs/123456789012/elasticloadbalancing/eu-west-1/2026/11/20/123456789012_elasticloadbalancing_eu-west-1_app.my-loadbalancer.50dc6c495c0c9188_20261120T1805Z_192.0.2.10_bench.log.gz',
  vpcflowlogs:
    'AWSLogs/123456789012/vpcflowlogs/eu-west-1/2026/11/20/123456789012_vpcflowlogs_eu-west-1_fl-0a1b2c3d_20261120T1805Z_bench.log.gz',
  cloudfront: 'cf/E2EXAMPLE.2026-11-20-18.bench.gz',
  cloudtrail:
    'AWSLogs/123456789012/CloudTrail/eu-west-1/2026/11/20/123456789012_CloudTrail_eu-west-1_20261120T1805Z_Bench0001.json.gz',
};
const LABELS: Record<ObjectKind, string> = {
  vpcparquet: 'VPC Flow Logs in Parquet',
  alb: 'ALB access logs',
  vpcflowlogs: 'VPC Flow Logs',
  cloudfront: 'CloudFront logs',
  cloudtrail: 'CloudTrail',
};

async function measure(
  fake: FakeAws,
  kind: ObjectKind,
  receiver: ChildProcess,
  tlsPort: number,
  certDir: string,
): Promise<BenchResult[]> {
  const parquet = kind === 'vpcparquet';
  const object = parquet
    ? parquetObject(join(certDir, 'bench.parquet'))
    : await generateObject(kind, MEGABYTES * 1024 * 1024);
  const bucket = `bench-${kind}`;
  fake.s3.createBucket(REGION, bucket);
  fake.s3.putObject(bucket, KEYS[kind], object.body);
  fake.sqs.createQueue(REGION, QUEUES[kind]);
  const linesBefore = (await ask<{ lines: number }>(receiver, 'lines')).lines;

  const child = spawn(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url)], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    env: {
      ...process.env,
      [CHILD_ENV]: JSON.stringify({ kind, endpoint: fake.endpoint, queue: QUEUES[kind], tlsPort, certDir }),
    },
  });
  await nextMessage(child);
  // The baseline is taken just before and just after the end-to-end run, while no collector works,
  // so that a shared machine slowing down or speeding up meanwhile moves both sides of the ratio.
  const deletedBefore = fake.sqs.stats(REGION, QUEUES[kind]).deleted;
  const gunzipBefore = parquet ? 0 : await rawGunzipSeconds(object.body);
  const started = process.hrtime.bigint();
  fake.sqs.send(
    REGION,
    QUEUES[kind],
    JSON.stringify({
      Records: [
        {
          eventVersion: '2.1',
          eventSource: 'aws:s3',
          awsRegion: REGION,
          eventName: 'ObjectCreated:Put',
          s3: { bucket: { name: bucket }, object: { key: KEYS[kind], size: object.body.length } },
        },
      ],
    }),
  );
  while (fake.sqs.stats(REGION, QUEUES[kind]).deleted === deletedBefore)
    await new Promise((resolve) => setTimeout(resolve, 5));
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const reported = nextMessage<{ report: ChildReport }>(child);
  child.send('stop');
  const { report } = await reported;
  await new Promise((resolve) => child.once('exit', resolve));
  let received = 0;
  for (let waited = 0; waited < 10_000; waited += 20) {
    received = (await ask<{ lines: number }>(receiver, 'lines')).lines - linesBefore;
    if (received >= object.events) break;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  if (report.delivered !== object.events || received !== object.events) {
    throw new Error(
      `${kind}: ${object.events} events in the object, ${report.delivered} delivered, ${received} received`,
    );
  }
  const gunzipAfter = parquet ? 0 : await rawGunzipSeconds(object.body);
  const gunzipSeconds = (gunzipBefore + gunzipAfter) / 2;

  const mb = object.bytes / 1e6;
  const peakRssMb = Math.round(report.peakRss / 1e6);
  const ratio = gunzipSeconds / seconds;
  const size = parquet
    ? `${(object.bytes / 1e6).toFixed(0)} MB Parquet (GZIP pages, row groups of 100,000 rows); MB/s of Parquet object bytes`
    : `${(object.bytes / 2 ** 20).toFixed(0)} MiB uncompressed, ${(object.body.length / 1e6).toFixed(0)} MB gzip; MB/s of decompressed object bytes; ${(ratio * 100).toFixed(0)} % of the raw gunzip rate`;
  const heap = report.atPeak;
  const mbOf = (n: number): string => `${Math.round(n / 1e6)}`;
  const breakdown = `at peak: heap ${mbOf(heap.heapUsed)}/${mbOf(heap.heapTotal)} MB used/total, external ${mbOf(heap.external)} MB`;
  const targets = [
    `peak RSS < ${RSS_TARGET_MB} MB: ${peakRssMb < RSS_TARGET_MB ? 'met' : 'NOT met'} (idle ${Math.round(report.idleRss / 1e6)} MB)`,
    ...(kind === 'vpcflowlogs' ? [`≥ 50 % of raw gunzip: ${ratio >= 0.5 ? 'met' : 'NOT met'}`] : []),
    ...(kind === 'cloudtrail'
      ? [`≥ 100,000 records/s: ${object.events / seconds >= 100_000 ? 'met' : 'NOT met'}`]
      : []),
  ];
  const endToEnd: BenchResult = {
    name: `${LABELS[kind]}: S3 → devo-tls, end to end`,
    events: object.events,
    seconds: Number(seconds.toFixed(2)),
    eventsPerSecond: Math.round(object.events / seconds),
    megabytesPerSecond: Number((mb / seconds).toFixed(1)),
    peakRssMb,
    notes:
      `${size}; ` +
      `collector busy ${((report.cpuSeconds / seconds) * 100).toFixed(0)} % of one core (${Math.round(object.events / report.cpuSeconds)} events per collector CPU-second), ` +
      `its main thread ${((report.mainActiveMs / 1000 / seconds) * 100).toFixed(0)} % (the rest waiting); ` +
      `${breakdown}; ${targets.join('; ')}`,
  };
  if (parquet) return [endToEnd];
  return [
    endToEnd,
    {
      name: `${LABELS[kind]}: raw gunzip of the same object`,
      events: object.events,
      seconds: Number(gunzipSeconds.toFixed(2)),
      eventsPerSecond: Math.round(object.events / gunzipSeconds),
      megabytesPerSecond: Number((mb / gunzipSeconds).toFixed(1)),
      notes:
        `node zlib stream, 64 KiB input slices, output dropped; the mean of a run just before ` +
        `(${(mb / gunzipBefore).toFixed(0)} MB/s) and one just after (${(mb / gunzipAfter).toFixed(0)} MB/s) the end-to-end run`,
    },
  ];
}

function ask<T>(child: ChildProcess, message: string): Promise<T> {
  const reply = nextMessage<T>(child);
  child.send(message);
  return reply;
}

export async function run(): Promise<BenchResult[]> {
  const certDir = await mkdtemp(join(tmpdir(), 's3-objects-bench-'));
  const pki = await createTestPki();
  await writeTestPki(certDir, pki);
  const receiver = spawn(process.execPath, ['-e', RECEIVER], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    env: {
      ...process.env,
      BENCH_PKI: JSON.stringify({ cert: pki.server.cert, key: pki.server.key, ca: pki.ca.cert }),
    },
  });
  const fake = await startFakeAws();
  try {
    const { port } = await nextMessage<{ port: number }>(receiver);
    const results: BenchResult[] = [];
    for (const kind of KINDS) {
      results.push(...(await measure(fake, kind, receiver, port, certDir)));
    }
    return results;
  } finally {
    await fake.stop();
    receiver.send('close');
    await new Promise((resolve) => receiver.once('exit', resolve));
    await rm(certDir, { recursive: true, force: true });
  }
}

const child = process.env[CHILD_ENV];
if (child) {
  await collectorChild(JSON.parse(child) as ChildConfig);
} else if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  for (const r of await run()) console.log(JSON.stringify(r));
}
