import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { createTestPki, writeTestPki, type TestPki } from '../../sandbox/certs.js';
import { startFakeAws, type FakeAws } from '../../sandbox/fake-aws/index.js';
import { parseConfigText } from '../../src/config/loader.js';
import { Collector } from '../../src/runtime/collector.js';
import { capturingLogger } from '../helpers/harness.js';
import { waitUntil } from '../helpers/wait.js';
import { Receiver, tempDir } from '../outputs/helpers.js';
import { serviceEvent } from '../services/shared/sqs-events/fixtures.js';
import { Secrets } from '../../src/telemetry/secrets.js';

const REGION = 'eu-west-1';
const QUEUE = 'confirm-events';
const MESSAGES = 1_500;

let fake: FakeAws;
let pki: TestPki;
let dir: string;
let removeDir: () => Promise<void>;

before(async () => {
  fake = await startFakeAws();
  pki = await createTestPki();
  ({ dir, remove: removeDir } = await tempDir());
  await writeTestPki(join(dir, 'certs'), pki);
});

after(async () => {
  await fake.stop();
  await removeDir();
});

function receiver(read: boolean): Promise<Receiver> {
  const { cert, key } = pki.server;
  return Receiver.start({
    read,
    tls: { cert, key, ca: pki.ca.cert, requestCert: true, rejectUnauthorized: true },
  });
}

function collector(port: number) {
  const { config, problems } = parseConfigText(`
globals: { shutdown_grace_seconds: 1 }
outputs:
  devo:
    type: devo_platform
    config:
      { address: 127.0.0.1, port: ${port}, chain: chain.crt, cert: client.crt, key: client.key, connections: 1 }
inputs:
  aws:
    id: confirm
    endpoint: ${fake.endpoint}
    credentials: { access_key: AKIATESTTESTTEST, access_secret: test-secret-key-0000 }
    services:
      service-events-all:
        cloudwatch_sqs_queue_name: ${QUEUE}
        regions: [${REGION}]
        request_period_in_seconds: 1
        # A poll answered just as the first run stops leaves its messages in flight until this passes.
        visibility_timeout_seconds: 10
`);
  assert.deepEqual(problems, []);
  const secrets = new Secrets();
  const { logger, lines } = capturingLogger(secrets);
  const c = new Collector(
    { config: config!, file: join(dir, 'c.yaml'), dir, inlineSecrets: [] },
    { logger, secrets, cwd: dir },
  );
  return { collector: c, lines };
}

/** Waits until the collector's outputs accepted at least `events` events. */
async function accepted(c: Collector, events: number): Promise<void> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const n = (await c.metrics.outputEvents.get()).values.reduce((sum, v) => sum + v.value, 0);
    if (n >= events) return;
    assert.ok(Date.now() < deadline, `timed out waiting for ${events} accepted events (${n})`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

test('a devo_platform receiver that never reads: at stop nothing it did not confirm is deleted; after a restart every event arrives', async () => {
  fake.sqs.createQueue(REGION, QUEUE);
  const ids = Array.from({ length: MESSAGES }, (_, i) => `ev-${i}`);
  // ~5 KB a message: together more than the socket buffers take from a receiver that never reads.
  for (const id of ids) {
    const event = JSON.parse(serviceEvent(id, 'aws.guardduty', REGION)) as Record<string, unknown>;
    fake.sqs.send(REGION, QUEUE, JSON.stringify({ ...event, padding: 'x'.repeat(4_500) }));
  }

  const stalled = await receiver(false);
  const first = collector(stalled.port);
  try {
    await first.collector.start();
    // Writes were accepted (flushed to the kernel): before this fix their messages were deleted.
    await accepted(first.collector, 200);
    await first.collector.stop();
  } finally {
    await first.collector.stop();
    await stalled.close();
  }
  assert.equal(stalled.lines.length, 0, 'the receiver read nothing');
  assert.equal(
    fake.sqs.stats(REGION, QUEUE).deleted,
    0,
    'no message whose events were unconfirmed is deleted',
  );
  const released = first.lines().find((l) => l.code === 'OUTPUT_STOPPED' && l.output === 'devo');
  assert.ok(released && (released.bytes as number) > 0, 'the output says what it gave up unconfirmed');

  const reading = await receiver(true);
  const second = collector(reading.port);
  try {
    await second.collector.start();
    const seen = (): Set<string> =>
      new Set(reading.lines.map((l) => /"id":"(ev-\d+)"/.exec(l)?.[1]).filter((id) => id !== undefined));
    await waitUntil(() => seen().size === MESSAGES, 30_000, 'every event');
    await second.collector.stop();
    assert.deepEqual(
      ids.filter((id) => !seen().has(id)),
      [],
      'no event lost',
    );
    assert.equal(fake.sqs.stats(REGION, QUEUE).deleted, MESSAGES, 'confirmed at the clean close: deleted');
  } finally {
    await second.collector.stop();
    await reading.close();
  }
});
