import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  CreateLogGroupCommand,
  CreateLogStreamCommand,
  DescribeLogGroupsCommand,
  FilterLogEventsCommand,
  PutLogEventsCommand,
  type FilteredLogEvent,
} from '@aws-sdk/client-cloudwatch-logs';
import { startFakeAws, type FakeAws } from '../../sandbox/fake-aws/index.js';
import { clients, rejection } from './clients.js';

const REGION = 'eu-west-1';
const T0 = Date.now() - 3_600_000;

describe('fake CloudWatch Logs', () => {
  let fake: FakeAws;
  let c: ReturnType<typeof clients>;
  before(async () => {
    fake = await startFakeAws();
    c = clients(fake);
    fake.logs.createLogGroup(REGION, '/aws/lambda/app');
    // Three streams, interleaved in time: stream k holds timestamps T0 + (3i + k) s.
    for (const k of [0, 1, 2]) {
      fake.logs.putEvents(
        REGION,
        '/aws/lambda/app',
        `stream-${k}`,
        Array.from({ length: 100 }, (_, i) => ({
          timestamp: T0 + (3 * i + k) * 1000,
          message: `event ${3 * i + k}${k === 1 ? ' ERROR' : ''}`,
        })),
      );
    }
  });
  after(async () => {
    c.destroy();
    await fake.stop();
  });

  const filterAll = async (
    input: Omit<ConstructorParameters<typeof FilterLogEventsCommand>[0], 'nextToken'>,
  ): Promise<{ events: FilteredLogEvent[]; pages: number }> => {
    const events: FilteredLogEvent[] = [];
    let nextToken: string | undefined;
    let pages = 0;
    do {
      const out = await c.logs.send(new FilterLogEventsCommand({ ...input, nextToken }));
      events.push(...(out.events ?? []));
      nextToken = out.nextToken;
      pages++;
    } while (nextToken);
    return { events, pages };
  };

  test('groups and streams are created once; PutLogEvents stores chronological batches', async () => {
    await c.logs.send(new CreateLogGroupCommand({ logGroupName: '/app/http' }));
    assert.equal(
      (await rejection(c.logs.send(new CreateLogGroupCommand({ logGroupName: '/app/http' })))).name,
      'ResourceAlreadyExistsException',
    );
    await c.logs.send(new CreateLogStreamCommand({ logGroupName: '/app/http', logStreamName: 'a' }));
    assert.equal(
      (
        await rejection(
          c.logs.send(new CreateLogStreamCommand({ logGroupName: '/app/http', logStreamName: 'a' })),
        )
      ).name,
      'ResourceAlreadyExistsException',
    );
    const missingGroup = await rejection(
      c.logs.send(new CreateLogStreamCommand({ logGroupName: '/nope', logStreamName: 'a' })),
    );
    assert.equal(missingGroup.name, 'ResourceNotFoundException');
    const now = Date.now();
    const DAY = 86_400_000;
    const put = (logEvents: { timestamp: number; message: string }[]) =>
      c.logs.send(new PutLogEventsCommand({ logGroupName: '/app/http', logStreamName: 'a', logEvents }));
    const old = await put([
      { timestamp: now - 14 * DAY - 3_600_000, message: 'too old' },
      { timestamp: now - 14 * DAY + 3_600_000, message: 'kept 1' },
    ]);
    assert.deepEqual(old.rejectedLogEventsInfo, { tooOldLogEventEndIndex: 1 });
    const future = await put([
      { timestamp: now, message: 'kept 2' },
      { timestamp: now + 3 * 3_600_000, message: 'too new' },
    ]);
    assert.deepEqual(future.rejectedLogEventsInfo, { tooNewLogEventStartIndex: 1 });
    const span = await rejection(
      put([
        { timestamp: now - 2 * DAY, message: 'a' },
        { timestamp: now, message: 'b' },
      ]),
    );
    assert.equal(span.name, 'InvalidParameterException');
    const { events } = await filterAll({ logGroupName: '/app/http' });
    assert.deepEqual(
      events.map((e) => e.message),
      ['kept 1', 'kept 2'],
    );
    const unordered = await rejection(
      c.logs.send(
        new PutLogEventsCommand({
          logGroupName: '/app/http',
          logStreamName: 'a',
          logEvents: [
            { timestamp: now, message: 'b' },
            { timestamp: now - 1, message: 'a' },
          ],
        }),
      ),
    );
    assert.equal(unordered.name, 'InvalidParameterException');
    const noStream = await rejection(
      c.logs.send(
        new PutLogEventsCommand({
          logGroupName: '/app/http',
          logStreamName: 'zz',
          logEvents: [{ timestamp: now, message: 'x' }],
        }),
      ),
    );
    assert.equal(noStream.name, 'ResourceNotFoundException');
  });

  test('DescribeLogGroups filters by prefix and pages with nextToken', async () => {
    for (const name of ['/svc/a', '/svc/b', '/svc/c', '/other/x']) fake.logs.createLogGroup(REGION, name);
    const names: string[] = [];
    let nextToken: string | undefined;
    let pages = 0;
    do {
      const out = await c.logs.send(
        new DescribeLogGroupsCommand({ logGroupNamePrefix: '/svc/', limit: 2, nextToken }),
      );
      names.push(...(out.logGroups ?? []).map((g) => g.logGroupName!));
      nextToken = out.nextToken;
      pages++;
    } while (nextToken);
    assert.deepEqual(names, ['/svc/a', '/svc/b', '/svc/c']);
    assert.equal(pages, 2);
    const [group] =
      (await c.logs.send(new DescribeLogGroupsCommand({ logGroupNamePrefix: '/svc/a' }))).logGroups ?? [];
    assert.equal(group?.arn, `arn:aws:logs:${REGION}:123456789012:log-group:/svc/a:*`);
    assert.equal(group?.logGroupArn, `arn:aws:logs:${REGION}:123456789012:log-group:/svc/a`);
  });

  test('DescribeLogGroups: logGroupNamePattern is a case-sensitive substring search', async () => {
    for (const name of ['/x/FooBar', '/x/aws/Foo', '/x/foo', '/x/F/o/o'])
      fake.logs.createLogGroup(REGION, name);
    const out = await c.logs.send(new DescribeLogGroupsCommand({ logGroupNamePattern: 'Foo' }));
    assert.deepEqual(
      (out.logGroups ?? []).map((g) => g.logGroupName),
      ['/x/FooBar', '/x/aws/Foo'],
    );
  });

  test("another account's group: by ARN only, once its account is linked to the caller's", async () => {
    const source = '444444444444';
    fake.logs.createLogGroup(REGION, '/linked/app', source);
    fake.logs.putEvents(
      REGION,
      '/linked/app',
      's',
      [{ timestamp: T0, message: 'from the source account' }],
      source,
    );
    const arn = `arn:aws:logs:${REGION}:${source}:log-group:/linked/app`;
    assert.equal(
      (await rejection(c.logs.send(new FilterLogEventsCommand({ logGroupIdentifier: arn })))).name,
      'ResourceNotFoundException',
    );
    fake.logs.linkSourceAccount('123456789012', source);
    assert.deepEqual(
      (await filterAll({ logGroupIdentifier: arn })).events.map((e) => e.message),
      ['from the source account'],
    );
    assert.equal(
      (await rejection(c.logs.send(new FilterLogEventsCommand({ logGroupName: '/linked/app' })))).name,
      'ResourceNotFoundException',
      'by name, only the caller account is searched',
    );
  });

  test('maxPageEvents makes smaller pages; every event still comes once', async () => {
    fake.logs.maxPageEvents = 40;
    try {
      const { events, pages } = await filterAll({ logGroupName: '/aws/lambda/app' });
      assert.equal(pages, 8);
      assert.equal(new Set(events.map((e) => e.eventId)).size, 300);
    } finally {
      fake.logs.maxPageEvents = 10_000;
    }
  });

  test('FilterLogEvents merges streams in timestamp order and pages every event once', async () => {
    const { events, pages } = await filterAll({ logGroupName: '/aws/lambda/app', limit: 70 });
    assert.equal(pages, 5);
    assert.deepEqual(
      events.map((e) => e.timestamp),
      Array.from({ length: 300 }, (_, i) => T0 + i * 1000),
    );
    assert.equal(new Set(events.map((e) => e.eventId)).size, 300);
    const first = events[0]!;
    assert.equal(first.logStreamName, 'stream-0');
    assert.equal(first.message, 'event 0');
    assert.ok(first.ingestionTime! >= first.timestamp!);
  });

  test('startTime and endTime are inclusive (ms); stream names and filter patterns narrow', async () => {
    const window = await filterAll({
      logGroupName: '/aws/lambda/app',
      startTime: T0 + 10_000,
      endTime: T0 + 20_000,
    });
    assert.deepEqual(
      window.events.map((e) => e.message),
      Array.from({ length: 11 }, (_, i) => `event ${10 + i}${(10 + i) % 3 === 1 ? ' ERROR' : ''}`),
    );
    const oneStream = await filterAll({ logGroupName: '/aws/lambda/app', logStreamNames: ['stream-2'] });
    assert.equal(oneStream.events.length, 100);
    assert.ok(oneStream.events.every((e) => e.logStreamName === 'stream-2'));
    const errors = await filterAll({ logGroupName: '/aws/lambda/app', filterPattern: 'ERROR' });
    assert.equal(errors.events.length, 100);
    const either = await filterAll({
      logGroupName: '/aws/lambda/app',
      filterPattern: '?"event 3" ?"event 4"',
    });
    assert.ok(either.events.length > 2 && either.events.every((e) => /event [34]/.test(e.message ?? '')));
    const excluded = await filterAll({ logGroupName: '/aws/lambda/app', filterPattern: 'event -ERROR' });
    assert.equal(excluded.events.length, 200);
  });

  test('logGroupIdentifier accepts the group ARN; bad inputs get Logs errors', async () => {
    const arn = `arn:aws:logs:${REGION}:123456789012:log-group:/aws/lambda/app`;
    assert.equal((await filterAll({ logGroupIdentifier: arn, limit: 10_000 })).events.length, 300);
    assert.equal((await filterAll({ logGroupIdentifier: `${arn}:*` })).events.length, 300);
    const missing = await rejection(
      c.logs.send(new FilterLogEventsCommand({ logGroupName: '/no/such/group' })),
    );
    assert.equal(missing.name, 'ResourceNotFoundException');
    const both = await rejection(
      c.logs.send(new FilterLogEventsCommand({ logGroupName: '/aws/lambda/app', logGroupIdentifier: arn })),
    );
    assert.equal(both.name, 'InvalidParameterException');
    const bigLimit = await rejection(
      c.logs.send(new FilterLogEventsCommand({ logGroupName: '/aws/lambda/app', limit: 10_001 })),
    );
    assert.equal(bigLimit.name, 'InvalidParameterException');
    const badToken = await rejection(
      c.logs.send(new FilterLogEventsCommand({ logGroupName: '/aws/lambda/app', nextToken: 'nope' })),
    );
    assert.equal(badToken.name, 'InvalidParameterException');
    fake.inject({ service: 'logs', operation: 'FilterLogEvents', kind: 'throttle', times: 1 });
    assert.equal(
      (await rejection(c.logs.send(new FilterLogEventsCommand({ logGroupName: '/aws/lambda/app' })))).name,
      'ThrottlingException',
    );
  });
});
