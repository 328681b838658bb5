import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import {
  ChangeMessageVisibilityBatchCommand,
  ChangeMessageVisibilityCommand,
  CreateQueueCommand,
  DeleteMessageBatchCommand,
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SendMessageCommand,
  SetQueueAttributesCommand,
  type Message,
} from '@aws-sdk/client-sqs';
import { startFakeAws, type FakeAws } from '../../sandbox/fake-aws/index.js';
import { clients, rejection } from './clients.js';
import { setTimeout as sleep } from 'node:timers/promises';

const REGION = 'eu-west-1';

// Tests use their own queues, so they run side by side (several wait on real visibility timeouts).
describe('fake SQS', { concurrency: true }, () => {
  let fake: FakeAws;
  let c: ReturnType<typeof clients>;
  let n = 0;
  /** A fresh queue per test, created over HTTP. */
  const queue = async (attributes: Record<string, string> = {}, fifo = false): Promise<string> => {
    const name = `q${++n}${fifo ? '.fifo' : ''}`;
    const out = await c.sqs.send(
      new CreateQueueCommand({
        QueueName: name,
        Attributes: fifo ? { FifoQueue: 'true', ...attributes } : attributes,
      }),
    );
    return out.QueueUrl!;
  };
  const receive = async (
    QueueUrl: string,
    extra: Partial<ConstructorParameters<typeof ReceiveMessageCommand>[0]> = {},
  ): Promise<Message[]> =>
    (
      await c.sqs.send(
        new ReceiveMessageCommand({
          QueueUrl,
          MaxNumberOfMessages: 10,
          MessageSystemAttributeNames: ['All'],
          ...extra,
        }),
      )
    ).Messages ?? [];
  const nameOf = (url: string): string => url.split('/').at(-1)!;

  before(async () => {
    fake = await startFakeAws();
    c = clients(fake);
  });
  after(async () => {
    c.destroy();
    await fake.stop();
  });

  test('queue URLs are endpoint/account/name; GetQueueUrl and attributes round-trip', async () => {
    const url = await queue({ VisibilityTimeout: '45', DelaySeconds: '0' });
    assert.equal(url, `${fake.endpoint}/123456789012/${nameOf(url)}`);
    assert.equal((await c.sqs.send(new GetQueueUrlCommand({ QueueName: nameOf(url) }))).QueueUrl, url);
    await c.sqs.send(
      new SetQueueAttributesCommand({ QueueUrl: url, Attributes: { ReceiveMessageWaitTimeSeconds: '5' } }),
    );
    const { Attributes } = await c.sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['All'] }),
    );
    assert.equal(Attributes?.VisibilityTimeout, '45');
    assert.equal(Attributes?.ReceiveMessageWaitTimeSeconds, '5');
    assert.equal(Attributes?.QueueArn, `arn:aws:sqs:${REGION}:123456789012:${nameOf(url)}`);
    // Same name, same attributes: idempotent; different attributes: QueueNameExists.
    assert.equal(
      (
        await c.sqs.send(
          new CreateQueueCommand({ QueueName: nameOf(url), Attributes: { VisibilityTimeout: '45' } }),
        )
      ).QueueUrl,
      url,
    );
    const clash = await rejection(
      c.sqs.send(new CreateQueueCommand({ QueueName: nameOf(url), Attributes: { VisibilityTimeout: '1' } })),
    );
    assert.equal(clash.name, 'QueueNameExists');
    const badAttr = await rejection(
      c.sqs.send(
        new SetQueueAttributesCommand({ QueueUrl: url, Attributes: { Nope: '1' } as Record<string, string> }),
      ),
    );
    assert.equal(badAttr.name, 'InvalidAttributeName');
  });

  test('a missing queue is QueueDoesNotExist, per region and per account', async () => {
    const url = await queue();
    const missing = await rejection(c.sqs.send(new GetQueueUrlCommand({ QueueName: 'does-not-exist' })));
    assert.equal(missing.name, 'QueueDoesNotExist');
    assert.equal((missing as { Code?: string }).Code, 'AWS.SimpleQueueService.NonExistentQueue');
    const elsewhere = clients(fake, { region: 'us-east-1' });
    assert.equal(
      (await rejection(elsewhere.sqs.send(new SendMessageCommand({ QueueUrl: url, MessageBody: 'x' })))).name,
      'QueueDoesNotExist',
    );
    elsewhere.destroy();
    const otherAccount = url.replace('/123456789012/', '/999999999999/');
    assert.equal(
      (await rejection(c.sqs.send(new SendMessageCommand({ QueueUrl: otherAccount, MessageBody: 'x' }))))
        .name,
      'QueueDoesNotExist',
    );
  });

  test('send and receive carry body, MD5s, system and message attributes', async () => {
    const url = await queue();
    const sent = await c.sqs.send(
      new SendMessageCommand({
        QueueUrl: url,
        MessageBody: 'héllo 🌍',
        MessageAttributes: {
          kind: { DataType: 'String', StringValue: 'finding' },
          size: { DataType: 'Number', StringValue: '42' },
          blob: { DataType: 'Binary', BinaryValue: new Uint8Array([0, 1, 2, 255]) },
        },
      }),
    );
    const expectedAttrMd5 = independentAttributesMd5([
      ['blob', 'Binary', Buffer.from([0, 1, 2, 255])],
      ['kind', 'String', Buffer.from('finding')],
      ['size', 'Number', Buffer.from('42')],
    ]);
    assert.equal(sent.MD5OfMessageAttributes, expectedAttrMd5);
    const [m] = await receive(url, { MessageAttributeNames: ['All'] });
    assert.ok(m);
    assert.equal(m.MessageId, sent.MessageId);
    assert.equal(m.Body, 'héllo 🌍');
    assert.equal(m.MD5OfBody, createHash('md5').update('héllo 🌍').digest('hex'));
    assert.equal(m.MD5OfMessageAttributes, expectedAttrMd5);
    assert.deepEqual([...(m.MessageAttributes?.blob?.BinaryValue ?? [])], [0, 1, 2, 255]);
    assert.equal(m.Attributes?.ApproximateReceiveCount, '1');
    assert.ok(Math.abs(Number(m.Attributes?.SentTimestamp) - Date.now()) < 5000);
    assert.match(m.Attributes?.SenderId ?? '', /^AIDA/);
    // Only the asked-for attributes come back.
    await c.sqs.send(
      new ChangeMessageVisibilityCommand({
        QueueUrl: url,
        ReceiptHandle: m.ReceiptHandle,
        VisibilityTimeout: 0,
      }),
    );
    const [again] = await receive(url, { MessageAttributeNames: ['kind'] });
    assert.deepEqual(Object.keys(again?.MessageAttributes ?? {}), ['kind']);
    assert.equal(
      again?.MD5OfMessageAttributes,
      independentAttributesMd5([['kind', 'String', Buffer.from('finding')]]),
    );
  });

  test('invalid message contents and sizes are refused', async () => {
    const url = await queue({ MaximumMessageSize: '1024' });
    assert.equal(
      (await rejection(c.sqs.send(new SendMessageCommand({ QueueUrl: url, MessageBody: 'bad \u0001' }))))
        .name,
      'InvalidMessageContents',
    );
    assert.equal(
      (await rejection(c.sqs.send(new SendMessageCommand({ QueueUrl: url, MessageBody: 'x'.repeat(1025) }))))
        .name,
      'InvalidParameterValue',
    );
  });

  test('a long poll returns as soon as a message arrives', async () => {
    const url = await queue();
    const started = Date.now();
    const polling = receive(url, { WaitTimeSeconds: 10 });
    await sleep(150);
    fake.sqs.send(REGION, nameOf(url), 'wake up');
    const messages = await polling;
    const elapsed = Date.now() - started;
    assert.equal(messages[0]?.Body, 'wake up');
    assert.ok(elapsed >= 140 && elapsed < 3000, `returned after ${elapsed} ms`);
  });

  test('a long poll with nothing to receive ends after WaitTimeSeconds', async () => {
    const url = await queue();
    const started = Date.now();
    assert.deepEqual(await receive(url, { WaitTimeSeconds: 1 }), []);
    const elapsed = Date.now() - started;
    assert.ok(elapsed >= 950 && elapsed < 3000, `returned after ${elapsed} ms`);
  });

  test('an unacknowledged message comes back after its visibility timeout, counted', async () => {
    const url = await queue({ VisibilityTimeout: '1' });
    fake.sqs.send(REGION, nameOf(url), 'redeliver me');
    const [first] = await receive(url);
    assert.equal(first?.Attributes?.ApproximateReceiveCount, '1');
    assert.deepEqual(await receive(url), [], 'invisible while in flight');
    assert.deepEqual(fake.sqs.stats(REGION, nameOf(url)).inFlight, 1);
    // A long poll wakes when the visibility timeout runs out.
    const started = Date.now();
    const [second] = await receive(url, { WaitTimeSeconds: 5 });
    assert.ok(Date.now() - started < 2500);
    assert.equal(second?.MessageId, first?.MessageId);
    assert.equal(second?.Attributes?.ApproximateReceiveCount, '2');
    assert.equal(
      second?.Attributes?.ApproximateFirstReceiveTimestamp,
      first?.Attributes?.ApproximateFirstReceiveTimestamp,
    );
    assert.notEqual(second?.ReceiptHandle, first?.ReceiptHandle);

    // The outdated handle can no longer change visibility, and deleting with it leaves the message.
    const stale = await rejection(
      c.sqs.send(
        new ChangeMessageVisibilityCommand({
          QueueUrl: url,
          ReceiptHandle: first!.ReceiptHandle,
          VisibilityTimeout: 10,
        }),
      ),
    );
    assert.equal(stale.name, 'InvalidParameterValue');
    await c.sqs.send(new DeleteMessageCommand({ QueueUrl: url, ReceiptHandle: first!.ReceiptHandle }));
    assert.equal(fake.sqs.stats(REGION, nameOf(url)).deleted, 0);
    await c.sqs.send(new DeleteMessageCommand({ QueueUrl: url, ReceiptHandle: second!.ReceiptHandle }));
    const stats = fake.sqs.stats(REGION, nameOf(url));
    assert.deepEqual([stats.deleted, stats.received, stats.visible, stats.inFlight], [1, 2, 0, 0]);
    const garbage = await rejection(
      c.sqs.send(new DeleteMessageCommand({ QueueUrl: url, ReceiptHandle: 'not-a-handle' })),
    );
    assert.equal(garbage.name, 'ReceiptHandleIsInvalid');
  });

  test('ChangeMessageVisibility extends and releases in-flight messages', async () => {
    const url = await queue({ VisibilityTimeout: '1' });
    fake.sqs.send(REGION, nameOf(url), 'slow');
    const [m] = await receive(url);
    await c.sqs.send(
      new ChangeMessageVisibilityCommand({
        QueueUrl: url,
        ReceiptHandle: m!.ReceiptHandle,
        VisibilityTimeout: 30,
      }),
    );
    await sleep(1200);
    assert.deepEqual(await receive(url), [], 'extended beyond the 1 s default');
    await c.sqs.send(
      new ChangeMessageVisibilityCommand({
        QueueUrl: url,
        ReceiptHandle: m!.ReceiptHandle,
        VisibilityTimeout: 0,
      }),
    );
    assert.equal((await receive(url))[0]?.MessageId, m?.MessageId);
  });

  test('batch calls report each entry in Successful or Failed', async () => {
    const url = await queue();
    const sent = await c.sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: url,
        Entries: [
          { Id: 'a', MessageBody: 'one' },
          { Id: 'b', MessageBody: 'two' },
          { Id: 'c', MessageBody: 'bad \u0002' },
        ],
      }),
    );
    assert.deepEqual(
      sent.Successful?.map((s) => s.Id),
      ['a', 'b'],
    );
    assert.equal(sent.Failed?.[0]?.Id, 'c');
    assert.equal(sent.Failed?.[0]?.SenderFault, true);
    const messages = await receive(url);
    assert.deepEqual(
      messages.map((m) => m.Body),
      ['one', 'two'],
    );
    const changed = await c.sqs.send(
      new ChangeMessageVisibilityBatchCommand({
        QueueUrl: url,
        Entries: [
          { Id: 'x', ReceiptHandle: messages[0]!.ReceiptHandle, VisibilityTimeout: 60 },
          { Id: 'y', ReceiptHandle: 'garbage', VisibilityTimeout: 60 },
        ],
      }),
    );
    assert.deepEqual(
      changed.Successful?.map((s) => s.Id),
      ['x'],
    );
    assert.equal(changed.Failed?.[0]?.Code, 'ReceiptHandleIsInvalid');
    const deleted = await c.sqs.send(
      new DeleteMessageBatchCommand({
        QueueUrl: url,
        Entries: messages.map((m, i) => ({ Id: `d${i}`, ReceiptHandle: m.ReceiptHandle })),
      }),
    );
    assert.equal(deleted.Successful?.length, 2);
    assert.equal(fake.sqs.stats(REGION, nameOf(url)).deleted, 2);
    const tooMany = await rejection(
      c.sqs.send(
        new SendMessageBatchCommand({
          QueueUrl: url,
          Entries: Array.from({ length: 11 }, (_, i) => ({ Id: `m${i}`, MessageBody: 'x' })),
        }),
      ),
    );
    assert.equal(tooMany.name, 'TooManyEntriesInBatchRequest');
    const dup = await rejection(
      c.sqs.send(
        new SendMessageBatchCommand({
          QueueUrl: url,
          Entries: [
            { Id: 'same', MessageBody: 'x' },
            { Id: 'same', MessageBody: 'y' },
          ],
        }),
      ),
    );
    assert.equal(dup.name, 'BatchEntryIdsNotDistinct');
  });

  test('FIFO: strict order per group, no group message while another is in flight', async () => {
    const url = await queue({ ContentBasedDeduplication: 'true' }, true);
    for (const [group, body] of [
      ['a', 'a1'],
      ['a', 'a2'],
      ['b', 'b1'],
      ['a', 'a3'],
      ['b', 'b2'],
    ]) {
      await c.sqs.send(new SendMessageCommand({ QueueUrl: url, MessageBody: body, MessageGroupId: group }));
    }
    const first = await receive(url, { MaxNumberOfMessages: 1 });
    assert.deepEqual(
      first.map((m) => m.Body),
      ['a1'],
    );
    assert.equal(first[0]?.Attributes?.MessageGroupId, 'a');
    assert.match(first[0]?.Attributes?.SequenceNumber ?? '', /^\d{20}$/);
    // Group a is locked by a1: only group b can be received, in order.
    assert.deepEqual(
      (await receive(url)).map((m) => m.Body),
      ['b1', 'b2'],
    );
    assert.deepEqual(await receive(url), []);
    await c.sqs.send(new DeleteMessageCommand({ QueueUrl: url, ReceiptHandle: first[0]!.ReceiptHandle }));
    assert.deepEqual(
      (await receive(url)).map((m) => m.Body),
      ['a2', 'a3'],
    );
  });

  test('FIFO: a message whose visibility expires is delivered again before later ones of its group, to a poll started after', async () => {
    const url = await queue({ ContentBasedDeduplication: 'true', VisibilityTimeout: '1' }, true);
    fake.sqs.send(REGION, nameOf(url), 'g1', { groupId: 'g' });
    fake.sqs.send(REGION, nameOf(url), 'g2', { groupId: 'g' });
    const [m1] = await receive(url, { MaxNumberOfMessages: 1 });
    assert.equal(m1?.Body, 'g1');
    // A long poll decides which groups are free when it starts: g, locked then, stays out of it
    // even after g1's visibility expires during the wait.
    assert.deepEqual(await receive(url, { MaxNumberOfMessages: 1, WaitTimeSeconds: 2 }), []);
    const [again] = await receive(url, { MaxNumberOfMessages: 1 });
    assert.equal(again?.Body, 'g1');
    assert.equal(again?.Attributes?.ApproximateReceiveCount, '2');
    // The expired handle cannot delete on a FIFO queue.
    const expired = await rejection(
      c.sqs.send(new DeleteMessageCommand({ QueueUrl: url, ReceiptHandle: m1!.ReceiptHandle })),
    );
    assert.equal(expired.name, 'InvalidParameterValue');
  });

  test('FIFO: deduplication by id or content within 5 minutes, required parameters', async () => {
    const url = await queue({}, true);
    const one = await c.sqs.send(
      new SendMessageCommand({
        QueueUrl: url,
        MessageBody: 'x',
        MessageGroupId: 'g',
        MessageDeduplicationId: 'd1',
      }),
    );
    const dup = await c.sqs.send(
      new SendMessageCommand({
        QueueUrl: url,
        MessageBody: 'other',
        MessageGroupId: 'g',
        MessageDeduplicationId: 'd1',
      }),
    );
    assert.equal(dup.MessageId, one.MessageId);
    assert.equal(dup.SequenceNumber, one.SequenceNumber);
    const stats = fake.sqs.stats(REGION, nameOf(url));
    assert.deepEqual([stats.sent, stats.deduplicated, stats.visible], [1, 1, 1]);
    assert.equal(
      (
        await rejection(
          c.sqs.send(
            new SendMessageCommand({ QueueUrl: url, MessageBody: 'x', MessageDeduplicationId: 'd2' }),
          ),
        )
      ).name,
      'MissingParameter',
    );
    assert.equal(
      (
        await rejection(
          c.sqs.send(new SendMessageCommand({ QueueUrl: url, MessageBody: 'x', MessageGroupId: 'g' })),
        )
      ).name,
      'InvalidParameterValue',
    );

    const content = await queue({ ContentBasedDeduplication: 'true' }, true);
    const a = fake.sqs.send(REGION, nameOf(content), 'same body', { groupId: 'g' });
    const b = fake.sqs.send(REGION, nameOf(content), 'same body', { groupId: 'h' });
    assert.equal(a.messageId, b.messageId);
    assert.equal(fake.sqs.stats(REGION, nameOf(content)).visible, 1);
    const badName = await rejection(
      c.sqs.send(new CreateQueueCommand({ QueueName: 'not-fifo', Attributes: { FifoQueue: 'true' } })),
    );
    assert.equal(badName.name, 'InvalidParameterValue');
  });

  test('RedrivePolicy moves a message to the dead-letter queue after maxReceiveCount receives', async () => {
    const dlq = await queue();
    const dlqArn = `arn:aws:sqs:${REGION}:123456789012:${nameOf(dlq)}`;
    const url = await queue({
      VisibilityTimeout: '0',
      RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlqArn, maxReceiveCount: 2 }),
    });
    fake.sqs.send(REGION, nameOf(url), 'poison');
    assert.equal((await receive(url))[0]?.Attributes?.ApproximateReceiveCount, '1');
    assert.equal((await receive(url))[0]?.Attributes?.ApproximateReceiveCount, '2');
    assert.deepEqual(await receive(url), []);
    assert.equal(fake.sqs.stats(REGION, nameOf(url)).movedToDlq, 1);
    const [dead] = await receive(dlq);
    assert.equal(dead?.Body, 'poison');
    assert.equal(
      dead?.Attributes?.DeadLetterQueueSourceArn,
      `arn:aws:sqs:${REGION}:123456789012:${nameOf(url)}`,
    );
    const missing = await rejection(
      c.sqs.send(
        new CreateQueueCommand({
          QueueName: 'bad-redrive',
          Attributes: {
            RedrivePolicy: JSON.stringify({ deadLetterTargetArn: `${dlqArn}-nope`, maxReceiveCount: 2 }),
          },
        }),
      ),
    );
    assert.equal(missing.name, 'InvalidParameterValue');
  });

  test('DelaySeconds hides a message until the delay passes', async () => {
    const url = await queue();
    await c.sqs.send(new SendMessageCommand({ QueueUrl: url, MessageBody: 'later', DelaySeconds: 1 }));
    assert.equal(fake.sqs.stats(REGION, nameOf(url)).delayed, 1);
    assert.deepEqual(await receive(url), []);
    assert.equal((await receive(url, { WaitTimeSeconds: 3 }))[0]?.Body, 'later');
  });

  test('stop() ends a pending long poll at once', async () => {
    const own = await startFakeAws();
    const oc = clients(own);
    const url = own.sqs.createQueue(REGION, 'waiting');
    const polling = oc.sqs.send(new ReceiveMessageCommand({ QueueUrl: url, WaitTimeSeconds: 20 }));
    while (own.activeRequests === 0) await sleep(10);
    const started = Date.now();
    await own.stop();
    assert.equal((await polling).Messages, undefined);
    assert.ok(Date.now() - started < 1000);
    oc.destroy();
  });
});

/** MD5OfMessageAttributes per the SQS developer guide, written out independently of the fake. */
function independentAttributesMd5(attrs: [string, string, Buffer][]): string {
  const hash = createHash('md5');
  const withLength = (b: Buffer): void => {
    const len = Buffer.alloc(4);
    len.writeInt32BE(b.length);
    hash.update(len).update(b);
  };
  for (const [name, type, value] of attrs) {
    withLength(Buffer.from(name));
    withLength(Buffer.from(type));
    hash.update(Buffer.from([type === 'Binary' ? 2 : 1]));
    withLength(value);
  }
  return hash.digest('hex');
}
