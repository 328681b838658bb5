import { fork, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { startFakeAws } from '../sandbox/fake-aws/index.js';
import { DeleteMessageBatchCommand, GetQueueUrlCommand, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { AwsClients } from '../src/aws/clients.js';
import { predefinedServiceSchemas } from '../src/config/schema.js';
import { definition as fileOutput } from '../src/outputs/file/index.js';
import type { ServiceWorker, WorkerContext } from '../src/services/definition.js';
import { benchPipeline, rssSampler } from './pipeline.js';
import { createServiceEventsWorker } from '../src/services/service-events-all/index.js';
import { createSecurityHubWorker } from '../src/services/sqs-cloudwatch-consumer/index.js';
import { RECEIVED_ATTRIBUTES } from '../src/services/shared/sqs/consumer.js';
import { silentLogger } from '../src/telemetry/logger.js';
import { Metrics } from '../src/telemetry/metrics.js';
import type { BenchResult } from './types.js';
import { Secrets } from '../src/telemetry/secrets.js';

/**
 * service-events-all and sqs-cloudwatch-consumer end to end: the fake SQS (real SDK over HTTP on
 * 127.0.0.1) through the shared SQS consumer (10 receivers), delivery and a `file` output, until
 * every message is deleted. The fake runs in a child process, so each side's CPU time is measured
 * on its own: the side whose CPU time is close to the wall time is the bottleneck. A last line
 * measures the bare SDK doing only ReceiveMessage + DeleteMessageBatch (10 loops), the ceiling
 * for one-event messages: what the consumer adds is the difference.
 * Sizes: BENCH_SQS_SCALE (default 1) × 50,000 EventBridge events (one message each), × 5,000
 * Security Hub events of 10 findings, × 50,000 messages for the bare SDK; a warm-up run first.
 */
const SCALE = Number(process.env.BENCH_SQS_SCALE ?? 1);
const REGION = 'eu-west-1';
const CHILD_FLAG = '--sqs-bench-fake-aws';
const TARGET_EVENTS_PER_SECOND = 5_000;

interface QueueStats {
  sent: number;
  received: number;
  deleted: number;
}
type ToChild =
  { type: 'seed'; queue: string; bodies: string[] } | { type: 'stats'; queue: string } | { type: 'stop' };
type FromChild =
  | { type: 'ready'; endpoint: string }
  | { type: 'seeded' }
  | { type: 'stats'; stats: QueueStats; cpuMs: number };

/** The fake AWS in this child process: seeds queues and reports queue stats and its CPU time. */
async function fakeChild(): Promise<void> {
  const fake = await startFakeAws({ requestLogLimit: 1_000 });
  // The parent is gone (finished or crashed): do not linger.
  process.once('disconnect', () => void fake.stop().then(() => process.exit(0)));
  const reply = (m: FromChild) => process.send!(m);
  process.on('message', (m: ToChild) => {
    if (m.type === 'seed') {
      fake.sqs.createQueue(REGION, m.queue);
      for (const body of m.bodies) fake.sqs.send(REGION, m.queue, body);
      reply({ type: 'seeded' });
    } else if (m.type === 'stats') {
      const cpu = process.cpuUsage();
      reply({ type: 'stats', stats: fake.sqs.stats(REGION, m.queue), cpuMs: (cpu.user + cpu.system) / 1000 });
    } else {
      void fake.stop().then(() => process.disconnect());
    }
  });
  reply({ type: 'ready', endpoint: fake.endpoint });
}

/** One request to the child, answered in order. */
function ask<T extends FromChild['type']>(
  child: ChildProcess,
  message: ToChild | undefined,
  type: T,
): Promise<Extract<FromChild, { type: T }>> {
  return new Promise((resolve, reject) => {
    const onMessage = (m: FromChild) => {
      if (m.type !== type) return;
      child.off('message', onMessage);
      child.off('exit', onExit);
      resolve(m as Extract<FromChild, { type: T }>);
    };
    const onExit = (code: number | null) =>
      reject(new Error(`fake AWS child exited (${code}) while waiting for ${type}`));
    child.on('message', onMessage);
    child.once('exit', onExit);
    if (message) child.send(message);
  });
}

function serviceEvent(i: number): string {
  const sources = ['aws.guardduty', 'aws.ec2', 'aws.health', 'aws.s3'];
  return JSON.stringify({
    version: '0',
    id: `c8c4daa7-a20c-2f03-0070-${i.toString(16).padStart(12, '0')}`,
    'detail-type': 'GuardDuty Finding',
    source: sources[i % sources.length],
    account: '123456789012',
    time: '2026-11-20T18:43:48Z',
    region: REGION,
    resources: [],
    detail: {
      schemaVersion: '2.0',
      accountId: '123456789012',
      region: REGION,
      id: `16afba5c5c43e07c9e3e5e2e544e${i.toString(16).padStart(4, '0')}`,
      type: 'Recon:EC2/PortProbeUnprotectedPort',
      severity: 2,
      title: `Unprotected port on EC2 instance i-${i.toString(16).padStart(8, '0')} is being probed.`,
    },
  });
}

function securityHubEvent(i: number, findings: number): string {
  return JSON.stringify({
    version: '0',
    id: `8e5622f9-d81c-4d81-612a-${i.toString(16).padStart(12, '0')}`,
    'detail-type': 'Security Hub Findings - Imported',
    source: 'aws.securityhub',
    account: '123456789012',
    time: '2026-11-20T18:50:27Z',
    region: REGION,
    resources: [],
    detail: {
      findings: Array.from({ length: findings }, (_, f) => ({
        SchemaVersion: '2018-10-08',
        Id: `arn:aws:securityhub:${REGION}:123456789012:finding/${i}-${f}`,
        ProductArn: `arn:aws:securityhub:${REGION}::product/aws/securityhub`,
        GeneratorId: 'aws-foundational-security-best-practices/v/1.0.0/S3.1',
        AwsAccountId: '123456789012',
        Types: ['Software and Configuration Checks/Industry and Regulatory Standards'],
        CreatedAt: '2026-11-20T18:40:00.000Z',
        UpdatedAt: '2026-11-20T18:49:00.000Z',
        Severity: { Label: 'MEDIUM', Normalized: 40 },
        Title: 'S3.1 S3 Block Public Access setting should be enabled',
        Resources: [{ Type: 'AwsAccount', Id: 'AWS::::Account:123456789012', Region: REGION }],
        Compliance: { Status: 'FAILED' },
        RecordState: 'ACTIVE',
        Workflow: { Status: 'NEW' },
      })),
    },
  });
}

interface Scenario {
  name: string;
  service: string;
  messages: number;
  eventsPerMessage: number;
  body: (i: number) => string;
  worker: (queue: string, ctx: WorkerContext) => ServiceWorker;
}

/** Seeded in slices, so no IPC message grows past a few MB. */
async function seed(
  child: ChildProcess,
  queue: string,
  messages: number,
  body: (i: number) => string,
): Promise<void> {
  for (let i = 0; i < messages; i += 5_000) {
    const bodies = Array.from({ length: Math.min(5_000, messages - i) }, (_, j) => body(i + j));
    await ask(child, { type: 'seed', queue, bodies }, 'seeded');
  }
}

/** Polls the fake until every message of `queue` is deleted; returns its last stats. */
async function deletedAll(child: ChildProcess, queue: string, messages: number) {
  let last = await ask(child, { type: 'stats', queue }, 'stats');
  while (last.stats.deleted < messages) {
    await new Promise((r) => setTimeout(r, 20));
    last = await ask(child, { type: 'stats', queue }, 'stats');
  }
  return last;
}

function cpuNotes(collectorCpu: number, fakeCpu: number, seconds: number): string {
  const busy = (cpuSeconds: number) => `${Math.round((cpuSeconds / seconds) * 100)}%`;
  const bottleneck =
    collectorCpu >= fakeCpu
      ? 'collector (mostly AWS SDK request/response handling)'
      : 'fake AWS (HTTP server and JSON protocol)';
  return (
    `CPU: collector ${collectorCpu.toFixed(1)} s (${busy(collectorCpu)} of a core), ` +
    `fake ${fakeCpu.toFixed(1)} s (${busy(fakeCpu)}); bottleneck: ${bottleneck}`
  );
}

async function measure(child: ChildProcess, aws: AwsClients, dir: string, s: Scenario): Promise<BenchResult> {
  const queue = `${s.service}-${s.messages}`;
  await seed(child, queue, s.messages, s.body);
  const metrics = new Metrics();
  const logger = silentLogger();
  const file = join(dir, `${queue}.jsonl`);
  const output = fileOutput.create(
    { path: file },
    { name: 'file', configDir: dir, logger, metrics, secrets: new Secrets(), hostname: 'bench' },
  );
  await output.start();
  const pipeline = benchPipeline({ output, aws, stateDir: join(dir, `state-${queue}`), logger, metrics });
  const ctx = pipeline.context(s.service, REGION);
  const worker = s.worker(queue, ctx);
  const rss = rssSampler();

  const fakeBefore = await ask(child, { type: 'stats', queue }, 'stats');
  const cpuBefore = process.cpuUsage();
  const started = process.hrtime.bigint();
  const pulling = worker.pull();
  const last = await deletedAll(child, queue, s.messages);
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const cpu = process.cpuUsage(cpuBefore);
  const peak = rss.stop();
  // The pull ends with its empty long poll (1 s here), outside the measured time.
  await pulling;
  await worker.stop();
  await output.stop();
  await pipeline.state.close();

  const events = s.messages * s.eventsPerMessage;
  const lines = (await readFile(file, 'utf8')).split('\n').length - 1;
  if (lines !== events) throw new Error(`${s.name}: ${lines} events written, ${events} expected`);
  if (last.stats.received !== s.messages)
    throw new Error(`${s.name}: ${last.stats.received} receipts for ${s.messages} messages`);
  const collectorCpu = (cpu.user + cpu.system) / 1e6;
  const fakeCpu = (last.cpuMs - fakeBefore.cpuMs) / 1000;
  const eventsPerSecond = Math.round(events / seconds);
  return {
    name: s.name,
    events,
    seconds: Math.round(seconds * 1000) / 1000,
    eventsPerSecond,
    peakRssMb: Math.round(peak / 1048576),
    notes:
      `target ≥ ${TARGET_EVENTS_PER_SECOND} events/s${eventsPerSecond >= TARGET_EVENTS_PER_SECOND ? ' met' : ' NOT met'}; ` +
      `${s.messages} messages, 10 receivers; ${cpuNotes(collectorCpu, fakeCpu, seconds)}`,
  };
}

/**
 * The ceiling: 10 loops of ReceiveMessage (10) + DeleteMessageBatch with the SDK clients and
 * the system attributes the consumer uses (sqsAbortable for polls, sqsCached for deletions), no
 * handling.
 */
async function measureBareSdk(child: ChildProcess, aws: AwsClients, messages: number): Promise<BenchResult> {
  const queue = `bare-sdk-${messages}`;
  await seed(child, queue, messages, serviceEvent);
  const polls = aws.sqsAbortable(REGION, new AbortController().signal);
  const deletes = aws.sqsCached(REGION);
  const { QueueUrl } = await polls.send(new GetQueueUrlCommand({ QueueName: queue }));
  const fakeBefore = await ask(child, { type: 'stats', queue }, 'stats');
  const cpuBefore = process.cpuUsage();
  const started = process.hrtime.bigint();
  const loops = Array.from({ length: 10 }, async () => {
    for (;;) {
      const { Messages = [] } = await polls.send(
        new ReceiveMessageCommand({
          QueueUrl,
          MaxNumberOfMessages: 10,
          WaitTimeSeconds: 1,
          VisibilityTimeout: 120,
          MessageSystemAttributeNames: [...RECEIVED_ATTRIBUTES],
        }),
      );
      if (Messages.length === 0) return;
      const Entries = Messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle }));
      await deletes.send(new DeleteMessageBatchCommand({ QueueUrl, Entries }));
    }
  });
  const last = await deletedAll(child, queue, messages);
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const cpu = process.cpuUsage(cpuBefore);
  await Promise.all(loops);
  const collectorCpu = (cpu.user + cpu.system) / 1e6;
  const fakeCpu = (last.cpuMs - fakeBefore.cpuMs) / 1000;
  return {
    name: 'SQS ReceiveMessage + DeleteMessageBatch, bare SDK (ceiling for one-event messages)',
    events: messages,
    seconds: Math.round(seconds * 1000) / 1000,
    eventsPerSecond: Math.round(messages / seconds),
    notes: `no handling, no delivery; ${cpuNotes(collectorCpu, fakeCpu, seconds)}`,
  };
}

export async function run(): Promise<BenchResult[]> {
  const child = fork(fileURLToPath(import.meta.url), [CHILD_FLAG], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const { endpoint } = await ask(child, undefined, 'ready');
  const dir = mkdtempSync(join(tmpdir(), 'dac-bench-sqs-'));
  const aws = new AwsClients({
    credentials: { access_key: 'AKIABENCHBENCHBENCH', access_secret: 'bench-secret' },
    secrets: new Secrets(),
    endpoint,
    stsRegion: REGION,
  });
  const tuning = { waitTimeSeconds: 1 };
  const scenarios: Scenario[] = [
    {
      name: 'service-events-all (fake SQS → file)',
      service: 'service-events-all',
      messages: 50_000 * SCALE,
      eventsPerMessage: 1,
      body: serviceEvent,
      worker: (queue, ctx) =>
        createServiceEventsWorker(
          predefinedServiceSchemas['service-events-all'].parse({
            regions: [REGION],
            cloudwatch_sqs_queue_name: queue,
            auto_event_type: true,
            concurrent_receivers: 10,
          }),
          ctx,
          tuning,
        ),
    },
    {
      name: 'sqs-cloudwatch-consumer, 10 findings a message (fake SQS → file)',
      service: 'sqs-cloudwatch-consumer',
      messages: 5_000 * SCALE,
      eventsPerMessage: 10,
      body: (i) => securityHubEvent(i, 10),
      worker: (queue, ctx) =>
        createSecurityHubWorker(
          predefinedServiceSchemas['sqs-cloudwatch-consumer'].parse({
            regions: [REGION],
            cloudwatch_sqs_queue_name: queue,
            concurrent_receivers: 10,
          }),
          ctx,
          tuning,
        ),
    },
  ];
  const results: BenchResult[] = [];
  try {
    // Warm-up (JIT, sockets), not reported.
    await measure(child, aws, dir, { ...scenarios[0]!, messages: 5_000 });
    for (const s of scenarios) results.push(await measure(child, aws, dir, s));
    results.push(await measureBareSdk(child, aws, 50_000 * SCALE));
  } finally {
    aws.destroy();
    child.send({ type: 'stop' } satisfies ToChild);
    await new Promise((r) => child.once('exit', r));
    rmSync(dir, { recursive: true, force: true });
  }
  return results;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  if (process.argv.includes(CHILD_FLAG)) await fakeChild();
  else for (const r of await run()) console.log(JSON.stringify(r));
}
