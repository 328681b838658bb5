import { Secrets } from '../../src/telemetry/secrets.js';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { startFakeAws, type FakeAws } from '../../sandbox/fake-aws/index.js';
import { parseConfigText } from '../../src/config/loader.js';
import { Collector } from '../../src/runtime/collector.js';
import { busiestWindow, capturingLogger } from '../helpers/harness.js';
import { tempDir } from '../helpers/paths.js';
import { waitUntil } from '../helpers/wait.js';

const REGION = 'ap-northeast-1';
const ACCOUNTS = ['666666666666', '777777777777'];
const GROUPS = 6;

let fake: FakeAws;
before(async () => {
  fake = await startFakeAws();
});
after(async () => {
  await fake.stop();
});

test('each account of inputs.aws.accounts has its own FilterLogEvents quota (5 a second per account and region) and {account_id}', async () => {
  const { dir, cleanup } = tempDir('dac-accounts-');
  const now = Date.now();
  for (const account of ACCOUNTS) {
    fake.sts.addRole(`arn:aws:iam::${account}:role/devo`);
    for (let i = 0; i < GROUPS; i++) {
      fake.logs.createLogGroup(REGION, `/group/${i}`, account);
      fake.logs.putEvents(
        REGION,
        `/group/${i}`,
        's',
        [{ timestamp: now - 5 * 60_000, message: 'x' }],
        account,
      );
    }
  }
  const services = Array.from(
    { length: GROUPS },
    (_, i) =>
      `      cwl_${i}: { types: [logs], log_group: /group/${i}, regions: [${REGION}], tag: 'my.logs.{account_id}', start_time: '${new Date(now - 6 * 60_000).toISOString()}' }`,
  ).join('\n');
  const { config, problems } = parseConfigText(`
outputs:
  out: { type: file, config: { path: events.jsonl } }
inputs:
  aws:
    id: quota
    endpoint: ${fake.endpoint}
    credentials: { access_key: AKIATESTTESTTEST, access_secret: test-secret-key-0000 }
    accounts:
${ACCOUNTS.map((a) => `      - { id: ${a}, target_assume_role: 'arn:aws:iam::${a}:role/devo' }`).join('\n')}
    services:
${services}
`);
  assert.deepEqual(problems, []);
  const collector = new Collector(
    { config: config!, file: join(dir, 'c.yaml'), dir, inlineSecrets: [] },
    { logger: capturingLogger().logger, secrets: new Secrets(), cwd: dir },
  );
  const times = (accountId?: string) =>
    fake
      .requestsFor({ service: 'logs', operation: 'FilterLogEvents', region: REGION, accountId })
      .map((c) => c.time);
  const file = join(dir, 'events.jsonl');
  const read = () =>
    (existsSync(file) ? readFileSync(file, 'utf8') : '')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as { tag: string });
  let delivered: { tag: string }[] = [];
  try {
    await collector.start();
    await waitUntil(() => times().length >= ACCOUNTS.length * GROUPS, 20_000, 'every group read');
    await waitUntil(() => (delivered = read()).length === ACCOUNTS.length * GROUPS, 20_000, 'every event');
  } finally {
    await collector.stop(1_000);
    cleanup();
  }
  // {account_id} in the tag is the account each event was read from.
  for (const account of ACCOUNTS)
    assert.equal(delivered.filter((e) => e.tag === `my.logs.${account}`).length, GROUPS);
  for (const account of ACCOUNTS) {
    assert.equal(times(account).length, GROUPS);
    assert.ok(busiestWindow(times(account), 1000) <= 5, `at most 5 a second in ${account}`);
  }
  // One quota for both accounts would allow no more than 5 in any second.
  assert.ok(busiestWindow(times(), 1000) > 5, 'the accounts do not share a quota');
});
