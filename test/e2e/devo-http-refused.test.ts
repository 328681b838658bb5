import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { createTestPki, writeTestPki } from '../../sandbox/certs.js';
import { startFakeAws, type FakeAws } from '../../sandbox/fake-aws/index.js';
import { runCli } from '../helpers/cli.js';
import { FakeDevo } from '../helpers/fake-devo-http.js';
import { tempDir } from '../helpers/paths.js';
import { waitUntil } from '../helpers/wait.js';

const TOKEN = 'wrong-t0ken-e2e-9f3a71';
const MESSAGES = 200;
const REGION = 'us-east-1';

let fake: FakeAws;
const tmp = tempDir('dac-http-refused-');
before(async () => {
  fake = await startFakeAws();
});
after(async () => {
  await fake.stop();
  tmp.cleanup();
});

test('devo_http answering 401: the collector holds the queue (no DLQ, receive counts stay at 1, a few log lines), then delivers everything once the receiver accepts', async () => {
  const pki = await createTestPki();
  const files = await writeTestPki(join(tmp.dir, 'certs'), pki);
  const devo = await new FakeDevo().start(pki);
  let refusing = true;
  devo.answer = () => ({ status: refusing ? 401 : 200 });

  fake.sqs.createQueue(REGION, 'events-dlq');
  const dlqArn = fake.sqs.queueArn(REGION, 'events-dlq')!;
  fake.sqs.createQueue(REGION, 'events', {
    RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlqArn, maxReceiveCount: 5 }),
  });
  for (let i = 0; i < MESSAGES; i++)
    fake.sqs.send(REGION, 'events', JSON.stringify(eventBridgeEvent(`evt-${i}`)));

  const config = join(tmp.dir, 'collector.yaml');
  writeFileSync(
    config,
    `globals:
  max_in_flight_events: 50
  shutdown_grace_seconds: 5
  persistence: { type: filesystem, config: { directory_name: ${join(tmp.dir, 'state')} } }
outputs:
  devo:
    type: devo_http
    config:
      url: https://127.0.0.1:${devo.port}
      domain: acme
      token: \${DEVO_TOKEN}
      ca: ${files.chain}
      retry: { initial_delay_seconds: 0.05, max_delay_seconds: 0.5 }
inputs:
  aws:
    id: refused
    endpoint: ${fake.endpoint}
    credentials: { access_key: AKIAE2ETESTKEY, access_secret: e2e-secret-value-44 }
    services:
      service-events-all: { cloudwatch_sqs_queue_name: events, regions: [${REGION}] }
`,
  );
  const run = runCli(['run', '--config', config], { env: { DEVO_TOKEN: TOKEN } });
  try {
    await run.waitForLog('"event":"collector_started"');
    await waitUntil(() => devo.requests.length > 0, 10_000, 'a refused request');
    const receivedEarly = fake.sqs.stats(REGION, 'events').received;
    // Long enough for the old behaviour to cycle every message into the DLQ many times over.
    await new Promise((r) => setTimeout(r, 3_000));

    const stats = fake.sqs.stats(REGION, 'events');
    assert.equal(stats.movedToDlq, 0, 'no message reached the DLQ');
    assert.equal(fake.sqs.stats(REGION, 'events-dlq').sent, 0);
    assert.equal(stats.received, receivedEarly, 'no receive while nothing can be delivered');
    const counts = fake.sqs.messages(REGION, 'events').map((m) => m.receiveCount);
    assert.ok(Math.max(...counts) <= 1, `receive counts stay at 1 (max ${Math.max(...counts)})`);
    // The in-flight window (50 events) plus what the receivers hold waiting for room in it.
    assert.ok(stats.received <= MESSAGES / 2, `the queue was not read through (${stats.received} received)`);
    assert.equal(devo.accepted.length, 0);

    const lines = run.stderr().split('\n').filter(Boolean);
    assert.ok(lines.length < 30, `log lines bounded (${lines.length})`);
    // Node's own warnings (the SDK's Node version notice) are not JSON: count them, parse the rest.
    const refused = lines
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .filter((l) => l.status === 401);
    assert.equal(refused.length, 1, 'the refusal is said once');
    assert.equal(refused[0]!.code, 'OUTPUT_REJECTED');
    assert.ok(!run.stderr().includes(TOKEN), 'the token never reaches the log');

    refusing = false;
    await waitUntil(
      () => fake.sqs.stats(REGION, 'events').deleted === MESSAGES,
      30_000,
      'every message deleted',
    );
    const delivered = new Set(
      devo.accepted
        .flatMap((r) => r.body.split('\n').filter(Boolean))
        .map((l) => (JSON.parse(l) as { id: string }).id),
    );
    assert.equal(delivered.size, MESSAGES, 'every event arrived');
    assert.equal(fake.sqs.stats(REGION, 'events').movedToDlq, 0);
    run.child.kill('SIGTERM');
    assert.equal(await run.exited, 0, run.stderr());
  } finally {
    run.child.kill('SIGKILL');
    await devo.close();
  }
});

function eventBridgeEvent(id: string) {
  return {
    version: '0',
    id,
    'detail-type': 'EC2 Instance State-change Notification',
    source: 'aws.ec2',
    account: '123456789012',
    time: '2024-05-01T12:00:00Z',
    region: REGION,
    resources: [],
    detail: { state: 'running' },
  };
}
