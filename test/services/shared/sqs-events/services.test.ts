import assert from 'node:assert/strict';
import { after, afterEach, before, describe, test } from 'node:test';
import { startFakeAws, type FakeAws } from '../../../../sandbox/fake-aws/index.js';
import {
  predefinedServiceSchemas,
  type SecurityHubConfig,
  type ServiceEventsConfig,
} from '../../../../src/config/schema.js';
import { ErrorCodes } from '../../../../src/core/errors.js';
import { runWorker } from '../../../../src/runtime/scheduler.js';
import type { ServiceWorker } from '../../../../src/services/definition.js';
import {
  createServiceEventsWorker,
  definition as serviceEventsDefinition,
} from '../../../../src/services/service-events-all/index.js';
import {
  createSecurityHubWorker,
  definition as securityHubDefinition,
} from '../../../../src/services/sqs-cloudwatch-consumer/index.js';
import { capturingLogger, createHarness, type Harness } from '../../../helpers/harness.js';
import { waitUntil } from '../../../helpers/wait.js';
import { guardDutyEvent, securityHubEventWith, serviceEvent } from './fixtures.js';
import { setTimeout as sleep } from 'node:timers/promises';

const FAST = { waitTimeSeconds: 0 };

/** Pulls `worker` until `done()` (as the scheduler would, without waiting for periods). */
async function pullUntil(worker: ServiceWorker, done: () => boolean, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!done()) {
    if (Date.now() > deadline) assert.fail(`timed out pulling ${worker.name}`);
    await worker.pull();
    if (!done()) await sleep(10);
  }
}

const serviceEventsConfig = (fields: Record<string, unknown>): ServiceEventsConfig =>
  predefinedServiceSchemas['service-events-all'].parse({ regions: ['eu-west-1'], ...fields });
const securityHubConfig = (fields: Record<string, unknown>): SecurityHubConfig =>
  predefinedServiceSchemas['sqs-cloudwatch-consumer'].parse({ regions: ['us-east-1'], ...fields });

describe('service-events-all and sqs-cloudwatch-consumer (real SDK against the fake AWS)', () => {
  let fake: FakeAws;
  let h: Harness;
  const workers: ServiceWorker[] = [];
  let n = 0;
  const unique = (name: string) => `${name}-${++n}`;

  before(async () => {
    fake = await startFakeAws();
  });
  after(async () => {
    await fake.stop();
  });
  afterEach(async () => {
    h.output.failing = false;
    h.output.delayMs = 0;
    await Promise.all(workers.splice(0).map((w) => w.stop()));
    await h.close();
  });

  function harness(options: Partial<Parameters<typeof createHarness>[0]> = {}): Harness {
    h = createHarness({ ...options, endpoint: fake.endpoint });
    return h;
  }
  function track<W extends ServiceWorker>(w: W): W {
    workers.push(w);
    return w;
  }

  test('10,000 events over two regions (a FIFO queue and a standard one) arrive once each with the right tags', async () => {
    harness();
    const sources = ['aws.guardduty', 'aws.ec2', 'aws.health', 'my.app'];
    const queues = [
      { region: 'us-east-1', name: `${unique('devo-events')}.fifo` },
      { region: 'eu-west-1', name: unique('devo-events') },
    ];
    let id = 0;
    for (const q of queues) {
      const fifo = q.name.endsWith('.fifo');
      fake.sqs.createQueue(
        q.region,
        q.name,
        fifo ? { FifoQueue: 'true', ContentBasedDeduplication: 'true' } : {},
      );
      for (let i = 0; i < 5_000; i++) {
        const body = serviceEvent(`ev-${id++}`, sources[i % sources.length], q.region);
        // EventBridge FIFO targets send every event of a rule with its one MessageGroupId; use a few rules.
        fake.sqs.send(q.region, q.name, body, fifo ? { groupId: `rule-${i % 8}` } : {});
      }
    }
    const started = Date.now();
    const runs = queues.map((q) => {
      const config = serviceEventsConfig({
        regions: [q.region],
        cloudwatch_sqs_queue_name: q.name,
        auto_event_type: true,
        concurrent_receivers: 4,
      });
      const [worker] = serviceEventsDefinition.createWorkers(
        config,
        h.context('service-events-all', q.region),
      );
      assert.equal(worker!.name, `service-events-all/${q.region}`);
      // Long polls (1 s), as in production: FIFO receivers wait for their groups instead of spinning.
      const polling = track(
        createServiceEventsWorker(config, h.context('service-events-all', q.region), { waitTimeSeconds: 1 }),
      );
      return pullUntil(polling, () => fake.sqs.stats(q.region, q.name).deleted === 5_000, 60_000);
    });
    await Promise.all(runs);
    const seconds = (Date.now() - started) / 1000;
    assert.equal(h.output.events.length, 10_000, `took ${seconds} s`);
    const ids = new Set(h.output.events.map((e) => (JSON.parse(e.message) as { id: string }).id));
    assert.equal(ids.size, 10_000, 'each event once');
    const byTag = Object.fromEntries(h.output.byTag());
    assert.deepEqual(byTag, {
      'cloud.aws.cloudwatch.guardduty': 2_500,
      'cloud.aws.cloudwatch.ec2': 2_500,
      'cloud.aws.cloudwatch.health': 2_500,
      'cloud.aws.cloudwatch.custom': 2_500,
    });
    for (const q of queues) {
      const stats = fake.sqs.stats(q.region, q.name);
      assert.equal(stats.received, 5_000, `${q.name}: nothing received twice`);
      assert.equal(stats.visible + stats.inFlight, 0);
    }
    // FIFO: within each group, events arrive in the order they were sent.
    const fifoOrder = new Map<string, number[]>();
    for (const e of h.output.events) {
      const event = JSON.parse(e.message) as { id: string; region: string };
      const seq = Number(event.id.slice(3));
      if (event.region !== 'us-east-1') continue;
      const group = seq % 8;
      fifoOrder.set(String(group), [...(fifoOrder.get(String(group)) ?? []), seq]);
    }
    for (const seqs of fifoOrder.values())
      assert.deepEqual(
        seqs,
        [...seqs].sort((a, b) => a - b),
      );
  });

  test('Security Hub: an event with 3 findings gives 3 events; the default tag and the user tag', async () => {
    harness();
    const queueName = unique('devo-securityhub');
    fake.sqs.createQueue('us-east-1', queueName);
    fake.sqs.send('us-east-1', queueName, securityHubEventWith(3, 'a'));
    const config = securityHubConfig({ cloudwatch_sqs_queue_name: queueName });
    assert.equal(
      securityHubDefinition.createWorkers(config, h.context('sqs-cloudwatch-consumer', 'us-east-1')).length,
      1,
    );
    const worker = track(
      createSecurityHubWorker(config, h.context('sqs-cloudwatch-consumer', 'us-east-1'), FAST),
    );
    await pullUntil(worker, () => fake.sqs.stats('us-east-1', queueName).deleted === 1);
    assert.deepEqual(
      h.output.events.map((e) => [e.tag, (JSON.parse(e.message) as { Id: string }).Id]),
      [
        ['cloud.aws.securityhub.findings', 'a-0'],
        ['cloud.aws.securityhub.findings', 'a-1'],
        ['cloud.aws.securityhub.findings', 'a-2'],
      ],
    );

    fake.sqs.send('us-east-1', queueName, securityHubEventWith(2, 'b'));
    const tagged = track(
      createSecurityHubWorker(
        { ...config, tag: 'my.hub.{event_type}.{region}' },
        h.context('sqs-cloudwatch-consumer', 'us-east-1'),
        FAST,
      ),
    );
    await pullUntil(tagged, () => fake.sqs.stats('us-east-1', queueName).deleted === 2);
    assert.deepEqual(
      h.output.events.slice(3).map((e) => e.tag),
      ['my.hub.securityhub.us-east-1', 'my.hub.securityhub.us-east-1'],
    );
  });

  test('auto_event_type and tag placeholders give the documented tags', async () => {
    harness();
    const queueName = unique('devo-events');
    fake.sqs.createQueue('eu-west-1', queueName);
    const send = () => {
      fake.sqs.send('eu-west-1', queueName, serviceEvent('x1', 'aws.guardduty'));
      fake.sqs.send('eu-west-1', queueName, serviceEvent('x2', 'aws.partner/example.com/123'));
    };
    const run = async (fields: Record<string, unknown>): Promise<string[]> => {
      send();
      const before = h.output.events.length;
      const worker = track(
        createServiceEventsWorker(
          serviceEventsConfig({ cloudwatch_sqs_queue_name: queueName, ...fields }),
          h.context('service-events-all', 'eu-west-1'),
          FAST,
        ),
      );
      await pullUntil(
        worker,
        () => h.output.events.length === before + 2 && fake.sqs.stats('eu-west-1', queueName).visible === 0,
      );
      return h.output.events
        .slice(before)
        .map((e) => e.tag)
        .sort();
    };
    assert.deepEqual(await run({}), ['cloud.aws.cloudwatch.events', 'cloud.aws.cloudwatch.events']);
    assert.deepEqual(await run({ auto_event_type: true }), [
      'cloud.aws.cloudwatch.guardduty',
      'cloud.aws.cloudwatch.partner',
    ]);
    assert.deepEqual(await run({ tag: 'my.aws.{event_type}.{region}.{account_id}', auto_event_type: true }), [
      'my.aws.guardduty.eu-west-1.123456789012',
      'my.aws.partner.eu-west-1.123456789012',
    ]);
  });

  test('an output failing for a while: nothing deleted meanwhile, visibility extended, then all delivered once and deleted', async () => {
    harness();
    const queueName = unique('devo-events');
    fake.sqs.createQueue('eu-west-1', queueName);
    for (let i = 0; i < 30; i++) fake.sqs.send('eu-west-1', queueName, serviceEvent(`f${i}`));
    const config = {
      ...serviceEventsConfig({ cloudwatch_sqs_queue_name: queueName }),
      visibility_timeout_seconds: 2,
    };
    const worker = track(
      createServiceEventsWorker(config, h.context('service-events-all', 'eu-west-1'), FAST),
    );
    h.output.failing = true;
    await worker.pull();
    // Longer than the visibility timeout: without extensions the messages would come back.
    await sleep(3_000);
    assert.equal(fake.sqs.stats('eu-west-1', queueName).deleted, 0, 'nothing deleted while the output fails');
    assert.equal(fake.sqs.stats('eu-west-1', queueName).inFlight, 30, 'still invisible');
    await worker.pull(); // a pull during the outage receives nothing again
    const extensions = fake
      .requestsFor({ service: 'sqs', operation: 'ChangeMessageVisibilityBatch' })
      .filter((r) => String(r.params.QueueUrl).endsWith(`/${queueName}`));
    assert.ok(extensions.length >= 3, `visibility extended (${extensions.length} calls)`);
    assert.ok(
      extensions.every((r) =>
        (r.params.Entries as { VisibilityTimeout: number }[]).every((e) => e.VisibilityTimeout === 2),
      ),
    );
    h.output.failing = false;
    await waitUntil(
      () => fake.sqs.stats('eu-west-1', queueName).deleted === 30,
      5_000,
      'deletion after the outage',
    );
    assert.equal(h.output.events.length, 30);
    assert.equal(new Set(h.output.events.map((e) => e.message)).size, 30);
    assert.equal(fake.sqs.stats('eu-west-1', queueName).received, 30, 'none received twice');
  });

  test('an output slower than the visibility timeout: no message is received twice', async () => {
    harness();
    const queueName = unique('devo-events');
    fake.sqs.createQueue('eu-west-1', queueName);
    for (let i = 0; i < 5; i++) fake.sqs.send('eu-west-1', queueName, serviceEvent(`s${i}`));
    const config = {
      ...serviceEventsConfig({ cloudwatch_sqs_queue_name: queueName, concurrent_receivers: 2 }),
      visibility_timeout_seconds: 2,
    };
    const worker = track(
      createServiceEventsWorker(config, h.context('service-events-all', 'eu-west-1'), FAST),
    );
    h.output.delayMs = 2_600;
    await pullUntil(worker, () => fake.sqs.stats('eu-west-1', queueName).deleted === 5);
    const stats = fake.sqs.stats('eu-west-1', queueName);
    assert.equal(stats.received, 5, 'no message received twice');
    assert.equal(h.output.events.length, 5);
    const extensions = fake
      .requestsFor({ service: 'sqs', operation: 'ChangeMessageVisibilityBatch' })
      .filter((r) => String(r.params.QueueUrl).endsWith(`/${queueName}`));
    assert.ok(extensions.length > 0, 'ChangeMessageVisibilityBatch calls in the request log');
  });

  test('a malformed body arrives unchanged (line breaks escaped) and is counted', async () => {
    const { logger, lines } = capturingLogger();
    harness({ logger });
    const queueName = unique('devo-events');
    fake.sqs.createQueue('eu-west-1', queueName);
    const bodies = ['not json at all\nsecond line', '{"valid":"json","but":"not an event"}', guardDutyEvent];
    for (const b of bodies) fake.sqs.send('eu-west-1', queueName, b);
    const worker = track(
      createServiceEventsWorker(
        serviceEventsConfig({ cloudwatch_sqs_queue_name: queueName, auto_event_type: true }),
        h.context('service-events-all', 'eu-west-1'),
        FAST,
      ),
    );
    await pullUntil(worker, () => fake.sqs.stats('eu-west-1', queueName).deleted === 3);
    const got = new Map(h.output.events.map((e) => [e.message, e.tag]));
    assert.equal(got.get('not json at all\\nsecond line'), 'cloud.aws.cloudwatch.events');
    assert.equal(got.get('{"valid":"json","but":"not an event"}'), 'cloud.aws.cloudwatch.events');
    assert.equal(got.get(JSON.stringify(JSON.parse(guardDutyEvent))), 'cloud.aws.cloudwatch.guardduty');
    const labels = { service: 'service-events-all', region: 'eu-west-1' };
    assert.equal(await h.metrics.total('collector_malformed_total', { ...labels, kind: 'not-json' }), 1);
    assert.equal(
      await h.metrics.total('collector_malformed_total', { ...labels, kind: 'unexpected-shape' }),
      1,
    );
    const warnings = lines().filter((l) => l.level === 'warn' && l.event === 'sqs_body_malformed');
    assert.equal(warnings.length, 2);
    assert.equal(warnings[0]!.queue, queueName);
    assert.equal(warnings[0]!.region, 'eu-west-1');
  });

  test('a queue that does not exist: a clear error naming queue and region; other workers unaffected', async () => {
    const { logger, lines } = capturingLogger();
    harness({ logger });
    const good = unique('devo-events');
    fake.sqs.createQueue('eu-west-1', good);
    for (let i = 0; i < 20; i++) fake.sqs.send('eu-west-1', good, serviceEvent(`g${i}`));
    const missing = createServiceEventsWorker(
      serviceEventsConfig({ regions: ['eu-central-1'], cloudwatch_sqs_queue_name: 'no-such-queue' }),
      h.context('service-events-all', 'eu-central-1'),
      FAST,
    );
    await assert.rejects(missing.pull(), (err: Error & { code: string }) => {
      assert.equal(err.code, ErrorCodes.QUEUE_NOT_FOUND);
      assert.match(err.message, /SQS queue no-such-queue \(eu-central-1\) does not exist/);
      return true;
    });
    // Both under the real scheduler: the missing queue's failures never touch the other worker.
    const ok = createServiceEventsWorker(
      serviceEventsConfig({ cloudwatch_sqs_queue_name: good }),
      h.context('service-events-all', 'eu-west-1'),
      FAST,
    );
    track(missing);
    track(ok);
    const schedule = { periodMs: 50, retries: 1, backoff: { baseMs: 1, maxMs: 5 } };
    const loops = [
      runWorker(missing, schedule, h.abort.signal, logger, h.metrics, {
        service: 'service-events-all',
        region: 'eu-central-1',
      }),
      runWorker(ok, schedule, h.abort.signal, logger, h.metrics, {
        service: 'service-events-all',
        region: 'eu-west-1',
      }),
    ];
    const lookups = () =>
      fake
        .requestsFor({ service: 'sqs', operation: 'GetQueueUrl' })
        .filter((r) => r.params.QueueName === 'no-such-queue').length;
    await waitUntil(
      // One lookup by the pull above, then two attempts a period (retries: 1): three periods.
      () => fake.sqs.stats('eu-west-1', good).deleted === 20 && lookups() >= 7,
      5_000,
      'the good queue to be drained while the missing one is looked up again each period',
    );
    h.abort.abort();
    await Promise.all(loops);
    assert.equal(h.output.events.length, 20);
    const errors = lines().filter(
      (l) => l.level === 'error' && l.worker === 'service-events-all/eu-central-1',
    );
    assert.ok(errors.length > 0);
    const err = errors[0]!.err as { code?: unknown; details?: { queue?: unknown; region?: unknown } };
    assert.equal(err.code, 'QUEUE_NOT_FOUND');
    assert.deepEqual([err.details?.queue, err.details?.region], ['no-such-queue', 'eu-central-1']);
  });

  test('<account_id> in the queue name is the account of the effective credentials', async () => {
    fake.accounts.addKey('AKIAOTHERACCOUNT001', '111122223333');
    harness({ credentials: { access_key: 'AKIAOTHERACCOUNT001', access_secret: 'other-secret-000000' } });
    const queueName = `${unique('devo-events')}-111122223333`;
    fake.sqs.createQueue('eu-west-1', queueName, {}, '111122223333');
    fake.sqs.send('eu-west-1', queueName, serviceEvent('acct'), { accountId: '111122223333' });
    const configured = queueName.replace('111122223333', '<account_id>');
    const worker = track(
      createServiceEventsWorker(
        serviceEventsConfig({ cloudwatch_sqs_queue_name: configured, tag: 'my.aws.{account_id}' }),
        h.context('service-events-all', 'eu-west-1'),
        FAST,
      ),
    );
    await pullUntil(worker, () => fake.sqs.stats('eu-west-1', queueName, '111122223333').deleted === 1);
    assert.deepEqual(
      h.output.events.map((e) => e.tag),
      ['my.aws.111122223333'],
    );
    const lookups = fake.requestsFor({ service: 'sqs', operation: 'GetQueueUrl', accountId: '111122223333' });
    assert.equal(lookups.at(-1)?.params.QueueName, queueName);
    // The account is asked once, not at every pull.
    fake.sqs.send('eu-west-1', queueName, serviceEvent('again'), { accountId: '111122223333' });
    await pullUntil(worker, () => fake.sqs.stats('eu-west-1', queueName, '111122223333').deleted === 2);
    assert.equal(
      fake.requestsFor({ service: 'sts', operation: 'GetCallerIdentity', accountId: '111122223333' }).length,
      1,
    );
  });

  test('shutdown: messages in flight are released (visibility 0) on stop()', async () => {
    harness();
    const queueName = unique('devo-events');
    fake.sqs.createQueue('eu-west-1', queueName);
    for (let i = 0; i < 12; i++) fake.sqs.send('eu-west-1', queueName, serviceEvent(`z${i}`));
    const worker = track(
      createServiceEventsWorker(
        serviceEventsConfig({ cloudwatch_sqs_queue_name: queueName }),
        h.context('service-events-all', 'eu-west-1'),
        FAST,
      ),
    );
    h.output.failing = true;
    await worker.pull();
    assert.equal(fake.sqs.stats('eu-west-1', queueName).inFlight, 12);
    // As the collector stops: no more pulls, delivery gives the batches up, then workers stop.
    h.abort.abort();
    h.delivery.close();
    await worker.stop();
    await worker.stop();
    const stats = fake.sqs.stats('eu-west-1', queueName);
    assert.equal(stats.visible, 12, 'released to the queue at once');
    assert.equal(stats.deleted, 0);
    const released = fake
      .requestsFor({ service: 'sqs', operation: 'ChangeMessageVisibilityBatch' })
      .filter((r) => String(r.params.QueueUrl).endsWith(`/${queueName}`))
      .flatMap((r) => r.params.Entries as { VisibilityTimeout: number }[])
      .filter((e) => e.VisibilityTimeout === 0);
    assert.equal(released.length, 12);
  });
});
