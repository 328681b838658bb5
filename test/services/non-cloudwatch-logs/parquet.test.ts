import assert from 'node:assert/strict';
import { gzipSync } from 'node:zlib';
import { after, afterEach, before, describe, test } from 'node:test';
import { startFakeAws, type FakeAws } from '../../../sandbox/fake-aws/index.js';
import { vpcFlowParquet } from '../../../sandbox/vpc-flow-parquet.js';
import { predefinedServiceSchemas, type NonCloudwatchLogsConfig } from '../../../src/config/schema.js';
import { VPC_DEFAULT_FORMAT } from '../../../src/formats/vpc-flow.js';
import type { ServiceWorker } from '../../../src/services/definition.js';
import { createNonCloudwatchLogsWorkers } from '../../../src/services/non-cloudwatch-logs/index.js';
import { capturingLogger, createHarness, type Harness } from '../../helpers/harness.js';
import {
  eventBridgeNotification,
  fixture,
  nativeNotification,
  queueWithDeadLetters,
  snsNotification,
} from '../shared/s3-objects/fixtures.js';
import { setTimeout as sleep } from 'node:timers/promises';

const REGION = 'eu-west-1';
const KEY = (n: number, ext: string): string =>
  `AWSLogs/123456789012/vpcflowlogs/eu-west-1/2026/11/20/123456789012_vpcflowlogs_eu-west-1_fl-0a1b2c3d4e5f6a7b8_20261120T18${String(n).padStart(2, '0')}Z_5f2c7a1e.log.${ext}`;

/** A VPC Flow Logs text file's header and rows, as field arrays. */
function rowsOf(text: string): { fields: string[]; rows: string[][] } {
  const [header, ...rows] = text.split('\n').filter((l) => l !== '');
  return { fields: header!.split(' '), rows: rows.map((r) => r.split(' ')) };
}

describe('VPC Flow Logs in Parquet through non-cloudwatch-logs (real SDK against the fake AWS)', () => {
  let fake: FakeAws;
  let h: Harness;
  let log: ReturnType<typeof capturingLogger>;
  const workers: ServiceWorker[] = [];

  before(async () => {
    fake = await startFakeAws();
  });
  after(async () => {
    await fake.stop();
  });
  afterEach(async () => {
    await Promise.all(workers.splice(0).map((w) => w.stop()));
    await h.close();
  });

  function vpcWorker(queue: string, unvalidated: Partial<NonCloudwatchLogsConfig> = {}): ServiceWorker {
    log = capturingLogger();
    fake.clearRequests();
    h = createHarness({ endpoint: fake.endpoint, logger: log.logger, inputId: 'pq' });
    const config = predefinedServiceSchemas['non-cloudwatch-logs'].parse({
      regions: [REGION],
      vpcflowlogs_sqs_queue_name: queue,
    });
    const [vpc] = createNonCloudwatchLogsWorkers(
      { ...config, ...unvalidated },
      h.context('non-cloudwatch-logs', REGION),
      {
        waitTimeSeconds: 0,
      },
    );
    workers.push(vpc!);
    return vpc!;
  }

  async function processAll(worker: ServiceWorker, queue: string): Promise<void> {
    const deadline = Date.now() + 10_000;
    for (;;) {
      const s = fake.sqs.stats(REGION, queue);
      if (s.visible + s.inFlight + s.delayed === 0) break;
      if (Date.now() > deadline) assert.fail(`queue ${queue} not emptied: ${JSON.stringify(s)}`);
      await worker.pull();
      await sleep(20);
    }
    await h.delivery.drain(5_000);
  }

  test('a Parquet object delivers the same events as the same rows in text, default and custom formats, read with ranged GETs', async () => {
    const queue = 'vpc-parquet';
    const bucket = 'flow-logs-parquet';
    fake.sqs.createQueue(REGION, queue);
    fake.s3.createBucket(REGION, bucket);
    const worker = vpcWorker(queue);
    const defaultText = fixture('vpc-flow-v2-default.log');
    const customText = fixture('vpc-flow-v5-custom.log');
    const objects: [string, Buffer][] = [
      [KEY(1, 'gz'), gzipSync(defaultText)],
      [
        KEY(2, 'parquet'),
        vpcFlowParquet(rowsOf(defaultText).fields, rowsOf(defaultText).rows, { rowGroupRows: 2 }),
      ],
      [KEY(3, 'gz'), gzipSync(customText)],
      [KEY(4, 'parquet'), vpcFlowParquet(rowsOf(customText).fields, rowsOf(customText).rows)],
    ];
    for (const [key, body] of objects) fake.s3.putObject(bucket, key, body);
    // One message per object, in the three notification shapes.
    fake.sqs.send(REGION, queue, nativeNotification([{ bucket, key: KEY(1, 'gz'), region: REGION }]));
    fake.sqs.send(REGION, queue, snsNotification([{ bucket, key: KEY(2, 'parquet'), region: REGION }]));
    fake.sqs.send(REGION, queue, nativeNotification([{ bucket, key: KEY(3, 'gz'), region: REGION }]));
    fake.sqs.send(REGION, queue, eventBridgeNotification({ bucket, key: KEY(4, 'parquet'), region: REGION }));

    await processAll(worker, queue);

    assert.equal(fake.sqs.stats(REGION, queue).deleted, 4);
    assert.ok(h.output.events.every((e) => e.tag === 'cloud.aws.vpc.flowlogs'));
    const messages = h.output.events.map((e) => e.message);
    const textDefault = defaultText
      .split('\n')
      .slice(1)
      .filter((l) => l !== '');
    const customRows = rowsOf(customText).rows.length;
    assert.equal(messages.length, 2 * textDefault.length + 2 * customRows);
    // Each text object's events appear twice: once from it, once from its Parquet twin.
    const counts = new Map<string, number>();
    for (const m of messages) counts.set(m, (counts.get(m) ?? 0) + 1);
    assert.ok(
      [...counts.values()].every((n) => n === 2),
      JSON.stringify([...counts]),
    );
    for (const row of textDefault) assert.equal(counts.get(row), 2, row);
    const ranged = fake
      .requestsFor({ service: 's3', operation: 'GetObject' })
      .filter((r) => r.params.Key === KEY(2, 'parquet') && r.params.Range !== undefined);
    assert.ok(ranged.length >= 3, `footer and row groups by range, got ${ranged.length}`);
  });

  test('a row group over max_parquet_row_group_bytes: nothing delivered, OBJECT_LIMIT_EXCEEDED logged with bucket, key and row group, the message kept and moved to the DLQ', async () => {
    const queue = 'vpc-parquet-big';
    const dlq = 'vpc-parquet-big-dlq';
    const bucket = 'flow-logs-big';
    queueWithDeadLetters(fake, REGION, queue, dlq, 2);
    fake.s3.createBucket(REGION, bucket);
    const rows = Array.from({ length: 3000 }, (_, i) =>
      `2 123456789012 eni-0a1b2c3d4e5f6a7b8 10.0.${i >> 8}.${i & 255} 172.31.16.21 ${20000 + i} 443 6 20 ${4000 + i} 1418530010 1418530070 ACCEPT OK`.split(
        ' ',
      ),
    );
    fake.s3.putObject(
      bucket,
      KEY(5, 'parquet'),
      vpcFlowParquet(VPC_DEFAULT_FORMAT, rows, { rowGroupRows: 1000 }),
    );
    fake.sqs.send(REGION, queue, nativeNotification([{ bucket, key: KEY(5, 'parquet'), region: REGION }]));
    const worker = vpcWorker(queue, {
      max_parquet_row_group_bytes: 16 * 1024,
      visibility_timeout_seconds: 1,
    });

    await processAll(worker, queue);

    assert.equal(h.output.events.length, 0);
    assert.equal(fake.sqs.stats(REGION, queue).deleted, 0);
    assert.equal(
      fake.sqs.stats(REGION, dlq).visible,
      1,
      'moved to the dead-letter queue after maxReceiveCount',
    );
    const lines = log.lines().filter((l) => l.objectKey === KEY(5, 'parquet') && l.level === 'error');
    assert.equal(lines.length, 2, 'logged at each receive');
    assert.equal(lines[0]!.bucket, bucket);
    assert.equal(lines[0]!.awsCode, 'OBJECT_LIMIT_EXCEEDED');
    const err = lines[0]!.err as { code: string; details: { rowGroup: number; limit: number } };
    assert.equal(err.code, 'OBJECT_LIMIT_EXCEEDED');
    assert.equal(err.details.rowGroup, 0);
    assert.equal(err.details.limit, 16 * 1024);
    assert.equal(await h.metrics.total('collector_errors_total', { code: 'OBJECT_LIMIT_EXCEEDED' }), 2);
  });
});
