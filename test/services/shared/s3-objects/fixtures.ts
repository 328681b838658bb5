import type { S3ObjectRef } from '../../../../src/formats/notifications.js';
import { readFileSync } from 'node:fs';
import { notificationKey, type FakeAws } from '../../../../sandbox/fake-aws/index.js';

/** Copies of /work/shared/reference/fixtures (AWS's documented shapes). */
const FIXTURES = new URL('./fixtures/', import.meta.url);

export const fixture = (name: string): string => readFileSync(new URL(name, FIXTURES), 'utf8');

const CLOUDTRAIL_RECORDS = (
  JSON.parse(fixture('cloudtrail-file.json')) as { Records: Record<string, unknown>[] }
).Records;

/** A CloudTrail file body with `n` records (the fixture's two records, alternating, with distinct eventIDs). */
export function cloudTrailFile(
  n: number,
  tweak: (record: Record<string, unknown>, i: number) => void = () => {},
): string {
  const records = Array.from({ length: n }, (_, i) => {
    const r = structuredClone(CLOUDTRAIL_RECORDS[i % CLOUDTRAIL_RECORDS.length]) as Record<string, unknown>;
    r.eventID = `evt-${i}`;
    tweak(r, i);
    return r;
  });
  // Pretty-printed, as some writers do: the records must come out compact.
  return JSON.stringify({ Records: records }, null, 1);
}

/** A key the default s3_file_type_filter accepts. */
export function cloudTrailKey(n: number, region = 'eu-west-1'): string {
  const stamp = `20261120T18${String(n % 60).padStart(2, '0')}Z`;
  return `AWSLogs/123456789012/CloudTrail/${region}/2026/11/20/123456789012_CloudTrail_${region}_${stamp}_Ab12Cd${n}.json.gz`;
}

export function cloudTrailDigestKey(region = 'eu-west-1'): string {
  return `AWSLogs/123456789012/CloudTrail-Digest/${region}/2026/11/20/123456789012_CloudTrail-Digest_${region}_trail_${region}_20261120T180000Z.json.gz`;
}

export const VPC_DEFAULT_HEADER =
  'version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status';

/** A default-format VPC Flow Logs file with `n` rows. */
export function vpcFlowFile(n: number): string {
  const rows = Array.from(
    { length: n },
    (_, i) =>
      `2 123456789012 eni-0a1b2c3d4e5f6a7b8 10.0.${(i >> 8) & 255}.${i & 255} 172.31.16.21 ${20000 + (i % 40000)} 443 6 20 4249 1418530010 1418530070 ACCEPT OK`,
  );
  return `${VPC_DEFAULT_HEADER}\n${rows.join('\n')}\n`;
}

/** A CloudFront standard log with `n` rows. */
export function cloudFrontFile(n: number): string {
  const [version, fields, row] = fixture('cloudfront-standard.log').split('\n') as [string, string, string];
  const rows = Array.from({ length: n }, (_, i) => row.replace('/index.html', `/page-${i}.html`));
  return `${version}\n${fields}\n${rows.join('\n')}\n`;
}

export interface ObjectPlace {
  bucket: string;
  key: string;
  region: string;
  /** As S3 announces them (default size 100, no eTag). */
  size?: number;
  eTag?: string;
}

/** A native S3 event notification announcing these objects (keys form-encoded as S3 does). */
export function nativeNotification(objects: ObjectPlace[]): string {
  return JSON.stringify({
    Records: objects.map((o) => ({
      eventVersion: '2.1',
      eventSource: 'aws:s3',
      awsRegion: o.region,
      eventTime: '2026-11-20T18:05:00.000Z',
      eventName: 'ObjectCreated:Put',
      s3: {
        s3SchemaVersion: '1.0',
        bucket: { name: o.bucket, arn: `arn:aws:s3:::${o.bucket}` },
        object: { key: notificationKey(o.key), size: o.size ?? 100, ...(o.eTag ? { eTag: o.eTag } : {}) },
      },
    })),
  });
}

export function snsNotification(objects: ObjectPlace[]): string {
  return JSON.stringify({
    Type: 'Notification',
    MessageId: '22b80b92-fdea-4c2c-8f9d-bdfb0c7bf324',
    TopicArn: 'arn:aws:sns:eu-west-1:123456789012:s3-events',
    Subject: 'Amazon S3 Notification',
    Message: nativeNotification(objects),
    Timestamp: '2026-11-20T18:06:00.123Z',
  });
}

export function eventBridgeNotification(o: ObjectPlace): string {
  return JSON.stringify({
    version: '0',
    id: '17793124-05d4-b198-2fde-7ededc63b103',
    'detail-type': 'Object Created',
    source: 'aws.s3',
    account: '123456789012',
    time: '2026-11-20T18:07:00Z',
    region: o.region,
    resources: [`arn:aws:s3:::${o.bucket}`],
    detail: {
      version: '0',
      bucket: { name: o.bucket },
      object: { key: o.key, size: 100 },
      reason: 'PutObject',
    },
  });
}

/** Creates `queue` with a redrive policy moving a message to `dlq` (created too) after `maxReceiveCount` receives. */
export function queueWithDeadLetters(
  fake: FakeAws,
  region: string,
  queue: string,
  dlq: string,
  maxReceiveCount: number,
): void {
  fake.sqs.createQueue(region, dlq);
  fake.sqs.createQueue(region, queue, {
    RedrivePolicy: JSON.stringify({ deadLetterTargetArn: fake.sqs.queueArn(region, dlq), maxReceiveCount }),
  });
}

/** The object an `s3://bucket/key` source names, as a notification gives it. */
export function refOf(source: string): S3ObjectRef {
  const [bucket, ...key] = source.slice('s3://'.length).split('/');
  return { bucket: bucket!, key: key.join('/'), region: 'us-east-1' };
}
