import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeS3EventKey, parseS3Notification } from '../../src/formats/notifications.js';
import { fixture } from './helpers.js';

const NATIVE = fixture('s3-notification-native.json.txt').toString();
const SNS = fixture('s3-notification-sns-wrapped.json.txt').toString();
const EVENTBRIDGE = fixture('s3-notification-eventbridge.json.txt').toString();
const TEST_EVENT = fixture('s3-test-event.json.txt').toString();

/** A native notification whose records carry these keys and event names. */
function native(records: { key: string; eventName?: string }[]): string {
  return JSON.stringify({
    Records: records.map(({ key, eventName }) => ({
      eventVersion: '2.1',
      eventSource: 'aws:s3',
      awsRegion: 'us-west-2',
      eventName: eventName ?? 'ObjectCreated:Put',
      s3: { bucket: { name: 'b' }, object: { key, size: 10 } },
    })),
  });
}

function snsWrap(message: string): string {
  return JSON.stringify({
    Type: 'Notification',
    MessageId: 'm',
    TopicArn: 'arn:aws:sns:eu-west-1:1:t',
    Message: message,
  });
}

describe('parseS3Notification', () => {
  test('native S3 notification', () => {
    assert.deepEqual(parseS3Notification(NATIVE), {
      kind: 'objects',
      objects: [
        {
          bucket: 'org-cloudtrail-logs',
          key: 'AWSLogs/123456789012/CloudTrail/eu-west-1/2026/11/20/123456789012_CloudTrail_eu-west-1_20261120T1805Z_Ab12Cd34Ef56Gh78.json.gz',
          region: 'eu-west-1',
          size: 1204,
          eTag: 'd41d8cd98f00b204e9800998ecf8427e',
          sequencer: '0055AED6DCD90281E5',
        },
      ],
      skipped: 0,
    });
  });

  test('SNS-wrapped notification', () => {
    assert.deepEqual(parseS3Notification(SNS), {
      kind: 'objects',
      objects: [
        {
          bucket: 'vpc-flow-logs-bucket',
          key: 'AWSLogs/123456789012/vpcflowlogs/eu-west-1/2026/11/20/123456789012_vpcflowlogs_eu-west-1_fl-0a1b2c3d_20261120T1805Z_1a2b3c4d.log.gz',
          region: 'eu-west-1',
          size: 5120,
        },
      ],
      skipped: 0,
    });
  });

  test('EventBridge Object Created', () => {
    assert.deepEqual(parseS3Notification(EVENTBRIDGE), {
      kind: 'objects',
      objects: [
        {
          bucket: 'cloudfront-logs-bucket',
          key: 'cf/E2EXAMPLE.2026-11-20-18.a1b2c3d4.gz',
          region: 'us-east-1',
          size: 2048,
          eTag: 'b1946ac92492d2347c6235b4d2611184',
          sequencer: '00617F08299329D189',
        },
      ],
      skipped: 0,
    });
    // Through SNS too.
    assert.deepEqual(parseS3Notification(snsWrap(EVENTBRIDGE)), parseS3Notification(EVENTBRIDGE));
  });

  test('test events, native and SNS-wrapped', () => {
    assert.deepEqual(parseS3Notification(TEST_EVENT), { kind: 'test' });
    assert.deepEqual(parseS3Notification(snsWrap(TEST_EVENT)), { kind: 'test' });
  });

  test('native and SNS keys are form-decoded; EventBridge keys are used as they are', () => {
    const encoded = 'logs/my+file%3D1.json.gz';
    for (const body of [native([{ key: encoded }]), snsWrap(native([{ key: encoded }]))]) {
      const result = parseS3Notification(body);
      assert.equal(result.kind, 'objects');
      assert.equal(result.kind === 'objects' && result.objects[0]?.key, 'logs/my file=1.json.gz');
    }
    const bridge = JSON.parse(EVENTBRIDGE) as { detail: { object: { key: string } } };
    bridge.detail.object.key = 'raw/a+b%3D c.gz';
    const result = parseS3Notification(JSON.stringify(bridge));
    assert.equal(result.kind === 'objects' && result.objects[0]?.key, 'raw/a+b%3D c.gz');
    assert.equal(decodeS3EventKey('caf%C3%A9+%2B%25.gz'), 'café +%.gz');
  });

  test('several records; other S3 events are skipped', () => {
    const result = parseS3Notification(
      native([
        { key: 'a' },
        { key: 'gone', eventName: 'ObjectRemoved:Delete' },
        { key: 'b', eventName: 'ObjectCreated:CompleteMultipartUpload' },
      ]),
    );
    assert.equal(result.kind, 'objects');
    assert.deepEqual(result.kind === 'objects' && result.objects.map((o) => o.key), ['a', 'b']);
    assert.equal(result.kind === 'objects' && result.skipped, 1);
    const deleted = JSON.parse(EVENTBRIDGE) as Record<string, unknown>;
    deleted['detail-type'] = 'Object Deleted';
    assert.deepEqual(parseS3Notification(JSON.stringify(deleted)), {
      kind: 'objects',
      objects: [],
      skipped: 1,
    });
  });

  test('anything else is invalid, with a reason', () => {
    const cases: [string, RegExp][] = [
      ['not json', /not a JSON object/],
      ['[1]', /not a JSON object/],
      ['{"hello":"world"}', /not an S3 notification/],
      ['{"Records":[]}', /Records is empty/],
      ['{"Records":[{"eventName":"x"}]}', /Records\[0\] is not an S3 event record/],
      [native([{ key: 'bad%E0%A4%A' }]), /Records\[0\]\.s3\.object\.key is not valid URL encoding/],
      [native([{ key: '' }]), /key is missing/],
      [snsWrap('not json'), /SNS Message is not a JSON object/],
      [snsWrap('{"a":1}'), /^SNS Message: not an S3 notification/],
      [
        JSON.stringify({
          Type: 'SubscriptionConfirmation',
          TopicArn: 'arn:aws:sns:eu-west-1:1:t',
          SubscribeURL: 'https://x',
        }),
        /SNS SubscriptionConfirmation message/,
      ],
      [
        JSON.stringify({
          source: 'aws.s3',
          'detail-type': 'Object Created',
          region: 'eu-west-1',
          detail: { bucket: {} },
        }),
        /detail\.bucket\.name is missing/,
      ],
    ];
    for (const [body, reason] of cases) {
      const result = parseS3Notification(body);
      assert.equal(result.kind, 'invalid', body);
      assert.match(result.kind === 'invalid' ? result.reason : '', reason, body);
    }
  });
});

describe('CloudTrail delivery notifications (a trail SNS topic)', () => {
  const delivery = JSON.stringify({
    s3Bucket: 'trail-bucket',
    s3ObjectKey: [
      'AWSLogs/123456789012/CloudTrail/eu-west-1/2026/11/27/123456789012_CloudTrail_eu-west-1_20261127T0310Z_a1.json.gz',
      'AWSLogs/123456789012/CloudTrail/eu-west-1/2026/11/27/123456789012_CloudTrail_eu-west-1_20261127T0315Z_b2.json.gz',
    ],
  });
  test('every key is an object in the queue region, keys used as written', () => {
    const parsed = parseS3Notification(delivery, 'eu-west-1');
    assert.equal(parsed.kind, 'objects');
    assert.deepEqual(
      parsed.kind === 'objects' ? parsed.objects.map((o) => [o.bucket, o.region, o.key.slice(-8)]) : [],
      [
        ['trail-bucket', 'eu-west-1', 'a1.json.gz'.slice(-8)],
        ['trail-bucket', 'eu-west-1', 'b2.json.gz'.slice(-8)],
      ],
    );
  });
  test('inside an SNS envelope too; an empty key list is invalid', () => {
    const wrapped = JSON.stringify({
      Type: 'Notification',
      TopicArn: 'arn:aws:sns:eu-west-1:123456789012:trail',
      Message: delivery,
    });
    assert.deepEqual(parseS3Notification(wrapped, 'eu-west-1'), parseS3Notification(delivery, 'eu-west-1'));
    assert.equal(
      parseS3Notification(JSON.stringify({ s3Bucket: 'b', s3ObjectKey: [] }), 'eu-west-1').kind,
      'invalid',
    );
  });
});
