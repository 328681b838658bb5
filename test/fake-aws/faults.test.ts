import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { GetQueueUrlCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import { GetCallerIdentityCommand } from '@aws-sdk/client-sts';
import { startFakeAws, type FakeAws } from '../../sandbox/fake-aws/index.js';
import { clients, rejection } from './clients.js';

const REGION = 'eu-west-1';

describe('fault injection and the request log', () => {
  let fake: FakeAws;
  let c: ReturnType<typeof clients>;
  let url: string;
  before(async () => {
    fake = await startFakeAws();
    c = clients(fake);
    url = fake.sqs.createQueue(REGION, 'faulty');
  });
  after(async () => {
    c.destroy();
    await fake.stop();
  });

  test('throttle is the service throttling error, retried by the SDK as throttling', async () => {
    const remove = fake.inject({ service: 'sqs', operation: 'SendMessage', kind: 'throttle', times: 1 });
    const err = await rejection(c.sqs.send(new SendMessageCommand({ QueueUrl: url, MessageBody: 'x' })));
    assert.equal(err.name, 'RequestThrottled');
    assert.equal((err.$metadata as { httpStatusCode: number }).httpStatusCode, 403);
    remove();

    fake.inject({ service: 'sqs', operation: 'SendMessage', kind: 'throttle', times: 2 });
    const retrying = clients(fake, { maxAttempts: 3 });
    const out = await retrying.sqs.send(new SendMessageCommand({ QueueUrl: url, MessageBody: 'x' }));
    assert.equal(out.$metadata.attempts, 3);
    retrying.destroy();
    const logged = fake.requestsFor({ service: 'sqs', operation: 'SendMessage' }).slice(-3);
    assert.deepEqual(
      logged.map((r) => [r.status, r.fault]),
      [
        [403, 'throttle'],
        [403, 'throttle'],
        [200, undefined],
      ],
    );
  });

  test('5xx answers 500 InternalError or 503 ServiceUnavailable as server faults', async () => {
    fake.inject({ service: 'sqs', kind: '5xx', times: 1 });
    const err = await rejection(c.sqs.send(new GetQueueUrlCommand({ QueueName: 'faulty' })));
    assert.equal(err.name, 'InternalError');
    assert.equal(err.$fault, 'server');
    fake.inject({ service: 'sqs', kind: '5xx', status: 503, times: 1 });
    const unavailable = await rejection(c.sqs.send(new GetQueueUrlCommand({ QueueName: 'faulty' })));
    assert.equal(unavailable.name, 'ServiceUnavailable');
    assert.equal((unavailable.$metadata as { httpStatusCode: number }).httpStatusCode, 503);
  });

  test('malformed is a 200 the SDK cannot parse', async () => {
    fake.inject({ service: 'sts', kind: 'malformed', times: 1 });
    const err = await rejection(c.sts.send(new GetCallerIdentityCommand({})));
    assert.equal((err.$metadata as { httpStatusCode: number }).httpStatusCode, 200);
    fake.inject({ service: 'sqs', kind: 'malformed', times: 1 });
    const json = await rejection(c.sqs.send(new GetQueueUrlCommand({ QueueName: 'faulty' })));
    assert.equal(json.name, 'SyntaxError');
  });

  test('delay holds the response, then answers normally', async () => {
    fake.inject({ service: 'sqs', operation: 'GetQueueUrl', kind: 'delay', delayMs: 300, times: 1 });
    const started = Date.now();
    assert.equal((await c.sqs.send(new GetQueueUrlCommand({ QueueName: 'faulty' }))).QueueUrl, url);
    assert.ok(Date.now() - started >= 290);
    assert.equal(fake.requestsFor({ operation: 'GetQueueUrl' }).at(-1)?.fault, 'delay');
  });

  test('faults match only their service and operation, and disarm after `times`', async () => {
    fake.inject({ service: 'sqs', operation: 'SendMessage', kind: '5xx', times: 1 });
    // Other operations and services are untouched.
    assert.equal((await c.sqs.send(new GetQueueUrlCommand({ QueueName: 'faulty' }))).QueueUrl, url);
    assert.equal((await c.sts.send(new GetCallerIdentityCommand({}))).Account, '123456789012');
    const hit = await rejection(c.sqs.send(new SendMessageCommand({ QueueUrl: url, MessageBody: 'x' })));
    assert.equal(hit.name, 'InternalError');
    const after = await c.sqs.send(new SendMessageCommand({ QueueUrl: url, MessageBody: 'x' }));
    assert.ok(after.MessageId);
    // A removed fault no longer fires.
    const remove = fake.inject({ service: 'sqs', kind: 'throttle' });
    remove();
    assert.ok((await c.sqs.send(new SendMessageCommand({ QueueUrl: url, MessageBody: 'x' }))).MessageId);
  });

  test('probabilistic faults hit the same requests on every run with the same seed', async () => {
    const pattern = async (): Promise<boolean[]> => {
      const own = await startFakeAws({ seed: 42 });
      const oc = clients(own);
      own.inject({ service: 'sts', kind: '5xx', probability: 0.5 });
      const hits: boolean[] = [];
      for (let i = 0; i < 20; i++) {
        hits.push(
          await oc.sts.send(new GetCallerIdentityCommand({})).then(
            () => false,
            () => true,
          ),
        );
      }
      oc.destroy();
      await own.stop();
      return hits;
    };
    const first = await pattern();
    assert.deepEqual(await pattern(), first);
    assert.ok(first.includes(true) && first.includes(false));
  });

  test('the request log records service, operation, region, key, status and input', async () => {
    const since = Date.now();
    const other = clients(fake, {
      region: 'ap-southeast-2',
      credentials: { accessKeyId: 'AKIALOGGED0000000001', secretAccessKey: 'x' },
    });
    await rejection(other.sqs.send(new GetQueueUrlCommand({ QueueName: 'faulty' })));
    other.destroy();
    const [entry] = fake.requestsFor({ since, accessKeyId: 'AKIALOGGED0000000001' });
    assert.ok(entry);
    assert.equal(entry.service, 'sqs');
    assert.equal(entry.operation, 'GetQueueUrl');
    assert.equal(entry.region, 'ap-southeast-2');
    assert.equal(entry.accountId, '123456789012');
    assert.equal(entry.status, 400);
    assert.deepEqual(entry.params, { QueueName: 'faulty' });
    fake.clearRequests();
    assert.equal(fake.requests.length, 0);
  });

  test('bad fault specs are refused', () => {
    assert.throws(() => fake.inject({ service: 'sqs', kind: 'delay' }), RangeError);
    assert.throws(() => fake.inject({ service: 'sqs', kind: 'throttle', probability: 2 }), RangeError);
    assert.throws(() => fake.inject({ service: 'sqs', kind: 'throttle', times: 0 }), RangeError);
  });
});
