import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { LookupEventsCommand, type Event } from '@aws-sdk/client-cloudtrail';
import { startFakeAws, type FakeAws } from '../../sandbox/fake-aws/index.js';
import { clients, rejection } from './clients.js';

const REGION = 'eu-west-1';
const T0 = Math.floor(Date.now() / 1000) * 1000 - 3_600_000;

describe('fake CloudTrail LookupEvents', () => {
  let fake: FakeAws;
  let c: ReturnType<typeof clients>;
  before(async () => {
    fake = await startFakeAws();
    c = clients(fake);
    // 120 events one second apart, alternating two event names and sources.
    fake.cloudtrail.addEvents(
      REGION,
      Array.from({ length: 120 }, (_, i) => ({
        eventName: i % 2 ? 'RunInstances' : 'DescribeInstances',
        eventSource: i % 2 ? 'ec2.amazonaws.com' : 'iam.amazonaws.com',
        eventTime: T0 + i * 1000,
        seq: i,
      })),
    );
  });
  after(async () => {
    c.destroy();
    await fake.stop();
  });

  const all = async (
    input: ConstructorParameters<typeof LookupEventsCommand>[0],
  ): Promise<{ events: Event[]; pages: number }> => {
    const events: Event[] = [];
    let NextToken: string | undefined;
    let pages = 0;
    do {
      const out = await c.cloudtrail.send(new LookupEventsCommand({ ...input, NextToken }));
      events.push(...(out.Events ?? []));
      NextToken = out.NextToken;
      pages++;
    } while (NextToken);
    return { events, pages };
  };
  const seqOf = (e: Event): number => JSON.parse(e.CloudTrailEvent ?? '{}').seq;

  test('pages of at most 50, newest first, every event once', async () => {
    const { events, pages } = await all({ StartTime: new Date(T0), EndTime: new Date(T0 + 200_000) });
    assert.equal(pages, 3);
    assert.equal(events.length, 120);
    assert.deepEqual(
      events.map(seqOf),
      Array.from({ length: 120 }, (_, i) => 119 - i),
    );
    const first = events[0]!;
    assert.equal(first.EventName, 'RunInstances');
    assert.equal(first.EventSource, 'ec2.amazonaws.com');
    assert.equal(first.EventTime?.getTime(), T0 + 119_000);
    assert.equal(first.Username, 'sandbox');
    assert.equal(first.ReadOnly, 'false');
    const record = JSON.parse(first.CloudTrailEvent!);
    assert.equal(record.eventID, first.EventId);
    assert.equal(record.awsRegion, REGION);
    assert.equal(record.eventTime, new Date(T0 + 119_000).toISOString().replace('.000Z', 'Z'));
    const small = await c.cloudtrail.send(new LookupEventsCommand({ MaxResults: 7 }));
    assert.equal(small.Events?.length, 7);
  });

  test('StartTime and EndTime are inclusive', async () => {
    const { events } = await all({ StartTime: new Date(T0 + 10_000), EndTime: new Date(T0 + 20_000) });
    assert.deepEqual(events.map(seqOf), [20, 19, 18, 17, 16, 15, 14, 13, 12, 11, 10]);
  });

  test('LookupAttributes filter by EventName, EventSource or Username; only one is allowed', async () => {
    const byName = await all({
      LookupAttributes: [{ AttributeKey: 'EventName', AttributeValue: 'RunInstances' }],
    });
    assert.equal(byName.events.length, 60);
    assert.ok(byName.events.every((e) => e.EventName === 'RunInstances'));
    const bySource = await all({
      LookupAttributes: [{ AttributeKey: 'EventSource', AttributeValue: 'iam.amazonaws.com' }],
    });
    assert.equal(bySource.events.length, 60);
    assert.equal(
      (await all({ LookupAttributes: [{ AttributeKey: 'Username', AttributeValue: 'nobody' }] })).events
        .length,
      0,
    );
    const two = await rejection(
      c.cloudtrail.send(
        new LookupEventsCommand({
          LookupAttributes: [
            { AttributeKey: 'EventName', AttributeValue: 'a' },
            { AttributeKey: 'EventSource', AttributeValue: 'b' },
          ],
        }),
      ),
    );
    assert.equal(two.name, 'InvalidLookupAttributesException');
  });

  test('invalid MaxResults, time ranges and tokens are refused with CloudTrail errors', async () => {
    assert.equal(
      (await rejection(c.cloudtrail.send(new LookupEventsCommand({ MaxResults: 51 })))).name,
      'InvalidMaxResultsException',
    );
    const range = await rejection(
      c.cloudtrail.send(new LookupEventsCommand({ StartTime: new Date(T0 + 1000), EndTime: new Date(T0) })),
    );
    assert.equal(range.name, 'InvalidTimeRangeException');
    assert.equal(
      (await rejection(c.cloudtrail.send(new LookupEventsCommand({ NextToken: 'garbage' })))).name,
      'InvalidNextTokenException',
    );
    const { NextToken } = await c.cloudtrail.send(new LookupEventsCommand({ MaxResults: 5 }));
    const reused = await rejection(c.cloudtrail.send(new LookupEventsCommand({ MaxResults: 6, NextToken })));
    assert.equal(reused.name, 'InvalidNextTokenException');
  });

  test('events added while paging do not shift later pages', async () => {
    const own = await startFakeAws();
    const oc = clients(own);
    own.cloudtrail.addEvents(
      REGION,
      Array.from({ length: 10 }, (_, i) => ({
        eventName: `E${i}`,
        eventSource: 's.amazonaws.com',
        eventTime: T0 + i * 1000,
      })),
    );
    const first = await oc.cloudtrail.send(new LookupEventsCommand({ MaxResults: 5 }));
    own.cloudtrail.addEvents(REGION, [
      { eventName: 'Newer', eventSource: 's.amazonaws.com', eventTime: T0 + 60_000 },
    ]);
    const second = await oc.cloudtrail.send(
      new LookupEventsCommand({ MaxResults: 5, NextToken: first.NextToken }),
    );
    assert.deepEqual(
      [...(first.Events ?? []), ...(second.Events ?? [])].map((e) => e.EventName),
      ['E9', 'E8', 'E7', 'E6', 'E5', 'E4', 'E3', 'E2', 'E1', 'E0'],
    );
    oc.destroy();
    await own.stop();
  });

  test('records from trail files keep their fields; Username comes from the identity', async () => {
    const Records = [
      {
        eventVersion: '1.09',
        userIdentity: {
          type: 'IAMUser',
          principalId: 'AIDAEXAMPLE',
          arn: 'arn:aws:iam::123456789012:user/alice',
          accountId: '123456789012',
          accessKeyId: 'AKIAEXAMPLE',
          userName: 'alice',
        },
        eventSource: 'ec2.amazonaws.com',
        eventName: 'DescribeInstances',
        awsRegion: 'ap-northeast-1',
        eventID: '6b3b5c2e-8f0f-4d3f-9b6a-3e2f1a0b9c8d',
        readOnly: true,
      },
      {
        eventVersion: '1.08',
        userIdentity: {
          type: 'AssumedRole',
          principalId: 'AROAEXAMPLE:session',
          arn: 'arn:aws:sts::210987654321:assumed-role/Admin/session',
          accountId: '210987654321',
        },
        eventSource: 's3.amazonaws.com',
        eventName: 'PutBucketPolicy',
        requestParameters: {
          bucketName: 'logs-bucket',
          bucketPolicy: { Version: '2012-10-17', Statement: [] },
        },
        eventID: '0c9d8e7f-6a5b-4c3d-2e1f-0a9b8c7d6e5f',
        readOnly: false,
      },
    ];
    const region = 'ap-northeast-1';
    const ids = fake.cloudtrail.addEvents(
      region,
      Records.map((r, i) => ({ ...r, eventTime: T0 + i * 1000 })),
    );
    assert.deepEqual(
      ids,
      Records.map((r) => r.eventID),
    );
    const regional = clients(fake, { region });
    const out = await regional.cloudtrail.send(new LookupEventsCommand({}));
    regional.destroy();
    const alice = out.Events?.find((e) => e.EventName === 'DescribeInstances');
    assert.equal(alice?.Username, 'alice');
    assert.equal(alice?.AccessKeyId, 'AKIAEXAMPLE');
    const assumed = out.Events?.find((e) => e.EventName === 'PutBucketPolicy');
    assert.equal(assumed?.Username, 'session');
    assert.deepEqual(JSON.parse(assumed!.CloudTrailEvent!).requestParameters.bucketName, 'logs-bucket');
  });

  test('events are per account and region', async () => {
    const other = clients(fake, { region: 'us-east-2' });
    assert.deepEqual((await other.cloudtrail.send(new LookupEventsCommand({}))).Events, []);
    other.destroy();
    fake.accounts.addKey('AKIASECONDACCOUNT', '222222222222');
    const second = clients(fake, { credentials: { accessKeyId: 'AKIASECONDACCOUNT', secretAccessKey: 'x' } });
    assert.deepEqual((await second.cloudtrail.send(new LookupEventsCommand({}))).Events, []);
    second.destroy();
  });

  test('the optional 2 requests/s quota throttles with ThrottlingException; request times are logged', async () => {
    fake.cloudtrail.setRateLimit(2);
    const since = Date.now();
    const results = await Promise.all(
      Array.from({ length: 4 }, () =>
        c.cloudtrail.send(new LookupEventsCommand({ MaxResults: 1 })).then(
          () => 'ok',
          (e: Error) => e.name,
        ),
      ),
    );
    assert.deepEqual(results.sort(), ['ThrottlingException', 'ThrottlingException', 'ok', 'ok']);
    const retrying = clients(fake, { maxAttempts: 5 });
    await retrying.cloudtrail.send(new LookupEventsCommand({ MaxResults: 1 }));
    retrying.destroy();
    fake.cloudtrail.setRateLimit(undefined);
    const logged = fake.requestsFor({
      service: 'cloudtrail',
      since,
      accountId: '123456789012',
      region: REGION,
    });
    assert.ok(logged.length >= 5);
    assert.ok(logged.every((r) => typeof r.time === 'number'));
    fake.inject({ service: 'cloudtrail', kind: 'throttle', times: 1 });
    const injected = await rejection(c.cloudtrail.send(new LookupEventsCommand({})));
    assert.equal(injected.name, 'ThrottlingException');
  });
});
