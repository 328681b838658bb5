import assert from 'node:assert/strict';
import { after, afterEach, before, describe, test } from 'node:test';
import { PassThrough, type Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { startFakeAws, type FakeAws } from '../../../../sandbox/fake-aws/index.js';
import {
  predefinedServiceSchemas,
  type AuditEventsConfig,
  type NonCloudwatchLogsConfig,
} from '../../../../src/config/schema.js';
import { definition as auditDefinition } from '../../../../src/services/audit-events-all/index.js';
import { createAuditS3Worker } from '../../../../src/services/audit-events-all/audits-s3.js';
import { vpcFlowLogsFormat } from '../../../../src/services/shared/s3-objects/log-formats.js';
import type { ObjectFormat } from '../../../../src/services/shared/s3-objects/formats.js';
import { createNonCloudwatchLogsWorkers } from '../../../../src/services/non-cloudwatch-logs/index.js';
import { s3ObjectsWorker } from '../../../../src/services/shared/s3-objects/worker.js';
import type { ServiceWorker } from '../../../../src/services/definition.js';
import { capturingLogger, createHarness, type Harness } from '../../../helpers/harness.js';
import { waitUntil } from '../../../helpers/wait.js';
import {
  cloudFrontFile,
  cloudTrailDigestKey,
  cloudTrailFile,
  cloudTrailKey,
  eventBridgeNotification,
  fixture,
  nativeNotification,
  queueWithDeadLetters,
  snsNotification,
  vpcFlowFile,
} from './fixtures.js';
import { setTimeout as sleep } from 'node:timers/promises';

const REGION = 'eu-west-1';
const AUDIT = 'audit-events-all';
const NCWL = 'non-cloudwatch-logs';

/** `body`'s first `limit` bytes, then a connection reset. */
function cutAfter(body: Readable, limit: number): Readable {
  const out = new PassThrough();
  let seen = 0;
  body.on('data', (chunk: Buffer) => {
    if (seen + chunk.length >= limit) {
      out.write(chunk.subarray(0, limit - seen));
      body.destroy();
      out.destroy(Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }));
      return;
    }
    seen += chunk.length;
    if (!out.write(chunk)) body.pause();
  });
  out.on('drain', () => body.resume());
  body.on('end', () => out.end());
  return out;
}

describe('S3 objects announced on SQS (real SDK against the fake AWS)', () => {
  let fake: FakeAws;
  let h: Harness;
  let log: ReturnType<typeof capturingLogger>;
  let n = 0;
  const workers: ServiceWorker[] = [];
  const unique = (prefix: string): string => `${prefix}-${++n}`;

  before(async () => {
    fake = await startFakeAws();
  });
  after(async () => {
    await fake.stop();
  });
  afterEach(async () => {
    fake.clearFaults();
    await Promise.all(workers.splice(0).map((w) => w.stop()));
    await h.close();
  });

  function harness(inputId = 'test'): Harness {
    log = capturingLogger();
    fake.clearRequests();
    h = createHarness({ endpoint: fake.endpoint, logger: log.logger, inputId });
    return h;
  }

  function auditWorker(
    fields: Record<string, unknown>,
    unvalidated: Partial<AuditEventsConfig> = {},
  ): ServiceWorker {
    const config = predefinedServiceSchemas[AUDIT].parse({
      regions: [REGION],
      types: ['audits_s3'],
      ...fields,
    });
    const worker = createAuditS3Worker({ ...config, ...unvalidated }, h.context(AUDIT, REGION), {
      waitTimeSeconds: 0,
    });
    workers.push(worker);
    return worker;
  }

  function ncwlWorkers(
    fields: Record<string, unknown> = {},
    unvalidated: Partial<NonCloudwatchLogsConfig> = {},
  ): ServiceWorker[] {
    const config = predefinedServiceSchemas[NCWL].parse({ regions: [REGION], ...fields });
    const made = createNonCloudwatchLogsWorkers({ ...config, ...unvalidated }, h.context(NCWL, REGION), {
      waitTimeSeconds: 0,
    });
    workers.push(...made);
    return made;
  }

  /** Pulls until every message of `queues` is gone (deleted or moved to a DLQ), or fails the test. */
  async function processAll(ws: ServiceWorker[], queues: string[], ms = 10_000): Promise<void> {
    const deadline = Date.now() + ms;
    const empty = () =>
      queues.every((q) => {
        const s = fake.sqs.stats(REGION, q);
        return s.visible + s.inFlight + s.delayed === 0;
      });
    while (!empty()) {
      if (Date.now() > deadline)
        assert.fail(
          `queues ${queues.join(', ')} not emptied: ${JSON.stringify(queues.map((q) => fake.sqs.stats(REGION, q)))}`,
        );
      for (const w of ws) await w.pull();
      await sleep(20);
    }
    await h.delivery.drain(5_000);
  }

  /** A fresh queue announcing one object, `key` in a fresh bucket. */
  function announcedObject(key: string, body: Buffer | string): { queue: string; bucket: string } {
    const queue = unique('vpc');
    const bucket = unique('logs');
    fake.sqs.createQueue(REGION, queue);
    fake.s3.createBucket(REGION, bucket);
    fake.s3.putObject(bucket, key, body);
    fake.sqs.send(REGION, queue, nativeNotification([{ bucket, key, region: REGION }]));
    return { queue, bucket };
  }

  const metric = (name: string, labels: Record<string, string>) => h.metrics.total(name, labels);
  const gz = (text: string) => gzipSync(Buffer.from(text));

  test('CloudTrail: one native notification announcing several files; a digest file is skipped', async () => {
    harness();
    const queue = unique('ct');
    const bucket = unique('trail-bucket');
    fake.sqs.createQueue(REGION, queue);
    fake.s3.createBucket(REGION, bucket);
    const [a, b, digest] = [cloudTrailKey(1), cloudTrailKey(2), cloudTrailDigestKey()];
    fake.s3.putObject(bucket, a, gz(cloudTrailFile(3)));
    fake.s3.putObject(bucket, b, gz(cloudTrailFile(2, (r, i) => (r.eventID = `b-${i}`))));
    fake.s3.putObject(
      bucket,
      digest,
      gz('{"awsAccountId":"123456789012","digestEndTime":"2026-11-20T19:00:00Z"}'),
    );
    fake.sqs.send(
      REGION,
      queue,
      nativeNotification([a, b, digest].map((key) => ({ bucket, key, region: REGION }))),
    );

    await processAll([auditWorker({ audit_sqs_queue_name: queue })], [queue]);

    const events = h.output.events;
    assert.equal(events.length, 5);
    assert.ok(events.every((e) => e.tag === 'cloud.aws.cloudwatch.events'));
    // Records arrive one per event, compact (the file was pretty-printed), complete.
    assert.ok(events.every((e) => !e.message.includes('\n') && !e.message.includes(': ')));
    const ids = events.map((e) => (JSON.parse(e.message) as { eventID: string }).eventID).sort();
    assert.deepEqual(ids, ['b-0', 'b-1', 'evt-0', 'evt-1', 'evt-2']);
    assert.equal(await metric('collector_filtered_total', { reason: 'object_key_filter' }), 1);
    const gets = fake.requestsFor({ service: 's3', operation: 'GetObject' }).map((r) => r.params.Key);
    assert.deepEqual(gets.sort(), [a, b].sort(), 'the digest file is never read');
    assert.equal(fake.sqs.stats(REGION, queue).deleted, 1);
  });

  test('CloudTrail through SNS, EventBridge and a trail notification; auto_event_type and drop_event_names', async () => {
    harness();
    const queue = unique('ct');
    const bucket = unique('trail-bucket');
    fake.sqs.createQueue(REGION, queue);
    fake.s3.createBucket(REGION, bucket);
    const [a, b, c] = [cloudTrailKey(3), cloudTrailKey(4), cloudTrailKey(11)];
    for (const key of [a, b, c]) fake.s3.putObject(bucket, key, gz(cloudTrailFile(4)));
    fake.sqs.send(REGION, queue, snsNotification([{ bucket, key: a, region: REGION }]));
    fake.sqs.send(REGION, queue, eventBridgeNotification({ bucket, key: b, region: REGION }));
    // A trail's SNS topic announces its files itself, without a region: the queue's is used.
    fake.sqs.send(
      REGION,
      queue,
      JSON.stringify({
        Type: 'Notification',
        TopicArn: 'arn:aws:sns:eu-west-1:123456789012:trail-topic',
        Message: JSON.stringify({ s3Bucket: bucket, s3ObjectKey: [c] }),
      }),
    );

    const worker = auditWorker({
      audit_sqs_queue_name: queue,
      auto_event_type: true,
      drop_event_names: ['DescribeInstances'],
    });
    await processAll([worker], [queue]);

    // Each file: records 0 and 2 are ec2 DescribeInstances (dropped), 1 and 3 s3 PutBucketPolicy.
    assert.deepEqual([...h.output.byTag()], [['cloud.aws.cloudtrail.s3', 6]]);
    assert.ok(
      h.output.events.every(
        (e) => (JSON.parse(e.message) as { eventName: string }).eventName === 'PutBucketPolicy',
      ),
    );
    assert.equal(await metric('collector_filtered_total', { reason: 'drop_event_names' }), 6);
  });

  test('use_region_and_account_id_from_event fills {region} and {account_id} from each record', async () => {
    harness();
    const [fromEvent, fromWorker] = [unique('ct'), unique('ct')];
    const bucket = unique('trail-bucket');
    fake.s3.createBucket(REGION, bucket);
    const key = cloudTrailKey(5);
    fake.s3.putObject(bucket, key, gz(cloudTrailFile(2)));
    for (const q of [fromEvent, fromWorker]) {
      fake.sqs.createQueue(REGION, q);
      fake.sqs.send(REGION, q, nativeNotification([{ bucket, key, region: REGION }]));
    }
    const tag = 'my.audit.{region}.{account_id}';
    await processAll(
      [auditWorker({ audit_sqs_queue_name: fromEvent, tag, use_region_and_account_id_from_event: true })],
      [fromEvent],
    );
    assert.deepEqual([...h.output.byTag()].sort(), [
      ['my.audit.eu-west-1.123456789012', 1],
      ['my.audit.us-east-1.210987654321', 1],
    ]);
    h.output.events.length = 0;
    // Without it: the queue's region and the credentials' account (the fake's default account).
    await processAll([auditWorker({ audit_sqs_queue_name: fromWorker, tag })], [fromWorker]);
    assert.deepEqual([...h.output.byTag()], [['my.audit.eu-west-1.123456789012', 2]]);
  });

  test('non-cloudwatch-logs: VPC default and custom formats, CloudFront, in the three notification shapes', async () => {
    const id = unique('in');
    harness(id);
    const vpcQueue = `devo-ncwl-vpcfl-${id}`; // the default name
    const cfQueue = unique('my-cloudfront');
    const bucket = unique('logs');
    fake.sqs.createQueue(REGION, vpcQueue);
    fake.sqs.createQueue(REGION, cfQueue);
    fake.s3.createBucket(REGION, bucket);
    // Default format, announced by the fake's own S3 notification (native shape).
    fake.s3.addQueueNotification(bucket, fake.sqs.queueArn(REGION, vpcQueue)!, { prefix: 'vpc/' });
    fake.s3.putObject(bucket, 'vpc/default.log.gz', gz(vpcFlowFile(3)));
    // Custom format (v5 fields), through SNS; plain text, not compressed.
    fake.s3.putObject(bucket, 'custom/v5.log', fixture('vpc-flow-v5-custom.log'));
    fake.sqs.send(REGION, vpcQueue, snsNotification([{ bucket, key: 'custom/v5.log', region: REGION }]));
    // Default format through EventBridge.
    fake.s3.putObject(bucket, 'eb/default.log.gz', gz(vpcFlowFile(2)));
    fake.sqs.send(
      REGION,
      vpcQueue,
      eventBridgeNotification({ bucket, key: 'eb/default.log.gz', region: REGION }),
    );
    // CloudFront through EventBridge, and through SNS.
    fake.s3.putObject(bucket, 'cf/E2EXAMPLE.2026-11-20-18.a1b2c3d4.gz', gz(cloudFrontFile(4)));
    fake.sqs.send(
      REGION,
      cfQueue,
      eventBridgeNotification({ bucket, key: 'cf/E2EXAMPLE.2026-11-20-18.a1b2c3d4.gz', region: REGION }),
    );
    fake.s3.putObject(bucket, 'cf/E2EXAMPLE.2026-11-20-19.e5f6a7b8.gz', gz(cloudFrontFile(2)));
    fake.sqs.send(
      REGION,
      cfQueue,
      snsNotification([{ bucket, key: 'cf/E2EXAMPLE.2026-11-20-19.e5f6a7b8.gz', region: REGION }]),
    );

    const ws = ncwlWorkers({ cloudfrontlogs_sqs_queue_name: cfQueue });
    assert.deepEqual(
      ws.map((w) => w.name),
      [`${NCWL}:vpcflowlogs/${REGION}`, `${NCWL}:cloudfront/${REGION}`],
    );
    await processAll(ws, [vpcQueue, cfQueue]);

    const byTag = (tag: string) => h.output.events.filter((e) => e.tag === tag).map((e) => e.message);
    const vpc = byTag('cloud.aws.vpc.flowlogs');
    const defaultRows = [vpcFlowFile(3), vpcFlowFile(2)].flatMap((f) => f.trim().split('\n').slice(1));
    assert.deepEqual(
      vpc.filter((m) => !m.startsWith('{')).sort(),
      defaultRows.sort(),
      'default format: rows as written',
    );
    const custom = vpc.filter((m) => m.startsWith('{')).map((m) => JSON.parse(m) as Record<string, string>);
    assert.equal(custom.length, 1);
    assert.equal(custom[0]!['flow-direction'], 'egress');
    assert.equal(custom[0]!['pkt-dst-aws-service'], 'AMAZON');
    const cf = byTag('cloud.aws.cloudfront');
    assert.equal(cf.length, 6);
    assert.ok(cf.every((m) => m.startsWith('2026-11-20\t') && !m.startsWith('#')));
    assert.ok(cf.some((m) => m.includes('/page-3.html')));
  });

  test('a user tag overrides both non-cloudwatch-logs tables', async () => {
    const id = unique('in');
    harness(id);
    const bucket = unique('logs');
    fake.s3.createBucket(REGION, bucket);
    fake.sqs.createQueue(REGION, `devo-ncwl-vpcfl-${id}`);
    fake.sqs.createQueue(REGION, `devo-ncwl-cfl-${id}`);
    fake.s3.putObject(bucket, 'v.log', vpcFlowFile(2));
    fake.s3.putObject(bucket, 'c.log', cloudFrontFile(1));
    fake.sqs.send(
      REGION,
      `devo-ncwl-vpcfl-${id}`,
      nativeNotification([{ bucket, key: 'v.log', region: REGION }]),
    );
    fake.sqs.send(
      REGION,
      `devo-ncwl-cfl-${id}`,
      nativeNotification([{ bucket, key: 'c.log', region: REGION }]),
    );
    await processAll(ncwlWorkers({ tag: 'my.app.{region}.logs' }), [
      `devo-ncwl-vpcfl-${id}`,
      `devo-ncwl-cfl-${id}`,
    ]);
    assert.deepEqual([...h.output.byTag()], [['my.app.eu-west-1.logs', 3]]);
  });

  test('URL-encoded keys are decoded; a bucket in another region is read there', async () => {
    const id = unique('in');
    harness(id);
    const queue = `devo-ncwl-vpcfl-${id}`;
    fake.sqs.createQueue(REGION, queue);
    fake.sqs.createQueue(REGION, `devo-ncwl-cfl-${id}`);
    const local = unique('local');
    fake.s3.createBucket(REGION, local);
    fake.s3.addQueueNotification(local, fake.sqs.queueArn(REGION, queue)!);
    const oddKey = 'AWSLogs/my file+v=1 (copy)/ünï%20.log.gz';
    fake.s3.putObject(local, oddKey, gz(vpcFlowFile(2))); // the fake S3 sends the form-encoded notification
    assert.ok(
      !fake.sqs.messages(REGION, queue)[0]!.body.includes('my file'),
      'the notification key is encoded',
    );
    const remote = unique('remote');
    fake.s3.createBucket('us-west-2', remote);
    fake.s3.putObject(remote, 'flows.log.gz', gz(vpcFlowFile(5)));
    fake.sqs.send(
      REGION,
      queue,
      nativeNotification([{ bucket: remote, key: 'flows.log.gz', region: 'us-west-2' }]),
    );

    await processAll(ncwlWorkers(), [queue]);

    assert.equal(h.output.events.length, 7);
    const gets = fake.requestsFor({ service: 's3', operation: 'GetObject' });
    assert.deepEqual(
      gets.map((r) => [r.params.Key, r.region]).sort(),
      [
        [oddKey, REGION],
        ['flows.log.gz', 'us-west-2'],
      ].sort(),
      'each object read once, with the client of its bucket region',
    );
  });

  test('a truncated gzip: the records before are delivered, the error counted and logged, the message deleted', async () => {
    harness();
    const queue = unique('ct');
    const bucket = unique('trail-bucket');
    fake.sqs.createQueue(REGION, queue);
    fake.s3.createBucket(REGION, bucket);
    const key = cloudTrailKey(6);
    const whole = gz(cloudTrailFile(3_000));
    const cut = Math.floor(whole.length * 0.6);
    fake.s3.putObject(bucket, key, whole.subarray(0, cut));
    fake.sqs.send(REGION, queue, nativeNotification([{ bucket, key, region: REGION }]));

    await processAll([auditWorker({ audit_sqs_queue_name: queue })], [queue]);

    const ids = h.output.events.map((e) => (JSON.parse(e.message) as { eventID: string }).eventID);
    assert.ok(ids.length > 1_000 && ids.length < 3_000, `${ids.length} records delivered`);
    assert.deepEqual(
      ids,
      Array.from({ length: ids.length }, (_, i) => `evt-${i}`),
      'the records before the cut, in order',
    );
    assert.equal(await metric('collector_errors_total', { code: 'OBJECT_CORRUPT' }), 1);
    assert.equal(fake.sqs.stats(REGION, queue).deleted, 1);
    const line = log.lines().find((l) => l.bucket === bucket && l.objectKey === key && l.level === 'error');
    assert.ok(line, 'the failure is logged with bucket and key');
    assert.equal(line.offset, cut, 'the compressed byte where the content ends');
    assert.equal(line.event, 'object_corrupt');
    const err = line.err as { code: string; details: Record<string, unknown> };
    assert.equal(err.code, 'OBJECT_CORRUPT');
    assert.deepEqual([err.details.compression, err.details.problem], ['gzip', 'truncated']);
    assert.equal(line.eventsDelivered, ids.length);
  });

  test('invalid JSON midway: the records before are delivered and the message deleted', async () => {
    harness();
    const queue = unique('ct');
    const bucket = unique('trail-bucket');
    fake.sqs.createQueue(REGION, queue);
    fake.s3.createBucket(REGION, bucket);
    const key = cloudTrailKey(7);
    const text = cloudTrailFile(50);
    const cut = text.indexOf('"evt-30"');
    fake.s3.putObject(bucket, key, gz(`${text.slice(0, cut)}}}}garbage${text.slice(cut)}`));
    fake.sqs.send(REGION, queue, nativeNotification([{ bucket, key, region: REGION }]));

    await processAll([auditWorker({ audit_sqs_queue_name: queue })], [queue]);

    assert.equal(h.output.events.length, 30);
    assert.equal(await metric('collector_errors_total', { code: 'OBJECT_CORRUPT' }), 1);
    const line = log.lines().find((l) => l.objectKey === key && l.level === 'error');
    assert.ok(line && typeof line.offset === 'number' && line.offset > 0);
  });

  test('a missing object: the message is not deleted, is redelivered without re-sending the objects already delivered, and ends in the DLQ', async () => {
    harness();
    const queue = unique('ct');
    const dlq = unique('ct-dlq');
    const bucket = unique('trail-bucket');
    queueWithDeadLetters(fake, REGION, queue, dlq, 2);
    fake.s3.createBucket(REGION, bucket);
    const [present, missing] = [cloudTrailKey(8), cloudTrailKey(9)];
    fake.s3.putObject(bucket, present, gz(cloudTrailFile(2)));
    fake.sqs.send(
      REGION,
      queue,
      nativeNotification([present, missing].map((key) => ({ bucket, key, region: REGION }))),
    );

    const worker = auditWorker({ audit_sqs_queue_name: queue }, { visibility_timeout_seconds: 1 });
    await worker.pull();
    await sleep(50);
    const first = fake.sqs.stats(REGION, queue);
    assert.equal(first.deleted, 0);
    assert.equal(first.inFlight, 1, 'left invisible until its timeout, not deleted');

    await processAll([worker], [queue]);
    assert.equal(
      fake.sqs.stats(REGION, dlq).visible,
      1,
      'moved to the dead-letter queue after maxReceiveCount',
    );
    assert.equal(fake.sqs.stats(REGION, queue).received, 2);
    assert.equal(
      h.output.events.length,
      2,
      'the object that was read is delivered once, not again on each receive of its message',
    );
    const again = log.lines().find((l) => l.event === 's3_objects_already_delivered');
    assert.deepEqual(again?.objectKeys, [present]);
    assert.equal(await metric('collector_errors_total', { code: 'OBJECT_UNREADABLE' }), 2);
    const lines = log.lines().filter((l) => l.objectKey === missing && l.level === 'error');
    assert.equal(lines.length, 2);
    assert.equal(lines[0]!.bucket, bucket);
    assert.equal(lines[0]!.awsCode, 'NoSuchKey');
  });

  test('AccessDenied leaves the message for redelivery; it is read once access is granted', async () => {
    harness();
    const queue = unique('ct');
    const bucket = unique('trail-bucket');
    fake.sqs.createQueue(REGION, queue);
    fake.s3.createBucket(REGION, bucket);
    const key = cloudTrailKey(10);
    fake.s3.putObject(bucket, key, gz(cloudTrailFile(3)));
    fake.s3.setAccessDenied(bucket, key);
    fake.sqs.send(REGION, queue, nativeNotification([{ bucket, key, region: REGION }]));

    const worker = auditWorker({ audit_sqs_queue_name: queue }, { visibility_timeout_seconds: 1 });
    await worker.pull();
    assert.equal(fake.sqs.stats(REGION, queue).deleted, 0);
    const denied = log.lines().find((l) => l.objectKey === key && l.awsCode === 'AccessDenied');
    assert.ok(denied, 'logged with the AWS error code');

    fake.s3.setAccessDenied(bucket, key, false);
    await processAll([worker], [queue]);
    assert.equal(h.output.events.length, 3);
    assert.equal(fake.sqs.stats(REGION, queue).deleted, 1);
  });

  test('transient S3 failures: retried by the SDK, and past its retries the message waits for redelivery', async () => {
    harness();
    const { queue, bucket } = announcedObject('a.log.gz', gz(vpcFlowFile(10)));
    const [worker] = ncwlWorkers({ vpcflowlogs_sqs_queue_name: queue }, { visibility_timeout_seconds: 1 });

    fake.inject({ service: 's3', operation: 'GetObject', kind: 'throttle', times: 1 });
    fake.inject({ service: 's3', operation: 'GetObject', kind: '5xx', status: 503, times: 1 });
    await processAll([worker!], [queue]);
    assert.equal(h.output.events.length, 10, 'the SDK retried');
    assert.equal(fake.requestsFor({ service: 's3', operation: 'GetObject' }).length, 3);

    h.output.events.length = 0;
    fake.sqs.send(REGION, queue, nativeNotification([{ bucket, key: 'a.log.gz', region: REGION }]));
    const remove = fake.inject({ service: 's3', operation: 'GetObject', kind: '5xx', status: 500 });
    await worker!.pull();
    assert.equal(fake.sqs.stats(REGION, queue).inFlight, 1, 'left for redelivery');
    assert.equal(await metric('collector_errors_total', { code: 'AWS_CALL_FAILED' }), 1);
    assert.ok(log.lines().some((l) => l.level === 'warn' && l.awsCode === 'InternalError'));
    remove();
    await processAll([worker!], [queue]);
    assert.equal(h.output.events.length, 10);
  });

  test('a transfer cut short mid-body is transient: the message is read again', async () => {
    harness();
    const { queue } = announcedObject('big.log', vpcFlowFile(40_000)); // several MB: the cut comes mid-object
    const [worker] = ncwlWorkers({ vpcflowlogs_sqs_queue_name: queue }, { visibility_timeout_seconds: 1 });
    // The network drops the first transfer after 1 MB (below the deserializer, as a socket reset would).
    let cuts = 1;
    h.aws.s3(REGION).middlewareStack.add(
      (next) => async (args) => {
        const out = await next(args);
        const response = out.response as { body: Readable };
        if (cuts-- > 0) response.body = cutAfter(response.body, 1024 * 1024);
        return out;
      },
      { step: 'deserialize', priority: 'low', name: 'cutBodyForTest' },
    );

    await processAll([worker!], [queue]);

    const rows = new Set(h.output.events.map((e) => e.message));
    assert.equal(rows.size, 40_000, 'every row delivered (those before the cut twice: at least once)');
    assert.ok(h.output.events.length > 40_000);
    assert.equal(fake.requestsFor({ service: 's3', operation: 'GetObject' }).length, 2);
    assert.equal(fake.sqs.stats(REGION, queue).received, 2);
    assert.ok(
      log.lines().some((l) => l.level === 'warn' && l.objectKey === 'big.log' && l.awsCode === 'ECONNRESET'),
    );
  });

  for (const closeDelimited of [false, true]) {
    for (const compressed of [false, true]) {
      const framing = closeDelimited ? 'without content-length, ending cleanly' : 'with content-length';
      test(`a ${compressed ? 'gzip' : 'plain'} GetObject body whose connection drops midway (${framing}) is retried, not taken for corruption`, async () => {
        harness();
        const queue = unique('vpc');
        const bucket = unique('logs');
        fake.sqs.createQueue(REGION, queue);
        fake.s3.createBucket(REGION, bucket);
        const file = vpcFlowFile(5_000);
        const body = compressed ? gz(file) : Buffer.from(file);
        const { etag } = fake.s3.putObject(bucket, 'cut.log', body);
        // As S3 announces it: the size and ETag of the object written.
        const place = {
          bucket,
          key: 'cut.log',
          region: REGION,
          size: body.length,
          eTag: etag.replace(/"/g, ''),
        };
        fake.sqs.send(REGION, queue, nativeNotification([place]));
        const [worker] = ncwlWorkers(
          { vpcflowlogs_sqs_queue_name: queue },
          { visibility_timeout_seconds: 1 },
        );
        // The real SDK reads a 200 whose connection drops at 60 % of the body, once.
        const afterBytes = Math.floor(body.length * 0.6);
        fake.inject({
          service: 's3',
          operation: 'GetObject',
          kind: 'cut',
          afterBytes,
          closeDelimited,
          times: 1,
        });

        await processAll([worker!], [queue]);

        assert.equal(new Set(h.output.events.map((e) => e.message)).size, 5_000, 'every row delivered');
        assert.equal(fake.sqs.stats(REGION, queue).received, 2, 'the message was read again');
        assert.equal(await metric('collector_errors_total', { code: 'OBJECT_CORRUPT' }), 0);
        const warning = log.lines().find((l) => l.level === 'warn' && l.objectKey === 'cut.log');
        assert.equal((warning?.err as { code?: string } | undefined)?.code, 'AWS_CALL_FAILED');
        assert.equal(warning?.awsCode, closeDelimited ? 'IncompleteBody' : 'ECONNRESET');
      });
    }
  }

  test('shutdown while an object is being read releases its message without logging a failure', async () => {
    harness();
    const { queue } = announcedObject('slow.log', vpcFlowFile(100));
    fake.inject({ service: 's3', operation: 'GetObject', kind: 'delay', delayMs: 5_000 });
    const [worker] = ncwlWorkers({ vpcflowlogs_sqs_queue_name: queue });
    const pulling = worker!.pull();
    await waitUntil(() => fake.sqs.stats(REGION, queue).inFlight === 1, 5_000, 'the message to be received');
    // The fake holds the GetObject (logged once answered): the object is being read.
    await sleep(300);
    h.abort.abort();
    await pulling;
    // The collector stops workers once in-flight events are delivered or the grace period is
    // over: time enough for the aborted read to end first, as here.
    await sleep(300);
    await worker!.stop();
    const stats = fake.sqs.stats(REGION, queue);
    assert.deepEqual([stats.deleted, stats.visible], [0, 1], 'released for another consumer, not deleted');
    assert.equal(h.output.events.length, 0);
    assert.deepEqual(
      log.lines().filter((l) => l.level === 'error' || l.level === 'warn'),
      [],
      'nothing logged as a failure',
    );
    assert.equal(await h.metrics.total('collector_errors_total'), 0);
  });

  test('objects in flight are bounded per worker, and used up to the bound', async () => {
    harness();
    const queue = unique('vpc');
    const bucket = unique('logs');
    fake.sqs.createQueue(REGION, queue);
    fake.s3.createBucket(REGION, bucket);
    const keys = Array.from({ length: 6 }, (_, i) => `o${i}.log.gz`);
    for (const key of keys) fake.s3.putObject(bucket, key, gz(vpcFlowFile(200)));
    for (let m = 0; m < 3; m++) {
      fake.sqs.send(
        REGION,
        queue,
        nativeNotification(keys.slice(m * 2, m * 2 + 2).map((key) => ({ bucket, key, region: REGION }))),
      );
    }
    h.output.delayMs = 30; // objects stay open while their batches wait for the output
    let open = 0;
    let most = 0;
    const inner = vpcFlowLogsFormat('cloud.aws.vpc.flowlogs');
    const counting: ObjectFormat = {
      name: inner.name,
      accepts: inner.accepts,
      open(source, ref) {
        const parser = inner.open(source, ref);
        most = Math.max(most, ++open);
        return { ...parser, end: (out) => (open--, parser.end(out)) };
      },
    };
    const worker = s3ObjectsWorker(h.context(NCWL, REGION), {
      name: 'counting',
      queueName: queue,
      receivers: 2,
      visibilityTimeoutSeconds: 30,
      maxReceiveCount: 0,
      maxObjectsInFlight: 2,
      maxBytesInFlight: 1 << 20,
      format: async () => counting,
      limits: { maxEvents: 50, maxBytes: 1 << 20 },
      waitTimeSeconds: 0,
    });
    workers.push(worker);
    await processAll([worker], [queue]);
    assert.equal(h.output.events.length, 1_200);
    assert.equal(most, 2);
  });

  test('the byte budget is given back once the outputs accepted the events, before they confirm them', async () => {
    harness();
    const { queue } = announcedObject('big.log.gz', gz(vpcFlowFile(2_000)));
    h.output.holdConfirmations = true;
    const worker = s3ObjectsWorker(h.context(NCWL, REGION), {
      name: 'budget',
      queueName: queue,
      receivers: 1,
      visibilityTimeoutSeconds: 30,
      maxReceiveCount: 0,
      maxObjectsInFlight: 1,
      // A few batches of 50 rows: the object is many times larger.
      maxBytesInFlight: 16 * 1024,
      format: async () => vpcFlowLogsFormat('cloud.aws.vpc.flowlogs'),
      limits: { maxEvents: 50, maxBytes: 1 << 20 },
      waitTimeSeconds: 0,
    });
    workers.push(worker);
    const pulled = worker.pull();
    await waitUntil(
      () => h.output.events.length === 2_000,
      5_000,
      'the whole object read, nothing confirmed',
    );
    await pulled;
    assert.equal(fake.sqs.stats(REGION, queue).deleted, 0, 'not deleted before its events are confirmed');
    h.output.confirmAll();
    await waitUntil(() => fake.sqs.stats(REGION, queue).deleted === 1, 5_000, 'the deletion once confirmed');
  });

  test('s3:TestEvent and bodies that are no notification are deleted and counted', async () => {
    harness();
    const queue = unique('ct');
    fake.sqs.createQueue(REGION, queue);
    fake.sqs.send(
      REGION,
      queue,
      JSON.stringify({
        Service: 'Amazon S3',
        Event: 's3:TestEvent',
        Time: '2026-11-20T18:00:00.000Z',
        Bucket: 'b',
      }),
    );
    fake.sqs.send(REGION, queue, 'hello, not JSON');
    fake.sqs.send(REGION, queue, JSON.stringify({ Records: [{ eventSource: 'aws:s3', s3: {} }] }));

    await processAll([auditWorker({ audit_sqs_queue_name: queue })], [queue]);

    assert.equal(fake.sqs.stats(REGION, queue).deleted, 3);
    assert.equal(h.output.events.length, 0);
    assert.equal(await metric('collector_filtered_total', { reason: 's3_test_event' }), 1);
    assert.equal(await metric('collector_malformed_total', { kind: 's3_notification' }), 2);
    assert.equal(log.lines().filter((l) => l.level === 'warn' && typeof l.messageId === 'string').length, 2);
  });

  test('audit-events-all builds one worker per type', () => {
    harness();
    const config = predefinedServiceSchemas[AUDIT].parse({
      regions: [REGION],
      types: ['audits_api', 'audits_s3'],
      audit_sqs_queue_name: 'q',
    });
    const ws = auditDefinition.createWorkers(config, h.context(AUDIT, REGION));
    assert.deepEqual(
      ws.map((w) => w.name),
      [`${AUDIT}:audits_api/${REGION}`, `${AUDIT}:audits_s3/${REGION}`],
    );
  });
});
