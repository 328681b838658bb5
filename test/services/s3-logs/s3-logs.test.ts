import assert from 'node:assert/strict';
import { after, afterEach, before, describe, test } from 'node:test';
import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { vpcFlowParquet } from '../../../sandbox/vpc-flow-parquet.js';
import { startFakeAws, type FakeAws } from '../../../sandbox/fake-aws/index.js';
import { s3LogsSchema } from '../../../src/config/schema.js';
import { createS3LogsWorker, type S3LogsConfig } from '../../../src/services/s3-logs/index.js';
import type { ServiceWorker } from '../../../src/services/definition.js';
import { capturingLogger, createHarness, type Harness } from '../../helpers/harness.js';
import {
  cloudFrontFile,
  cloudTrailFile,
  cloudTrailKey,
  eventBridgeNotification,
  nativeNotification,
  snsNotification,
  vpcFlowFile,
} from '../shared/s3-objects/fixtures.js';
import { setTimeout as sleep } from 'node:timers/promises';

const REGION = 'eu-west-1';
const SERVICE = 'lb_logs';
const ACCOUNT = '123456789012';
const gz = (text: string) => gzipSync(Buffer.from(text));

const ALB_KEY = `AWSLogs/${ACCOUNT}/elasticloadbalancing/${REGION}/2026/11/20/${ACCOUNT}_elasticloadbalancing_${REGION}_app.my-lb.1234567890abcdef_20261120T1805Z_172.160.001.192_20sg8hgm.log.gz`;
const VPC_KEY = `AWSLogs/${ACCOUNT}/vpcflowlogs/${REGION}/2026/11/20/${ACCOUNT}_vpcflowlogs_${REGION}_fl-1234abcd_20261120T1805Z_hash.log.gz`;
const CF_KEY = 'cf/EMLARXS9EXAMPLE.2026-11-20-18.RT4KCN4SGK9.gz';
// An ALB access log line as the ELB user guide shows it.
const ALB_LINE =
  'http 2026-11-20T18:05:41.123456Z app/my-lb/50dc6c495c0c9188 192.168.131.39:2817 10.0.0.1:80 0.000 0.001 0.000 200 200 34 366 "GET http://www.example.com:80/ HTTP/1.1" "curl/7.46.0" - - arn:aws:elasticloadbalancing:us-east-2:123456789012:targetgroup/my-targets/73e2d6bc24d8a067 "Root=1-58337262-36d228ad5d99923122bbe354" "-" "-" 0 2026-11-20T18:05:41.122000Z "forward" "-" "-" "10.0.0.1:80" "200" "-" "-" TID_1234';

/** A Parquet export at a key no AWS log layout matches. */
const PARQUET_KEY = 'exports/2026/11/20/table.parquet';

describe('types: [s3] — any log in S3 announced on SQS (real SDK against the fake AWS)', () => {
  let fake: FakeAws;
  let h: Harness;
  let log: ReturnType<typeof capturingLogger>;
  let n = 0;
  const workers: ServiceWorker[] = [];
  const unique = (prefix: string): string => `${prefix}-${++n}`;
  const metric = (name: string, labels: Record<string, string>) => h.metrics.total(name, labels);

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

  function harness(): Harness {
    log = capturingLogger();
    h = createHarness({ endpoint: fake.endpoint, logger: log.logger });
    return h;
  }

  /** A worker of a config holding only `fields` besides the required keys (validated, so defaults apply). */
  function worker(fields: Record<string, unknown>, unvalidated: Partial<S3LogsConfig> = {}): ServiceWorker {
    const config = s3LogsSchema.parse({ types: ['s3'], regions: [REGION], ...fields });
    const w = createS3LogsWorker({ ...config, ...unvalidated }, h.context(SERVICE, REGION), {
      waitTimeSeconds: 0,
    });
    workers.push(w);
    return w;
  }

  /** Pulls until every message of `queue` is gone (deleted or moved to a DLQ). */
  async function processAll(w: ServiceWorker, queue: string, ms = 15_000): Promise<void> {
    const deadline = Date.now() + ms;
    for (;;) {
      const s = fake.sqs.stats(REGION, queue);
      if (s.visible + s.inFlight + s.delayed === 0) break;
      if (Date.now() > deadline) assert.fail(`queue ${queue} not emptied: ${JSON.stringify(s)}`);
      await w.pull();
      await sleep(20);
    }
    await h.delivery.drain(5_000);
  }

  function queueAndBucket(queueAttributes?: Record<string, string>): { queue: string; bucket: string } {
    const queue = unique('s3logs');
    const bucket = unique('logs');
    fake.sqs.createQueue(REGION, queue, queueAttributes);
    fake.s3.createBucket(REGION, bucket);
    return { queue, bucket };
  }

  const tagsOf = () => {
    const byTag: Record<string, number> = {};
    for (const e of h.output.events) byTag[e.tag] = (byTag[e.tag] ?? 0) + 1;
    return byTag;
  };

  test('defaults (required keys only): one queue, a mix of formats in native, SNS and EventBridge notifications, each with its tag', async () => {
    harness();
    const { queue, bucket } = queueAndBucket();
    const objects: [key: string, body: Buffer | string][] = [
      [cloudTrailKey(1), gz(cloudTrailFile(3))],
      [VPC_KEY, gz(vpcFlowFile(4))],
      [CF_KEY, gz(cloudFrontFile(2))],
      ['exports/data.json', '[{"id": 1}, {"id": 2}]'],
      ['exports/events.log.gz', gz('{"n": 1}\n{"n": 2}\n{"n": 3}\n')],
      ['app/server.log', 'started\nlistening on 8080\n'],
    ];
    for (const [key, body] of objects) fake.s3.putObject(bucket, key, body);
    const place = (key: string) => ({ bucket, key, region: REGION });
    fake.sqs.send(REGION, queue, nativeNotification([place(objects[0]![0]), place(objects[3]![0])]));
    fake.sqs.send(REGION, queue, snsNotification([place(objects[1]![0]), place(objects[4]![0])]));
    fake.sqs.send(REGION, queue, eventBridgeNotification(place(objects[2]![0])));
    fake.sqs.send(REGION, queue, eventBridgeNotification(place(objects[5]![0])));

    await processAll(worker({ sqs_queue_name: queue }), queue);

    assert.deepEqual(tagsOf(), {
      'cloud.aws.cloudwatch.events': 3,
      'cloud.aws.vpc.flowlogs': 4,
      'cloud.aws.cloudfront': 2,
      'cloud.aws.s3.json': 2,
      'cloud.aws.s3.ndjson': 3,
      'cloud.aws.s3.lines': 2,
    });
    const messages = (tag: string) => h.output.events.filter((e) => e.tag === tag).map((e) => e.message);
    assert.deepEqual(messages('cloud.aws.s3.json'), ['{"id":1}', '{"id":2}']);
    assert.deepEqual(messages('cloud.aws.s3.lines'), ['started', 'listening on 8080']);
    assert.equal(fake.sqs.stats(REGION, queue).deleted, 4);
  });

  test('every AWS log format of the fixtures, at the key AWS writes it, read under the defaults with its default tag', async () => {
    harness();
    const { queue, bucket } = queueAndBucket();
    const dir = new URL('../../fixtures/aws-logs/', import.meta.url);
    const manifest = JSON.parse(readFileSync(new URL('manifest.json', dir), 'utf8')) as {
      files: { file: string; events: number; key: string }[];
    };
    // The Devo table (or cloud.aws.<service>.<log type>) each sample must land in.
    const expectedTag: Record<string, string> = {
      'alb-access.log': 'web.aws.alb.access',
      'nlb-tls-access.log': 'cloud.aws.nlb.access',
      'classic-elb-access.log': 'web.aws.elb.access',
      's3-server-access.log': 'web.aws.s3.access',
      'waf.log': 'cloud.aws.waf.logs',
      'route53-resolver-query.log': 'dns.aws.route53',
      'network-firewall-alert.log': 'cloud.aws.networkfirewall.alert',
      'network-firewall-flow.log': 'cloud.aws.networkfirewall.flow',
      'network-firewall-tls.log': 'cloud.aws.networkfirewall.tls',
      'guardduty-findings.jsonl': 'cloud.aws.guardduty.findings',
      'config-snapshot.json': 'cloud.aws.configlogs.events',
      'config-history.json': 'cloud.aws.configlogs.events',
    };
    assert.deepEqual(manifest.files.map((f) => f.file).sort(), Object.keys(expectedTag).sort());
    const shapes = [
      nativeNotification,
      snsNotification,
      (refs: { bucket: string; key: string; region: string }[]) => eventBridgeNotification(refs[0]!),
    ];
    const expected: Record<string, number> = {};
    manifest.files.forEach((f, i) => {
      const content = readFileSync(new URL(f.file, dir));
      fake.s3.putObject(bucket, f.key, f.key.endsWith('.gz') ? gzipSync(content) : content);
      fake.sqs.send(REGION, queue, shapes[i % shapes.length]!([{ bucket, key: f.key, region: REGION }]));
      expected[expectedTag[f.file]!] = (expected[expectedTag[f.file]!] ?? 0) + f.events;
    });

    await processAll(worker({ sqs_queue_name: queue }), queue);

    assert.deepEqual(tagsOf(), expected);
    assert.equal(fake.sqs.stats(REGION, queue).deleted, manifest.files.length);
  });

  test('file_selectors: first match wins, with its format, tag (placeholders filled) and expand_event_list_from_field', async () => {
    harness();
    const { queue, bucket } = queueAndBucket();
    fake.s3.putObject(bucket, ALB_KEY, gz(`${ALB_LINE}\n${ALB_LINE}\n`));
    fake.s3.putObject(bucket, 'batch/1.json.gz', gz('{"items": [{"a": 1}, {"a": 2}, {"a": 3}]}'));
    fake.s3.putObject(bucket, 'other/x.txt', 'one line');
    fake.sqs.send(
      REGION,
      queue,
      nativeNotification(
        [ALB_KEY, 'batch/1.json.gz', 'other/x.txt'].map((key) => ({ bucket, key, region: REGION })),
      ),
    );

    await processAll(
      worker({
        sqs_queue_name: queue,
        tag: 'my.app.misc',
        file_selectors: [
          { regex: '/elasticloadbalancing/', format: 'lines', tag: 'my.app.lb.{event_type}.{region}' },
          { regex: String.raw`\.json\.gz$`, format: 'json', expand_event_list_from_field: 'items' },
          { regex: String.raw`\.json`, format: 'lines', tag: 'my.app.never_used' },
        ],
      }),
      queue,
    );

    assert.deepEqual(tagsOf(), { 'my.app.lb.lines.eu-west-1': 2, 'my.app.misc': 4 });
    assert.equal(h.output.events.find((e) => e.tag.startsWith('my.app.lb'))?.message, ALB_LINE);
    assert.deepEqual(
      h.output.events.filter((e) => e.message.startsWith('{')).map((e) => e.message),
      ['{"a":1}', '{"a":2}', '{"a":3}'],
    );
  });

  test('an object in a format nothing reads (Parquet that is not a flow log) keeps its message; with a redrive policy it ends in the DLQ, each receive logged with bucket, key and format', async () => {
    harness();
    const dlq = unique('dlq');
    fake.sqs.createQueue(REGION, dlq);
    const { queue, bucket } = queueAndBucket({
      RedrivePolicy: JSON.stringify({
        deadLetterTargetArn: fake.sqs.queueArn(REGION, dlq),
        maxReceiveCount: 2,
      }),
    });
    fake.s3.putObject(
      bucket,
      PARQUET_KEY,
      Buffer.concat([Buffer.from('PAR1'), Buffer.alloc(64, 1), Buffer.from('PAR1')]),
    );
    fake.sqs.send(REGION, queue, nativeNotification([{ bucket, key: PARQUET_KEY, region: REGION }]));

    // max_receive_count stays at its default (5): the queue's redrive policy decides.
    const w = worker({ sqs_queue_name: queue }, { visibility_timeout_seconds: 1 });
    await w.pull();
    assert.equal(
      fake.sqs.stats(REGION, queue).inFlight,
      1,
      'kept: left invisible until its timeout, not deleted',
    );
    await processAll(w, queue);

    assert.equal(fake.sqs.stats(REGION, dlq).visible, 1, 'moved to the dead-letter queue');
    assert.equal(fake.sqs.stats(REGION, queue).deleted, 0);
    assert.equal(h.output.events.length, 0);
    const refused = log.lines().filter((l) => l.event === 's3_object_refused');
    assert.equal(refused.length, 2);
    for (const line of refused) {
      assert.deepEqual(
        [line.code, line.bucket, line.objectKey, line.format, line.offset, line.level],
        ['OBJECT_UNSUPPORTED', bucket, PARQUET_KEY, 'parquet', 0, 'error'],
      );
    }
    assert.deepEqual(
      refused.map((l) => l.receiveCount),
      [1, 2],
    );
    assert.equal(await metric('collector_errors_total', { code: 'OBJECT_UNSUPPORTED' }), 2);
  });

  test('without a redrive policy, a message that keeps failing is deleted after max_receive_count receives, naming every object', async () => {
    harness();
    const { queue, bucket } = queueAndBucket();
    fake.s3.putObject(bucket, 'notes/a.txt', 'plain text, not JSON\n');
    fake.s3.putObject(bucket, 'notes/b.json', '{"fine": true}');
    fake.sqs.send(
      REGION,
      queue,
      nativeNotification(['notes/a.txt', 'notes/b.json'].map((key) => ({ bucket, key, region: REGION }))),
    );

    const w = worker(
      { sqs_queue_name: queue, format: 'json', max_receive_count: 3 },
      { visibility_timeout_seconds: 1 },
    );
    await processAll(w, queue);

    assert.equal(fake.sqs.stats(REGION, queue).received, 3);
    assert.equal(fake.sqs.stats(REGION, queue).deleted, 1);
    const refused = log.lines().filter((l) => l.event === 's3_object_refused');
    assert.deepEqual(
      refused.map((l) => [l.code, l.bucket, l.objectKey, l.format, l.receiveCount]),
      [1, 2, 3].map((count) => ['OBJECT_REJECTED', bucket, 'notes/a.txt', 'json', count]),
    );
    const dropped = log.lines().filter((l) => l.event === 'sqs_message_dropped');
    assert.equal(dropped.length, 1);
    assert.deepEqual(
      [dropped[0]!.code, dropped[0]!.receiveCount, dropped[0]!.maxReceiveCount, dropped[0]!.objects],
      ['MESSAGE_DROPPED', 3, 3, [`s3://${bucket}/notes/a.txt`, `s3://${bucket}/notes/b.json`]],
    );
    assert.equal(await metric('collector_errors_total', { code: 'MESSAGE_DROPPED' }), 1);
    assert.deepEqual(
      h.output.events.map((e) => e.message),
      ['{"fine":true}'],
      'the object that was read is delivered once',
    );
  });

  test('a truncated gzip object is corrupt: what was read is delivered, the message deleted and counted', async () => {
    harness();
    const { queue, bucket } = queueAndBucket();
    const whole = gz(Array.from({ length: 5000 }, (_, i) => `line ${i} ${'x'.repeat(40)}`).join('\n'));
    fake.s3.putObject(bucket, 'app/cut.log.gz', whole.subarray(0, whole.length - 200));
    fake.sqs.send(REGION, queue, nativeNotification([{ bucket, key: 'app/cut.log.gz', region: REGION }]));

    await processAll(worker({ sqs_queue_name: queue }), queue);

    assert.equal(fake.sqs.stats(REGION, queue).deleted, 1);
    assert.ok(h.output.events.length > 0 && h.output.events.length < 5000);
    assert.equal(await metric('collector_objects_corrupt_total', { format: 'auto' }), 1);
  });

  test('a Parquet VPC Flow Logs object under auto gives the same events as its rows in text', async () => {
    harness();
    const { queue, bucket } = queueAndBucket();
    const text = vpcFlowFile(5);
    const [header, ...rows] = text.trimEnd().split('\n');
    const parquetKey = VPC_KEY.replace('.log.gz', '.log.parquet');
    fake.s3.putObject(bucket, VPC_KEY, gz(text));
    fake.s3.putObject(
      bucket,
      parquetKey,
      vpcFlowParquet(
        header!.split(' '),
        rows.map((r) => r.split(' ')),
        { rowGroupRows: 2 },
      ),
    );
    fake.sqs.send(
      REGION,
      queue,
      nativeNotification([VPC_KEY, parquetKey].map((key) => ({ bucket, key, region: REGION }))),
    );

    await processAll(worker({ sqs_queue_name: queue }), queue);

    // Both objects are read at once: each text event must appear exactly twice.
    const events = h.output.events.map((e) => `${e.tag} ${e.message}`).sort();
    assert.equal(events.length, 10);
    assert.deepEqual(
      events.filter((_, i) => i % 2 === 0),
      events.filter((_, i) => i % 2 === 1),
      'the Parquet rows read as the text rows',
    );
    assert.equal(new Set(events).size, 5);
    assert.equal(fake.sqs.stats(REGION, queue).deleted, 1);
  });

  test('ConfigWritabilityCheckFile is skipped under auto', async () => {
    harness();
    const { queue, bucket } = queueAndBucket();
    const key = `AWSLogs/${ACCOUNT}/Config/ConfigWritabilityCheckFile`;
    fake.s3.putObject(bucket, key, 'check');
    fake.sqs.send(REGION, queue, nativeNotification([{ bucket, key, region: REGION }]));
    await processAll(worker({ sqs_queue_name: queue }), queue);
    assert.equal(h.output.events.length, 0);
    assert.equal(await metric('collector_filtered_total', { reason: 'object_key_filter' }), 1);
  });
});
