import assert from 'node:assert/strict';
import { after, afterEach, before, describe, test } from 'node:test';
import { startFakeAws, type FakeAws } from '../../../../sandbox/fake-aws/index.js';
import { CollectorError, ErrorCodes } from '../../../../src/core/errors.js';
import {
  SqsConsumer,
  type MessageHandler,
  type ReceivedMessage,
  type SqsConsumerOptions,
} from '../../../../src/services/shared/sqs/consumer.js';
import { createLogger } from '../../../../src/telemetry/logger.js';
import { capturingLogger, createHarness, type Harness } from '../../../helpers/harness.js';
import { waitUntil } from '../../../helpers/wait.js';
import { setTimeout as sleep } from 'node:timers/promises';

const REGION = 'eu-west-1';

describe('SqsConsumer (real SDK against the fake SQS)', () => {
  let fake: FakeAws;
  let h: Harness;
  let n = 0;
  let queueName: string;
  const consumers: SqsConsumer[] = [];

  before(async () => {
    fake = await startFakeAws();
  });
  after(async () => {
    await fake.stop();
  });
  afterEach(async () => {
    h.output.failing = false;
    h.output.rejectWith = undefined;
    await Promise.all(consumers.splice(0).map((c) => c.stop()));
    await h.close();
  });

  /** A fresh queue holding `bodies`, a harness, and a consumer on it. */
  function setup(
    bodies: string[],
    handler: MessageHandler,
    options: Partial<SqsConsumerOptions> & {
      fifoGroups?: (i: number) => string;
      logger?: ReturnType<typeof createLogger>;
      ackMessages?: boolean;
    } = {},
  ): SqsConsumer {
    const fifo = options.fifoGroups !== undefined;
    queueName = `consumer-${++n}${fifo ? '.fifo' : ''}`;
    fake.sqs.createQueue(REGION, queueName, fifo ? { FifoQueue: 'true' } : {});
    bodies.forEach((body, i) =>
      fake.sqs.send(
        REGION,
        queueName,
        body,
        fifo ? { groupId: options.fifoGroups!(i), deduplicationId: `d${i}` } : {},
      ),
    );
    h = createHarness({ endpoint: fake.endpoint, ...(options.logger ? { logger: options.logger } : {}) });
    const ctx = h.context('test-service', REGION, { ackMessages: options.ackMessages ?? true });
    const consumer = new SqsConsumer(
      ctx,
      {
        queueName,
        receivers: options.receivers ?? 3,
        visibilityTimeoutSeconds: options.visibilityTimeoutSeconds ?? 30,
        waitTimeSeconds: options.waitTimeSeconds ?? 0,
        ...(options.maxMessagesInFlight ? { maxMessagesInFlight: options.maxMessagesInFlight } : {}),
      },
      handler,
    );
    consumers.push(consumer);
    return consumer;
  }

  const stats = () => fake.sqs.stats(REGION, queueName);
  const requests = (operation: string) =>
    fake
      .requestsFor({ service: 'sqs', operation })
      .filter((r) => r.params.QueueUrl?.toString().endsWith(`/${queueName}`));
  const entriesOf = (operation: string) =>
    requests(operation).flatMap((r) => r.params.Entries as { VisibilityTimeout?: number }[]);
  const echo: MessageHandler = async (m, sink) => {
    await sink.emit([{ tag: 'my.app.test', message: m.body }]);
    return 'delete';
  };

  test('every message is handled once and deleted, in batches, after its events were acknowledged', async () => {
    const bodies = Array.from({ length: 45 }, (_, i) => `m${i}`);
    const seen: ReceivedMessage[] = [];
    const consumer = setup(bodies, async (m, sink, signal) => {
      seen.push(m);
      assert.equal(signal.aborted, false);
      return echo(m, sink, signal);
    });
    await consumer.pull();
    await waitUntil(() => stats().deleted === 45, 5_000, 'deletion');
    assert.deepEqual(h.output.events.map((e) => e.message).sort(), [...bodies].sort());
    assert.deepEqual(new Set(seen.map((m) => m.messageId)).size, 45);
    const first = seen[0]!;
    assert.equal(first.queueName, queueName);
    assert.equal(first.region, REGION);
    assert.equal(first.receiveCount, 1);
    assert.deepEqual(
      Object.keys(first.attributes).sort(),
      ['ApproximateReceiveCount', 'SentTimestamp'],
      'only the attributes asked for',
    );
    // The depth sampled when the pull began; nothing held any more, so nothing is behind.
    const position = consumer.position();
    assert.equal(position.queueMessages, 45);
    assert.ok(Date.now() - position.behindSince! < 1_000);
    const deletes = requests('DeleteMessageBatch');
    assert.ok(deletes.every((r) => (r.params.Entries as unknown[]).length <= 10));
    assert.ok(deletes.length < 45, `deletions are grouped (${deletes.length} calls for 45 messages)`);
    assert.equal(stats().received, 45);
    const receives = requests('ReceiveMessage');
    assert.equal(receives[0]!.params.MaxNumberOfMessages, 10);
    // Fewer once the messages held near the in-flight bound (3 receivers × 20) leave less room.
    assert.ok(
      receives.every((r) => Number(r.params.MaxNumberOfMessages) <= 10 && r.params.VisibilityTimeout === 30),
    );
    assert.deepEqual(receives[0]!.params.MessageSystemAttributeNames, [
      'ApproximateReceiveCount',
      'MessageGroupId',
      'SentTimestamp',
    ]);
  });

  test('a message is deleted only after every one of its batches is acknowledged; zero events still deletes', async () => {
    const consumer = setup(['many', 'none'], async (m, sink) => {
      if (m.body === 'many')
        for (let b = 0; b < 5; b++)
          await sink.emit([
            { tag: 't', message: `b${b}-0` },
            { tag: 't', message: `b${b}-1` },
          ]);
      return 'delete';
    });
    h.output.failing = true;
    await consumer.pull();
    await waitUntil(() => stats().deleted === 1, 5_000, 'the empty message to be deleted');
    await sleep(100);
    assert.equal(stats().deleted, 1, 'the message with undelivered batches stays');
    h.output.failing = false;
    await waitUntil(() => stats().deleted === 2, 5_000, 'deletion after delivery');
    assert.equal(h.output.events.length, 10);
  });

  test("'retry' leaves the message for redelivery: neither deleted nor released", async () => {
    const consumer = setup(['again'], async () => 'retry');
    await consumer.pull();
    await sleep(50);
    assert.equal(stats().deleted, 0);
    assert.equal(stats().inFlight, 1, 'its visibility is left to expire (the redrive policy counts it)');
    assert.equal(entriesOf('ChangeMessageVisibilityBatch').length, 0);
  });

  test('a handler that throws is logged, counted and released; it does not stop the others', async () => {
    const { logger, lines } = capturingLogger();
    const counts = new Map<string, number>();
    const consumer = setup(
      ['ok1', 'bad', 'ok2'],
      async (m, sink, signal) => {
        counts.set(m.body, (counts.get(m.body) ?? 0) + 1);
        if (m.body === 'bad' && m.receiveCount === 1)
          throw new CollectorError(ErrorCodes.OBJECT_CORRUPT, 'cannot parse');
        return echo(m, sink, signal);
      },
      { logger, receivers: 1 },
    );
    await consumer.pull();
    await waitUntil(
      () => stats().deleted === 2 && stats().visible === 1,
      5_000,
      'the bad one to be released',
    );
    // Released at visibility 0, the next pull gets it again at once.
    await consumer.pull();
    await waitUntil(() => stats().deleted === 3, 5_000, 'deletion of all three');
    assert.equal(counts.get('bad'), 2);
    assert.deepEqual(h.output.events.map((e) => e.message).sort(), ['bad', 'ok1', 'ok2']);
    assert.ok(entriesOf('ChangeMessageVisibilityBatch').some((e) => e.VisibilityTimeout === 0));
    assert.equal(
      await h.metrics.total('collector_errors_total', {
        service: 'test-service',
        region: REGION,
        code: 'OBJECT_CORRUPT',
      }),
      1,
    );
    const error = lines().find((l) => l.level === 'error');
    assert.ok(error, 'an error was logged');
    assert.equal(error.event, 'sqs_message_failed');
    assert.equal(error.queue, queueName);
    assert.equal(error.region, REGION);
    assert.equal(typeof error.messageId, 'string');
  });

  test('a batch released by delivery releases its message (not deleted) and stops further emits', async () => {
    let emitError: unknown;
    const consumer = setup(
      ['doomed'],
      async (m, sink) => {
        await sink.emit([{ tag: 't', message: 'first' }]);
        await sleep(100); // delivery rejects the first batch meanwhile
        try {
          await sink.emit([{ tag: 't', message: 'second' }]);
        } catch (err) {
          emitError = err;
          throw err;
        }
        return 'delete';
      },
      { receivers: 1 },
    );
    h.output.rejectWith = new CollectorError(ErrorCodes.OUTPUT_REJECTED, 'HTTP 401');
    // The first receive gets it; stop the pull before the released message comes back.
    const pulling = consumer.pull();
    await waitUntil(() => emitError !== undefined, 5_000, 'the second emit to be refused');
    assert.equal((emitError as CollectorError).code, ErrorCodes.OUTPUT_REJECTED);
    h.abort.abort();
    await pulling;
    assert.equal(stats().deleted, 0);
    assert.ok(entriesOf('ChangeMessageVisibilityBatch').some((e) => e.VisibilityTimeout === 0));
    assert.equal(requests('DeleteMessageBatch').length, 0);
  });

  test('FIFO: one message of a group at a time, in order; groups run in parallel', async () => {
    const groups = ['g1', 'g2', 'g3'];
    const order = new Map<string, number[]>(groups.map((g) => [g, []]));
    const active = new Map<string, number>();
    let running = 0;
    let maxRunning = 0;
    const consumer = setup(
      Array.from({ length: 30 }, (_, i) => String(i)),
      async (m, sink, signal) => {
        const g = m.attributes.MessageGroupId!;
        active.set(g, (active.get(g) ?? 0) + 1);
        assert.equal(active.get(g), 1, `group ${g} handled one at a time`);
        maxRunning = Math.max(maxRunning, ++running);
        await sleep(5);
        order.get(g)!.push(Number(m.body));
        running--;
        active.set(g, active.get(g)! - 1);
        return echo(m, sink, signal);
      },
      { fifoGroups: (i) => groups[i % 3]!, receivers: 2 },
    );
    await consumer.pull();
    await waitUntil(() => stats().deleted === 30, 5_000, 'deletion');
    for (const [g, seq] of order)
      assert.deepEqual(
        seq,
        [...seq].sort((a, b) => a - b),
        `group ${g} in order`,
      );
    assert.ok(maxRunning > 1, 'different groups are handled in parallel');
  });

  test('FIFO: 300 messages in 4 groups drain in seconds with 20 s long polls, though SQS picks free groups when a poll starts', async () => {
    const bodies = Array.from({ length: 300 }, (_, i) => `m${i}`);
    const consumer = setup(bodies, echo, {
      fifoGroups: (i) => `g${i % 4}`,
      receivers: 4,
      waitTimeSeconds: 20,
    });
    const started = Date.now();
    const pull = consumer.pull();
    await waitUntil(() => stats().deleted === 300, 10_000, 'the queue drained');
    const seconds = (Date.now() - started) / 1000;
    await consumer.stop();
    await pull;
    assert.ok(seconds < 10, `drained in ${seconds} s`);
    assert.equal(h.output.events.length, 300, 'each message once');
    // Short polls only while messages are held: the first and the last poll are long.
    const waits = requests('ReceiveMessage').map((r) => Number(r.params.WaitTimeSeconds));
    assert.equal(waits[0], 20);
    assert.ok(waits.includes(0));
  });

  test('FIFO: after a failure the rest of the group is released unhandled and redelivered in order', async () => {
    const handled: string[] = [];
    let failed = false;
    const consumer = setup(
      ['a1', 'a2', 'a3'],
      async (m, sink, signal) => {
        if (m.body === 'a1' && !failed) {
          failed = true;
          throw new Error('transient');
        }
        handled.push(m.body);
        return echo(m, sink, signal);
      },
      { fifoGroups: () => 'a', receivers: 1 },
    );
    await consumer.pull();
    await waitUntil(() => stats().deleted === 3, 5_000, 'deletion');
    assert.deepEqual(handled, ['a1', 'a2', 'a3']);
  });

  test('ack_messages false: nothing is deleted, nothing released; a dry-run warning is logged once', async () => {
    const { logger, lines } = capturingLogger();
    const consumer = setup(['x', 'y', 'z'], echo, { logger, ackMessages: false });
    await consumer.pull();
    await waitUntil(() => h.output.events.length === 3, 5_000, 'delivery');
    await sleep(100);
    assert.equal(requests('DeleteMessageBatch').length, 0);
    assert.equal(stats().deleted, 0);
    assert.equal(stats().inFlight, 3, 'left in flight until their visibility expires');
    assert.equal(stats().received, 3, 'not received again in the same pull');
    assert.equal(lines().filter((l) => l.event === 'sqs_dry_run').length, 1);
  });

  test('a missing queue is QUEUE_NOT_FOUND naming queue and region', async () => {
    h = createHarness({ endpoint: fake.endpoint });
    const consumer = new SqsConsumer(
      h.context('svc', 'ap-south-1'),
      { queueName: 'no-such-queue', receivers: 2, visibilityTimeoutSeconds: 30 },
      echo,
    );
    consumers.push(consumer);
    await assert.rejects(consumer.pull(), (err: CollectorError) => {
      assert.equal(err.code, ErrorCodes.QUEUE_NOT_FOUND);
      assert.match(err.message, /no-such-queue/);
      assert.match(err.message, /ap-south-1/);
      assert.deepEqual(
        { queue: err.details.queue, region: err.details.region },
        { queue: 'no-such-queue', region: 'ap-south-1' },
      );
      return true;
    });
  });

  test('stop() releases messages in flight (visibility 0); safe twice, and safe before pull()', async () => {
    const consumer = setup(['p', 'q', 'r'], echo, { receivers: 1 });
    const idle = new SqsConsumer(
      h.context('svc', REGION),
      { queueName, receivers: 1, visibilityTimeoutSeconds: 30 },
      echo,
    );
    await idle.stop();
    await idle.stop();
    h.output.failing = true;
    await consumer.pull();
    await waitUntil(() => h.output.writes === 3, 5_000, 'the writes to start');
    assert.equal(stats().inFlight, 3);
    await Promise.all([consumer.stop(), consumer.stop()]);
    assert.equal(stats().visible, 3, 'released to the queue');
    assert.equal(stats().deleted, 0);
    assert.equal(
      entriesOf('ChangeMessageVisibilityBatch').filter((e) => e.VisibilityTimeout === 0).length,
      3,
    );
    // Deliveries that complete after stop() must not delete the released messages.
    h.output.failing = false;
    await h.delivery.drain(2_000);
    await sleep(50);
    assert.equal(stats().deleted, 0);
    await consumer.pull();
    assert.equal(stats().received, 3, 'no pull after stop()');
  });

  test('visibility is extended while a message is handled, and no longer once it is deleted, released or left for retry', async () => {
    const ids = new Map<string, string>();
    const consumer = setup(
      ['delete', 'throw', 'retry'],
      async (m, sink) => {
        ids.set(m.messageId, m.body);
        await sleep(1_500);
        if (m.body === 'throw') throw new Error('handler failed');
        if (m.body === 'retry') return 'retry';
        await sink.emit([{ tag: 'my.app.test', message: m.body }]);
        return 'delete';
      },
      { receivers: 1, visibilityTimeoutSeconds: 1, logger: capturingLogger().logger },
    );
    // Which message each extension was for: the fake's receipt handle names the message id.
    const extended = () =>
      requests('ChangeMessageVisibilityBatch')
        .flatMap((r) => r.params.Entries as { ReceiptHandle: string; VisibilityTimeout: number }[])
        .filter((e) => e.VisibilityTimeout > 0)
        .map((e) => ids.get((JSON.parse(Buffer.from(e.ReceiptHandle, 'base64').toString()) as string[])[1]!));
    await consumer.pull();
    await waitUntil(() => stats().deleted === 1, 5_000, 'the deletion');
    const during = extended();
    for (const body of ['delete', 'throw', 'retry'])
      assert.ok(during.includes(body), `${body} was extended while handled (${during.join(', ')})`);
    // Two visibility timeouts later (eight keeper ticks): nothing more was extended, beyond at most
    // one request per message that was already on the wire when its handling ended.
    await sleep(2_000);
    const after = extended().slice(during.length);
    for (const body of ['delete', 'throw', 'retry'])
      assert.ok(
        after.filter((b) => b === body).length <= 1,
        `${body} extended after settling (${after.join(', ')})`,
      );
    assert.equal(stats().deleted, 1);
  });

  test('a handler interrupted by shutdown is no error: its message is released quietly', async () => {
    const { logger, lines } = capturingLogger();
    let started = false;
    const consumer = setup(
      ['slow'],
      async (_m, _sink, signal) => {
        started = true;
        // As the S3 reader does: the read stops with the shutdown signal's reason.
        await new Promise((_resolve, reject) =>
          signal.addEventListener('abort', () => reject(signal.reason as Error), { once: true }),
        );
        return 'delete';
      },
      { logger, receivers: 1 },
    );
    const pulling = consumer.pull();
    await waitUntil(() => started, 5_000, 'the handler to start');
    h.abort.abort();
    await pulling;
    await waitUntil(() => stats().visible === 1, 5_000, 'the message to be released');
    assert.equal(stats().deleted, 0);
    assert.ok(entriesOf('ChangeMessageVisibilityBatch').some((e) => e.VisibilityTimeout === 0));
    assert.deepEqual(
      lines().filter((l) => l.level === 'error' || l.level === 'warn'),
      [],
      'nothing logged as a failure',
    );
    assert.equal(await h.metrics.total('collector_errors_total'), 0);
  });

  test('pull() returns promptly when the collector stops during a long poll', async () => {
    const consumer = setup([], echo, { waitTimeSeconds: 20, receivers: 4 });
    const started = Date.now();
    const pulling = consumer.pull();
    await sleep(200);
    h.abort.abort();
    await pulling;
    assert.ok(Date.now() - started < 2_000, `returned after ${Date.now() - started} ms`);
  });

  test('pull() returns promptly when the collector stops while ReceiveMessage is throttled (SDK backoff)', async () => {
    const remove = fake.inject({ service: 'sqs', operation: 'ReceiveMessage', kind: 'throttle' });
    try {
      const consumer = setup(['m'], echo, { receivers: 2 });
      const pulling = consumer.pull();
      await sleep(300);
      const aborted = Date.now();
      h.abort.abort();
      await pulling;
      assert.ok(Date.now() - aborted < 200, `returned ${Date.now() - aborted} ms after the abort`);
      assert.equal(stats().received, 0);
    } finally {
      remove();
    }
  });

  test('maxMessagesInFlight bounds the messages held at once', async () => {
    let holding = 0;
    let maxHolding = 0;
    const consumer = setup(
      Array.from({ length: 20 }, (_, i) => `b${i}`),
      async (m, sink, signal) => {
        maxHolding = Math.max(maxHolding, ++holding);
        await sleep(10);
        holding--;
        return echo(m, sink, signal);
      },
      { maxMessagesInFlight: 4, receivers: 3 },
    );
    await consumer.pull();
    await waitUntil(() => stats().deleted === 20, 5_000, 'deletion');
    assert.ok(maxHolding <= 4, `held ${maxHolding}`);
    assert.ok(requests('ReceiveMessage').every((r) => Number(r.params.MaxNumberOfMessages) <= 4));
  });

  test('a handled message whose events were accepted frees its room while awaiting confirmation: not deleted, visibility extended, deleted once confirmed', async () => {
    const consumer = setup(
      Array.from({ length: 20 }, (_, i) => `c${i}`),
      echo,
      { maxMessagesInFlight: 4, receivers: 2, visibilityTimeoutSeconds: 1 },
    );
    h.output.holdConfirmations = true;
    // Returns once the queue is drained: room was freed although nothing was confirmed.
    await consumer.pull();
    assert.equal(h.output.events.length, 20);
    const extensions = () =>
      entriesOf('ChangeMessageVisibilityBatch').filter((e) => e.VisibilityTimeout! > 0);
    // Three rounds of extensions: past the first visibility timeout of every message.
    await waitUntil(
      () => extensions().length >= 60,
      5_000,
      'visibility extensions of the unconfirmed messages',
    );
    assert.equal(stats().deleted, 0, 'nothing confirmed, nothing deleted');
    assert.equal(stats().inFlight, 20, 'still invisible past their first visibility timeout');
    h.output.confirmAll();
    await waitUntil(() => stats().deleted === 20, 5_000, 'the deletions once confirmed');
  });

  test('many receivers waiting for room or polling raise no listener-leak warning', async () => {
    const warnings: Error[] = [];
    const onWarning = (w: Error) => warnings.push(w);
    process.on('warning', onWarning);
    try {
      // 30 receivers, room for 5 messages: most receivers wait for room while others poll.
      const consumer = setup(
        Array.from({ length: 40 }, (_, i) => `b${i}`),
        async (m, sink, signal) => {
          await sleep(5);
          return echo(m, sink, signal);
        },
        { receivers: 30, maxMessagesInFlight: 5 },
      );
      await consumer.pull();
      await waitUntil(() => stats().deleted === 40, 5_000, 'deletion');
      // Warnings are emitted on the next tick.
      await sleep(10);
    } finally {
      process.off('warning', onWarning);
    }
    assert.deepEqual(
      warnings.filter((w) => w.name === 'MaxListenersExceededWarning').map((w) => w.message),
      [],
    );
  });

  test('Failed entries of DeleteMessageBatch are logged, retried, then reported as errors', async () => {
    const { logger, lines } = capturingLogger();
    let messageId = '';
    const consumer = setup(
      ['late'],
      async (m, sink, signal) => {
        messageId = m.messageId;
        return echo(m, sink, signal);
      },
      { logger, receivers: 1, visibilityTimeoutSeconds: 1, fifoGroups: () => 'g' },
    );
    // Extensions fail, so the receipt handle expires while the output is slow: FIFO then refuses
    // the deletion with a Failed entry (InvalidParameterValue, receipt handle expired).
    fake.inject({ service: 'sqs', operation: 'ChangeMessageVisibilityBatch', kind: '5xx' });
    h.output.delayMs = 1_500;
    const pulling = consumer.pull();
    await waitUntil(
      () => lines().some((l) => l.level === 'error' && l.event === 'sqs_delete_failed'),
      15_000,
      'the give-up error',
    );
    const retries = lines().filter((l) => l.level === 'warn' && l.event === 'sqs_delete_failed');
    assert.equal(retries.length, 4, 'retried before giving up');
    assert.deepEqual(retries[0]!.messageIds, [messageId]);
    assert.deepEqual(retries[0]!.failed, { [messageId]: 'InvalidParameterValue' }, 'the handle expired');
    assert.equal(entriesOf('DeleteMessageBatch').length, 5);
    assert.equal(await h.metrics.total('collector_errors_total', { code: ErrorCodes.AWS_CALL_FAILED }), 1);
    fake.clearFaults();
    // The message came back when its visibility expired; stop before it goes round again.
    h.abort.abort();
    await pulling;
  });

  test('a throttled DeleteMessageBatch is named as throttling; log lines carry region once', async () => {
    const { logger, lines, raw } = capturingLogger();
    const consumer = setup(['t1'], echo, { logger, receivers: 1 });
    // The SDK's own 5 attempts, so the consumer's retry logs it.
    fake.inject({ service: 'sqs', operation: 'DeleteMessageBatch', kind: 'throttle', times: 5 });
    await consumer.pull();
    const throttled = () => lines().find((l) => l.level === 'warn' && l.event === 'sqs_delete_throttled');
    // The SDK's adaptive retries back off for seconds on throttling before the consumer sees it.
    await waitUntil(() => throttled() !== undefined, 20_000, 'the throttling warning');
    const warning = throttled();
    assert.equal(warning?.code, ErrorCodes.AWS_THROTTLED);
    assert.equal(warning?.region, REGION);
    for (const line of raw()) assert.equal(line.split('"region":').length - 1, 1, line);
  });

  test('a failed DeleteMessageBatch is retried until the messages are deleted', async () => {
    const { logger, lines } = capturingLogger();
    const consumer = setup(['d1', 'd2'], echo, { logger, receivers: 1 });
    // Enough failures to exhaust the SDK's own 5 attempts once.
    fake.inject({ service: 'sqs', operation: 'DeleteMessageBatch', kind: '5xx', status: 503, times: 5 });
    await consumer.pull();
    await waitUntil(() => stats().deleted === 2, 10_000, 'deletion after retries');
    const retry = lines().find((l) => l.level === 'warn' && l.event === 'sqs_delete_failed');
    assert.equal((retry?.messageIds as string[]).length, 2);
    assert.equal(retry?.attempt, 1);
  });
});
