import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  DescribeRuleCommand,
  ListTargetsByRuleCommand,
  PutEventsCommand,
  PutRuleCommand,
  PutTargetsCommand,
} from '@aws-sdk/client-eventbridge';
import { PutBucketNotificationConfigurationCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { startFakeAws, type FakeAws } from '../../sandbox/fake-aws/index.js';
import { clients, rejection } from './clients.js';

const REGION = 'eu-west-1';
const ACCOUNT = '123456789012';
const arn = (queue: string): string => `arn:aws:sqs:${REGION}:${ACCOUNT}:${queue}`;

describe('fake EventBridge', () => {
  let fake: FakeAws;
  let c: ReturnType<typeof clients>;
  before(async () => {
    fake = await startFakeAws();
    c = clients(fake);
  });
  after(async () => {
    c.destroy();
    await fake.stop();
  });

  const bodies = (queue: string): Record<string, unknown>[] =>
    fake.sqs.messages(REGION, queue).map((m) => JSON.parse(m.body) as Record<string, unknown>);

  test('rules and targets are stored, described and listed', async () => {
    const pattern = JSON.stringify({ source: ['aws.guardduty'], 'detail-type': ['GuardDuty Finding'] });
    const { RuleArn } = await c.eventbridge.send(
      new PutRuleCommand({ Name: 'guardduty', EventPattern: pattern, Description: 'findings' }),
    );
    assert.equal(RuleArn, `arn:aws:events:${REGION}:${ACCOUNT}:rule/guardduty`);
    const rule = await c.eventbridge.send(new DescribeRuleCommand({ Name: 'guardduty' }));
    assert.deepEqual(
      [rule.Name, rule.EventPattern, rule.State, rule.EventBusName, rule.Description],
      ['guardduty', pattern, 'ENABLED', 'default', 'findings'],
    );
    fake.sqs.createQueue(REGION, 'listed');
    await c.eventbridge.send(
      new PutTargetsCommand({
        Rule: 'guardduty',
        Targets: Array.from({ length: 3 }, (_, i) => ({ Id: `t${i}`, Arn: arn('listed') })),
      }),
    );
    const first = await c.eventbridge.send(new ListTargetsByRuleCommand({ Rule: 'guardduty', Limit: 2 }));
    const second = await c.eventbridge.send(
      new ListTargetsByRuleCommand({ Rule: 'guardduty', Limit: 2, NextToken: first.NextToken }),
    );
    assert.deepEqual(
      [...(first.Targets ?? []), ...(second.Targets ?? [])].map((t) => t.Id),
      ['t0', 't1', 't2'],
    );
    assert.equal(second.NextToken, undefined);
    const missing = await rejection(c.eventbridge.send(new DescribeRuleCommand({ Name: 'nope' })));
    assert.equal(missing.name, 'ResourceNotFoundException');
    const badPattern = await rejection(
      c.eventbridge.send(new PutRuleCommand({ Name: 'bad', EventPattern: '{"source":"aws.s3"}' })),
    );
    assert.equal(badPattern.name, 'InvalidEventPatternException');
  });

  test('events matching a rule reach its SQS targets as EventBridge event JSON', async () => {
    fake.sqs.createQueue(REGION, 'service-events');
    await c.eventbridge.send(
      new PutRuleCommand({
        Name: 'sec',
        EventPattern: JSON.stringify({
          source: ['aws.securityhub', { prefix: 'aws.guard' }],
          'detail-type': [{ 'anything-but': 'Noise' }],
        }),
      }),
    );
    await c.eventbridge.send(
      new PutTargetsCommand({ Rule: 'sec', Targets: [{ Id: 'q', Arn: arn('service-events') }] }),
    );
    const ids = fake.eventbridge.putEvents(REGION, [
      {
        source: 'aws.securityhub',
        'detail-type': 'Security Hub Findings - Imported',
        detail: { findings: [{ Id: 'f1' }] },
        resources: ['arn:x'],
      },
      { source: 'aws.guardduty', 'detail-type': 'GuardDuty Finding', detail: { severity: 5 } },
      { source: 'aws.guardduty', 'detail-type': 'Noise' },
      { source: 'aws.ec2', 'detail-type': 'EC2 Instance State-change Notification' },
    ]);
    const received = await c.sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: fake.sqs.queueUrl(REGION, 'service-events'),
        MaxNumberOfMessages: 10,
      }),
    );
    const events = (received.Messages ?? []).map((m) => JSON.parse(m.Body!) as Record<string, unknown>);
    assert.deepEqual(
      events.map((e) => e.id),
      ids.slice(0, 2),
    );
    const [first] = events;
    assert.equal(first?.version, '0');
    assert.equal(first?.account, ACCOUNT);
    assert.equal(first?.region, REGION);
    assert.equal(first?.source, 'aws.securityhub');
    assert.equal(first?.['detail-type'], 'Security Hub Findings - Imported');
    assert.deepEqual(first?.resources, ['arn:x']);
    assert.deepEqual(first?.detail, { findings: [{ Id: 'f1' }] });
    assert.match(String(first?.time), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  });

  test('FIFO targets use SqsParameters.MessageGroupId and deduplicate on the event id', async () => {
    fake.sqs.createQueue(REGION, 'collector.fifo', { FifoQueue: 'true' });
    await c.eventbridge.send(
      new PutRuleCommand({ Name: 'all-aws', EventPattern: JSON.stringify({ source: [{ prefix: 'aws.' }] }) }),
    );
    const noGroup = await rejection(
      c.eventbridge.send(
        new PutTargetsCommand({ Rule: 'all-aws', Targets: [{ Id: 'f', Arn: arn('collector.fifo') }] }),
      ),
    );
    assert.equal(noGroup.name, 'ValidationException');
    await c.eventbridge.send(
      new PutTargetsCommand({
        Rule: 'all-aws',
        Targets: [{ Id: 'f', Arn: arn('collector.fifo'), SqsParameters: { MessageGroupId: 'collector' } }],
      }),
    );
    fake.eventbridge.putEvents(REGION, [
      { source: 'aws.health', 'detail-type': 'AWS Health Event', id: 'same-id' },
    ]);
    fake.eventbridge.putEvents(REGION, [
      { source: 'aws.health', 'detail-type': 'AWS Health Event', id: 'same-id' },
    ]);
    const messages = fake.sqs.messages(REGION, 'collector.fifo');
    assert.equal(messages.length, 1);
    assert.equal(messages[0]?.groupId, 'collector');
  });

  test('Input and InputPath shape what the target receives; failed deliveries are recorded', async () => {
    fake.sqs.createQueue(REGION, 'shaped');
    await c.eventbridge.send(
      new PutRuleCommand({ Name: 'shaped', EventPattern: JSON.stringify({ source: ['my.app'] }) }),
    );
    await c.eventbridge.send(
      new PutTargetsCommand({
        Rule: 'shaped',
        Targets: [
          { Id: 'path', Arn: arn('shaped'), InputPath: '$.detail' },
          { Id: 'const', Arn: arn('shaped'), Input: '{"fixed":true}' },
          {
            Id: 'template',
            Arn: arn('shaped'),
            InputTransformer: {
              InputPathsMap: { kind: '$.detail.kind' },
              InputTemplate: '{"k":"<kind>","rule":"<aws.events.rule-name>"}',
            },
          },
          { Id: 'gone', Arn: arn('deleted-queue') },
        ],
      }),
    );
    const out = await c.eventbridge.send(
      new PutEventsCommand({
        Entries: [{ Source: 'my.app', DetailType: 'Thing', Detail: '{"kind":"widget"}' }],
      }),
    );
    assert.equal(out.FailedEntryCount, 0);
    assert.deepEqual(bodies('shaped'), [
      { kind: 'widget' },
      { fixed: true },
      { k: 'widget', rule: 'shaped' },
    ]);
    assert.deepEqual(
      fake.eventbridge.deliveryFailures().map((f) => [f.targetId, f.eventId]),
      [['gone', out.Entries?.[0]?.EventId]],
    );
  });

  test('PutEvents over HTTP refuses aws.* sources and malformed detail per entry', async () => {
    const out = await c.eventbridge.send(
      new PutEventsCommand({
        Entries: [
          { Source: 'aws.s3', DetailType: 'x', Detail: '{}' },
          { Source: 'my.app', DetailType: 'x', Detail: 'not json' },
          { Source: 'my.app', DetailType: 'x', Detail: '{}' },
        ],
      }),
    );
    assert.equal(out.FailedEntryCount, 2);
    assert.deepEqual(
      out.Entries?.map((e) => e.ErrorCode),
      ['NotAuthorizedForSourceException', 'MalformedDetail', undefined],
    );
  });

  test('S3 buckets with EventBridge notifications emit Object Created events (the FIFO path)', async () => {
    fake.sqs.createQueue(REGION, 'cloudfront.fifo', { FifoQueue: 'true' });
    fake.s3.createBucket(REGION, 'cf-logs');
    await c.s3.send(
      new PutBucketNotificationConfigurationCommand({
        Bucket: 'cf-logs',
        NotificationConfiguration: { EventBridgeConfiguration: {} },
      }),
    );
    await c.eventbridge.send(
      new PutRuleCommand({
        Name: 's3-created',
        EventPattern: JSON.stringify({
          source: ['aws.s3'],
          'detail-type': ['Object Created'],
          detail: { bucket: { name: ['cf-logs'] } },
        }),
      }),
    );
    await c.eventbridge.send(
      new PutTargetsCommand({
        Rule: 's3-created',
        Targets: [{ Id: 'fifo', Arn: arn('cloudfront.fifo'), SqsParameters: { MessageGroupId: 'cf' } }],
      }),
    );
    await c.s3.send(
      new PutObjectCommand({ Bucket: 'cf-logs', Key: 'cf/E2EXAMPLE.2026-11-20-18.a b.gz', Body: 'log' }),
    );
    const [event] = bodies('cloudfront.fifo');
    assert.equal(event?.source, 'aws.s3');
    assert.equal(event?.['detail-type'], 'Object Created');
    assert.deepEqual(event?.resources, ['arn:aws:s3:::cf-logs']);
    const detail = event?.detail as {
      bucket: { name: string };
      object: { key: string; size: number };
      reason: string;
    };
    assert.equal(detail.bucket.name, 'cf-logs');
    assert.equal(
      detail.object.key,
      'cf/E2EXAMPLE.2026-11-20-18.a b.gz',
      'EventBridge keys are not URL-encoded',
    );
    assert.equal(detail.object.size, 3);
    assert.equal(detail.reason, 'PutObject');
  });
});
