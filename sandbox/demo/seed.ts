import { randomUUID } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { EventBridgeClient, PutRuleCommand, PutTargetsCommand } from '@aws-sdk/client-eventbridge';
import type { FakeAws } from '../fake-aws/index.js';
import { seededRandom as rng } from '../random.js';

/**
 * Realistic generated data for every service, put into the fake AWS the way AWS would deliver it:
 * EventBridge rules route GuardDuty/EC2/Health events and Security Hub findings to SQS, CloudTrail
 * records are in the API and in trail files whose creation EventBridge announces, VPC Flow Logs
 * files are announced by native S3 notifications and CloudFront files through SNS.
 *
 * It returns what the collector must deliver, per Devo tag, as identities (see `identityOf`),
 * so the demo and the crash test can tell what arrived, what is missing and what came twice.
 */

export const ACCOUNT_ID = '123456789012';

export interface SeedNames {
  inputId: string;
  serviceEventsQueue: string;
  securityHubQueue: string;
  cloudTrailQueue: string;
  logGroups: [string, string];
  /** Window start for the API services (CloudTrail, Logs): every seeded record is after it. */
  startTime: Date;
}

export interface SeedResult {
  /** Devo tag → identities of the events the collector must deliver. */
  expected: Map<string, Set<string>>;
  /** The SQS queues (region, name) that must be empty once everything was delivered. */
  queues: { region: string; name: string }[];
}

/** The identity of a delivered event: what makes it unique within its tag. */
export function identityOf(tag: string, message: string): string {
  if (tag === 'cloud.aws.cloudfront') return message;
  if (tag === 'cloud.aws.vpc.flowlogs') {
    if (message.startsWith('{')) {
      const o = JSON.parse(message) as Record<string, string>;
      return [o.srcaddr, o.srcport, o.dstaddr, o.dstport, o.start].join('|');
    }
    const f = message.split(' ');
    return [f[3], f[5], f[4], f[6], f[10]].join('|');
  }
  const o = JSON.parse(message) as Record<string, unknown>;
  if (tag === 'cloud.aws.securityhub.findings') return String(o.Id);
  if (tag.startsWith('cloud.aws.cloudtrail.')) return String(o.eventID);
  if (tag === 'cloud.aws.cloudwatch.metrics')
    return `${String(o.metricName)}|${JSON.stringify(o.dimensions)}|${String(o.timestamp)}|${String(o.region)}`;
  if (tag === 'cloud.aws.cloudwatch.logs') return `${String(o.logGroup)}|${String(o.message)}`;
  return String(o.id);
}

class Expectations {
  readonly map = new Map<string, Set<string>>();
  add(tag: string, id: string): void {
    let s = this.map.get(tag);
    if (!s) this.map.set(tag, (s = new Set()));
    s.add(id);
  }
}

export async function seedSandbox(
  fake: FakeAws,
  regions: string[],
  names: SeedNames,
  scale = 1,
): Promise<SeedResult> {
  const expect = new Expectations();
  const queues: SeedResult['queues'] = [];
  const now = Date.now();
  for (const [i, region] of regions.entries()) {
    const random = rng(1000 + i);
    const vpcQueue = `devo-ncwl-vpcfl-${names.inputId}`;
    const cfQueue = `devo-ncwl-cfl-${names.inputId}`;
    fake.sqs.createQueue(region, names.serviceEventsQueue, {
      FifoQueue: 'true',
      ContentBasedDeduplication: 'true',
    });
    fake.sqs.createQueue(region, names.securityHubQueue);
    fake.sqs.createQueue(region, names.cloudTrailQueue, {
      FifoQueue: 'true',
      ContentBasedDeduplication: 'true',
    });
    fake.sqs.createQueue(region, vpcQueue);
    fake.sqs.createQueue(region, cfQueue);
    for (const name of [
      names.serviceEventsQueue,
      names.securityHubQueue,
      names.cloudTrailQueue,
      vpcQueue,
      cfQueue,
    ])
      queues.push({ region, name });

    await createRules(fake, region, names);
    seedServiceEvents(fake, region, random, expect, 60 * scale);
    seedSecurityHub(fake, region, random, expect, 20 * scale);
    seedCloudTrailApi(fake, region, random, expect, names.startTime.getTime(), now, 60 * scale);
    seedCloudTrailFiles(fake, region, random, expect, now, 3 * scale);
    seedMetrics(fake, region, random, expect, now);
    seedLogs(fake, region, random, expect, names, now, 40 * scale);
    seedVpcFlowLogs(fake, region, random, expect, vpcQueue, now - i * 3_600_000, 200 * scale);
    seedCloudFront(fake, region, random, expect, cfQueue, now, 100 * scale);
  }
  return { expected: expect.map, queues };
}

/** The EventBridge rules a Devo setup creates, made with the real SDK against the fake. */
async function createRules(fake: FakeAws, region: string, names: SeedNames): Promise<void> {
  const eb = new EventBridgeClient({
    region,
    endpoint: fake.endpoint,
    credentials: { accessKeyId: 'AKIASANDBOXSEEDER01', secretAccessKey: 'sandbox-seeder-secret' },
  });
  const arn = (queue: string) => requireArn(fake, region, queue);
  const rules: { name: string; pattern: unknown; queue: string; group?: string }[] = [
    {
      name: 'devo-service-events',
      pattern: { source: ['aws.guardduty', 'aws.ec2', 'aws.health'] },
      queue: names.serviceEventsQueue,
      group: 'devo',
    },
    {
      name: 'devo-securityhub',
      pattern: { source: ['aws.securityhub'], 'detail-type': ['Security Hub Findings - Imported'] },
      queue: names.securityHubQueue,
    },
    {
      name: 'devo-cloudtrail-files',
      pattern: {
        source: ['aws.s3'],
        'detail-type': ['Object Created'],
        detail: { bucket: { name: [`demo-cloudtrail-${region}`] } },
      },
      queue: names.cloudTrailQueue,
      group: 'trail',
    },
  ];
  try {
    for (const r of rules) {
      await eb.send(
        new PutRuleCommand({ Name: r.name, EventPattern: JSON.stringify(r.pattern), State: 'ENABLED' }),
      );
      await eb.send(
        new PutTargetsCommand({
          Rule: r.name,
          Targets: [
            {
              Id: 'sqs',
              Arn: arn(r.queue),
              ...(r.group ? { SqsParameters: { MessageGroupId: r.group } } : {}),
            },
          ],
        }),
      );
    }
  } finally {
    eb.destroy();
  }
}

const pick = <T>(random: () => number, items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
const ip = (random: () => number, prefix = '10.0') =>
  `${prefix}.${Math.floor(random() * 255)}.${1 + Math.floor(random() * 253)}`;
const hex = (random: () => number, n: number) =>
  Array.from({ length: n }, () => Math.floor(random() * 16).toString(16)).join('');

function seedServiceEvents(
  fake: FakeAws,
  region: string,
  random: () => number,
  expect: Expectations,
  count: number,
): void {
  const events = [];
  for (let n = 0; n < count; n++) {
    const kind = n % 3;
    const id = randomUUID();
    if (kind === 0) {
      events.push({
        id,
        source: 'aws.guardduty',
        'detail-type': 'GuardDuty Finding',
        detail: {
          schemaVersion: '2.0',
          accountId: ACCOUNT_ID,
          region,
          id: hex(random, 32),
          type: pick(random, [
            'Recon:EC2/PortProbeUnprotectedPort',
            'UnauthorizedAccess:EC2/SSHBruteForce',
            'CryptoCurrency:EC2/BitcoinTool.B!DNS',
          ]),
          severity: Math.round(random() * 80) / 10,
          title: 'Unprotected port on EC2 instance is being probed.',
          resource: { resourceType: 'Instance', instanceDetails: { instanceId: `i-${hex(random, 17)}` } },
        },
      });
      expect.add('cloud.aws.cloudwatch.guardduty', id);
    } else if (kind === 1) {
      events.push({
        id,
        source: 'aws.ec2',
        'detail-type': 'EC2 Instance State-change Notification',
        detail: {
          'instance-id': `i-${hex(random, 17)}`,
          state: pick(random, ['pending', 'running', 'stopping', 'stopped', 'terminated']),
        },
        resources: [`arn:aws:ec2:${region}:${ACCOUNT_ID}:instance/i-${hex(random, 17)}`],
      });
      expect.add('cloud.aws.cloudwatch.ec2', id);
    } else {
      events.push({
        id,
        source: 'aws.health',
        'detail-type': 'AWS Health Event',
        detail: {
          eventArn: `arn:aws:health:${region}::event/EC2/${hex(random, 12)}`,
          service: 'EC2',
          eventTypeCategory: 'scheduledChange',
        },
      });
      expect.add('cloud.aws.cloudwatch.health', id);
    }
  }
  fake.eventbridge.putEvents(region, events);
}

function seedSecurityHub(
  fake: FakeAws,
  region: string,
  random: () => number,
  expect: Expectations,
  count: number,
): void {
  const events = [];
  for (let n = 0; n < count; n++) {
    const findings = Array.from({ length: 1 + Math.floor(random() * 4) }, () => {
      const id = `arn:aws:securityhub:${region}:${ACCOUNT_ID}:subscription/aws-foundational-security-best-practices/v/1.0.0/S3.${1 + Math.floor(random() * 12)}/finding/${randomUUID()}`;
      expect.add('cloud.aws.securityhub.findings', id);
      return {
        SchemaVersion: '2018-10-08',
        Id: id,
        ProductArn: `arn:aws:securityhub:${region}::product/aws/securityhub`,
        GeneratorId: 'aws-foundational-security-best-practices/v/1.0.0/S3.1',
        AwsAccountId: ACCOUNT_ID,
        Types: ['Software and Configuration Checks/Industry and Regulatory Standards'],
        Severity: { Label: pick(random, ['LOW', 'MEDIUM', 'HIGH', 'CRITICAL']) },
        Title: 'S3 Block Public Access setting should be enabled',
        Resources: [{ Type: 'AwsAccount', Id: `AWS::::Account:${ACCOUNT_ID}`, Region: region }],
        Compliance: { Status: pick(random, ['PASSED', 'FAILED']) },
        Workflow: { Status: 'NEW' },
        RecordState: 'ACTIVE',
      };
    });
    events.push({
      source: 'aws.securityhub',
      'detail-type': 'Security Hub Findings - Imported',
      detail: { findings },
    });
  }
  fake.eventbridge.putEvents(region, events);
}

const TRAIL_EVENTS = [
  ['ec2.amazonaws.com', 'DescribeInstances'],
  ['ec2.amazonaws.com', 'RunInstances'],
  ['s3.amazonaws.com', 'PutBucketPolicy'],
  ['iam.amazonaws.com', 'CreateAccessKey'],
  ['sts.amazonaws.com', 'AssumeRole'],
  ['kms.amazonaws.com', 'Decrypt'],
] as const;

function trailRecord(
  random: () => number,
  region: string,
  time: number,
): Record<string, unknown> & { eventID: string; eventSource: string } {
  const [eventSource, eventName] = pick(random, TRAIL_EVENTS);
  return {
    eventVersion: '1.09',
    userIdentity: {
      type: 'IAMUser',
      principalId: `AIDA${hex(random, 16).toUpperCase()}`,
      arn: `arn:aws:iam::${ACCOUNT_ID}:user/alice`,
      accountId: ACCOUNT_ID,
      userName: 'alice',
    },
    eventTime: new Date(time).toISOString().replace(/\.\d{3}Z$/, 'Z'),
    eventSource,
    eventName,
    awsRegion: region,
    sourceIPAddress: ip(random, '203.0'),
    userAgent: 'aws-cli/2.15.0 Python/3.11.6 Linux/6.1',
    requestParameters: { note: 'demo "quoted" {braces} [brackets]' },
    responseElements: null,
    requestID: randomUUID(),
    eventID: randomUUID(),
    readOnly: eventName.startsWith('Describe'),
    eventType: 'AwsApiCall',
    managementEvent: true,
    recipientAccountId: ACCOUNT_ID,
    eventCategory: 'Management',
  };
}

const cloudTrailTag = (eventSource: string) => `cloud.aws.cloudtrail.${eventSource.split('.')[0]}`;

function seedCloudTrailApi(
  fake: FakeAws,
  region: string,
  random: () => number,
  expect: Expectations,
  from: number,
  now: number,
  count: number,
): void {
  // Between the collector's start time and ten minutes ago (older than CloudTrail's settle delay).
  const to = now - 10 * 60_000;
  const records = Array.from({ length: count }, (_, n) =>
    trailRecord(random, region, from + 60_000 + Math.floor(((to - from - 60_000) * n) / count)),
  );
  for (const r of records) expect.add(cloudTrailTag(r.eventSource), r.eventID);
  fake.cloudtrail.addEvents(region, records as never);
}

function seedCloudTrailFiles(
  fake: FakeAws,
  region: string,
  random: () => number,
  expect: Expectations,
  now: number,
  files: number,
): void {
  const bucket = `demo-cloudtrail-${region}`;
  fake.s3.createBucket(region, bucket);
  fake.s3.enableEventBridge(bucket);
  const day = new Date(now).toISOString().slice(0, 10).replaceAll('-', '/');
  const stamp = new Date(now).toISOString().replace(/[-:]/g, '').slice(0, 13) + 'Z';
  for (let f = 0; f < files; f++) {
    const records = Array.from({ length: 25 }, () =>
      trailRecord(random, region, now - Math.floor(random() * 3_600_000)),
    );
    for (const r of records) expect.add(cloudTrailTag(r.eventSource), r.eventID);
    const key = `AWSLogs/${ACCOUNT_ID}/CloudTrail/${region}/${day}/${ACCOUNT_ID}_CloudTrail_${region}_${stamp}_${hex(random, 16)}.json.gz`;
    fake.s3.putObject(bucket, key, gzipSync(JSON.stringify({ Records: records })));
  }
  // Digest files are announced too, and must be filtered out by s3_file_type_filter.
  fake.s3.putObject(
    bucket,
    `AWSLogs/${ACCOUNT_ID}/CloudTrail-Digest/${region}/${day}/${ACCOUNT_ID}_CloudTrail-Digest_${region}_demo_${region}_${stamp}.json.gz`,
    gzipSync(
      JSON.stringify({
        awsAccountId: ACCOUNT_ID,
        digestStartTime: new Date(now - 3_600_000).toISOString(),
        logFiles: [],
      }),
    ),
  );
}

function seedMetrics(
  fake: FakeAws,
  region: string,
  random: () => number,
  expect: Expectations,
  now: number,
): void {
  const metrics = [
    ...['i-0a1b2c3d4e5f60718', 'i-0f1e2d3c4b5a69788', 'i-0123456789abcdef0'].map((id) => ({
      Namespace: 'AWS/EC2',
      MetricName: 'CPUUtilization',
      Dimensions: [{ Name: 'InstanceId', Value: id }],
    })),
    ...['orders-api', 'billing-worker'].flatMap((fn) => [
      {
        Namespace: 'AWS/Lambda',
        MetricName: 'Invocations',
        Dimensions: [{ Name: 'FunctionName', Value: fn }],
      },
      { Namespace: 'AWS/Lambda', MetricName: 'Duration', Dimensions: [{ Name: 'FunctionName', Value: fn }] },
    ]),
    {
      Namespace: 'AWS/SQS',
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Dimensions: [{ Name: 'QueueName', Value: 'orders' }],
    },
  ];
  // Minutes T-8 … T-2: after the demo configuration's start_time, before its first window's end.
  const minute = Math.floor(now / 60_000) * 60_000;
  for (const metric of metrics) {
    const points = [];
    for (let m = 8; m >= 2; m--) {
      const t = minute - m * 60_000;
      points.push(
        { timestamp: t + 5_000, value: Math.round(random() * 1000) / 10 },
        { timestamp: t + 35_000, value: Math.round(random() * 1000) / 10 },
      );
      const dims: Record<string, string> = {};
      for (const d of metric.Dimensions) dims[d.Name] = d.Value;
      expect.add(
        'cloud.aws.cloudwatch.metrics',
        `${metric.MetricName}|${JSON.stringify(dims)}|${new Date(t).toISOString()}|${region}`,
      );
    }
    fake.cloudwatch.addDatapoints(region, metric, points);
  }
}

function seedLogs(
  fake: FakeAws,
  region: string,
  random: () => number,
  expect: Expectations,
  names: SeedNames,
  now: number,
  perStream: number,
): void {
  for (const group of names.logGroups) {
    fake.logs.createLogGroup(region, group);
    for (const stream of ['2026/11/27/[$LATEST]a1b2c3', '2026/11/27/[$LATEST]d4e5f6']) {
      const from = names.startTime.getTime() + 60_000;
      const to = now - 3 * 60_000;
      const events = Array.from({ length: perStream }, (_, n) => ({
        timestamp: from + Math.floor(((to - from) * n) / perStream),
        // A multi-line message with quotes and a backslash: it must still arrive as one line.
        message: `${new Date(from).toISOString()} ${pick(random, ['INFO', 'WARN', 'ERROR'])} request ${randomUUID()} handled in ${Math.floor(random() * 900)} ms\n\ttrace: "a\\b"`,
      }));
      for (const e of events) expect.add('cloud.aws.cloudwatch.logs', `${group}|${e.message}`);
      fake.logs.putEvents(region, group, stream, events);
    }
  }
}

const VPC_DEFAULT_HEADER =
  'version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status';
const VPC_CUSTOM_FIELDS = [
  'start',
  'end',
  'srcaddr',
  'dstaddr',
  'srcport',
  'dstport',
  'protocol',
  'action',
  'flow-direction',
  'vpc-id',
  'tcp-flags',
  'pkt-srcaddr',
  'region',
  'az-id',
  'log-status',
];

function seedVpcFlowLogs(
  fake: FakeAws,
  region: string,
  random: () => number,
  expect: Expectations,
  queue: string,
  now: number,
  rows: number,
): void {
  const bucket = `demo-vpcflowlogs-${region}`;
  fake.s3.createBucket(region, bucket);
  fake.s3.addQueueNotification(bucket, requireArn(fake, region, queue), { suffix: '.log.gz' });
  // `now` differs per region, so NODATA rows (no addresses) stay distinct across regions.
  const start = Math.floor(now / 1000) - 600;
  const eni = `eni-${hex(random, 17)}`;
  const lines = [VPC_DEFAULT_HEADER];
  for (let n = 0; n < rows; n++) {
    const t = start + n;
    if (n % 50 === 49) {
      lines.push(
        `2 ${ACCOUNT_ID} ${eni} - - - - - - - ${t} ${t + 60} - ${n % 100 === 99 ? 'SKIPDATA' : 'NODATA'}`,
      );
      expect.add('cloud.aws.vpc.flowlogs', ['-', '-', '-', '-', String(t)].join('|'));
      continue;
    }
    const src = ip(random);
    const dst = ip(random, '172.31');
    const sport = String(10_000 + n);
    const dport = pick(random, ['443', '22', '53', '5432']);
    lines.push(
      `2 ${ACCOUNT_ID} ${eni} ${src} ${dst} ${sport} ${dport} 6 ${1 + Math.floor(random() * 40)} ${40 + Math.floor(random() * 90_000)} ${t} ${t + 60} ${pick(random, ['ACCEPT', 'REJECT'])} OK`,
    );
    expect.add('cloud.aws.vpc.flowlogs', [src, sport, dst, dport, String(t)].join('|'));
  }
  const prefix = `AWSLogs/${ACCOUNT_ID}/vpcflowlogs/${region}/${new Date(now).toISOString().slice(0, 10).replaceAll('-', '/')}`;
  fake.s3.putObject(
    bucket,
    `${prefix}/${ACCOUNT_ID}_vpcflowlogs_${region}_fl-0a1b2c3d_default.log.gz`,
    gzipSync(`${lines.join('\n')}\n`),
  );

  const custom = [VPC_CUSTOM_FIELDS.join(' ')];
  for (let n = 0; n < rows / 2; n++) {
    const t = start + n;
    const src = ip(random);
    const dst = ip(random, '172.31');
    const sport = String(20_000 + n);
    const dport = pick(random, ['443', '8080']);
    const v: Record<string, string> = {
      start: String(t),
      end: String(t + 60),
      srcaddr: src,
      dstaddr: dst,
      srcport: sport,
      dstport: dport,
      protocol: '6',
      action: pick(random, ['ACCEPT', 'REJECT']),
      'flow-direction': pick(random, ['ingress', 'egress']),
      'vpc-id': 'vpc-0abc1234',
      'tcp-flags': pick(random, ['2', '18', '19']),
      'pkt-srcaddr': src,
      region,
      'az-id': 'use1-az4',
      'log-status': 'OK',
    };
    custom.push(VPC_CUSTOM_FIELDS.map((f) => v[f]).join(' '));
    expect.add('cloud.aws.vpc.flowlogs', [src, sport, dst, dport, String(t)].join('|'));
  }
  // A key with a space and an '=': S3 announces it URL-encoded.
  fake.s3.putObject(
    bucket,
    `${prefix}/${ACCOUNT_ID}_vpcflowlogs custom=v5.log.gz`,
    gzipSync(`${custom.join('\n')}\n`),
  );
}

const CF_FIELDS =
  'date time x-edge-location sc-bytes c-ip cs-method cs(Host) cs-uri-stem sc-status cs(Referer) cs(User-Agent) cs-uri-query cs(Cookie) x-edge-result-type x-edge-request-id x-host-header cs-protocol cs-bytes time-taken x-forwarded-for ssl-protocol ssl-cipher x-edge-response-result-type cs-protocol-version fle-status fle-encrypted-fields c-port time-to-first-byte x-edge-detailed-result-type sc-content-type sc-content-len sc-range-start sc-range-end';

function seedCloudFront(
  fake: FakeAws,
  region: string,
  random: () => number,
  expect: Expectations,
  queue: string,
  now: number,
  rows: number,
): void {
  const bucket = `demo-cloudfront-${region}`;
  fake.s3.createBucket(region, bucket);
  for (let f = 0; f < 2; f++) {
    const lines = ['#Version: 1.0', `#Fields: ${CF_FIELDS}`];
    for (let n = 0; n < rows; n++) {
      const t = new Date(now - 3_600_000 + n * 1000).toISOString();
      const line = [
        t.slice(0, 10),
        t.slice(11, 19),
        'FRA56-P5',
        String(200 + Math.floor(random() * 50_000)),
        ip(random, '198.51'),
        'GET',
        'd111111abcdef8.cloudfront.net',
        pick(random, ['/index.html', '/assets/app.js', '/api/orders']),
        pick(random, ['200', '304', '404']),
        '-',
        'Mozilla/5.0%20(X11;%20Linux%20x86_64)',
        '-',
        '-',
        pick(random, ['Hit', 'Miss']),
        `${hex(random, 40)}==`,
        'www.example.com',
        'https',
        '312',
        (random() / 10).toFixed(3),
        '-',
        'TLSv1.3',
        'TLS_AES_128_GCM_SHA256',
        'Hit',
        'HTTP/2.0',
        '-',
        '-',
        String(40_000 + n),
        '0.001',
        'Hit',
        'text/html',
        '2319',
        '-',
        '-',
      ].join('\t');
      lines.push(line);
      expect.add('cloud.aws.cloudfront', line);
    }
    const key = `cloudfront/E2ABCDEFGHIJKL.${new Date(now).toISOString().slice(0, 13).replace('T', '-')}.${hex(random, 8)}.gz`;
    const body = gzipSync(`${lines.join('\n')}\n`);
    fake.s3.putObject(bucket, key, body);
    // CloudFront buckets often notify an SNS topic; the queue gets the S3 event in an SNS envelope.
    const s3Event = {
      Records: [
        {
          eventVersion: '2.1',
          eventSource: 'aws:s3',
          awsRegion: region,
          eventTime: new Date(now).toISOString(),
          eventName: 'ObjectCreated:Put',
          s3: {
            s3SchemaVersion: '1.0',
            configurationId: 'cloudfront-logs',
            bucket: {
              name: bucket,
              arn: `arn:aws:s3:::${bucket}`,
              ownerIdentity: { principalId: 'A1B2C3D4E5F6G7' },
            },
            object: {
              key: encodeURIComponent(key).replaceAll('%20', '+'),
              size: body.length,
              sequencer: hex(random, 16).toUpperCase(),
            },
          },
        },
      ],
    };
    fake.sqs.send(
      region,
      queue,
      JSON.stringify({
        Type: 'Notification',
        MessageId: randomUUID(),
        TopicArn: `arn:aws:sns:${region}:${ACCOUNT_ID}:cloudfront-logs`,
        Subject: 'Amazon S3 Notification',
        Message: JSON.stringify(s3Event),
        Timestamp: new Date(now).toISOString(),
        SignatureVersion: '1',
        Signature: 'EXAMPLE',
        SigningCertURL: `https://sns.${region}.amazonaws.com/SimpleNotificationService-0000000000000000000000.pem`,
        UnsubscribeURL: `https://sns.${region}.amazonaws.com/?Action=Unsubscribe`,
      }),
    );
  }
}

function requireArn(fake: FakeAws, region: string, queue: string): string {
  const arn = fake.sqs.queueArn(region, queue);
  if (!arn) throw new Error(`sandbox queue ${queue} in ${region} was not created`);
  return arn;
}
