import assert from 'node:assert/strict';
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, before, test } from 'node:test';
import { startFakeAws, type FakeAws } from '../../sandbox/fake-aws/index.js';
import { runCli, type CliRun } from '../helpers/cli.js';
import { repoRoot, tempDir } from '../helpers/paths.js';
import { waitUntil } from '../helpers/wait.js';
import { serviceEvent } from '../services/shared/sqs-events/fixtures.js';

/**
 * Three accounts of inputs.aws.accounts through role assumption, as the CLI, against the fake AWS
 * (whose STS checks each role's external id): a configuration with only the required keys (plus
 * the external ids), base credentials from the environment. The child runs on a fast clock
 * (test/helpers/fast-clock.mjs): 100 s of its time pass each real second.
 */

const SPEED = 100;
const REGION = 'eu-west-1';
const BASE_ACCOUNT = '999999999999';
const BASE_KEY = 'AKIABASEBASEBASE';
const A = '111111111111';
const B = '222222222222';
const C = '333333333333';
const EXTERNAL_A = 'ext-a-0123456789';
const EXTERNAL_C = 'ext-c-0123456789';
const role = (account: string) => `arn:aws:iam::${account}:role/devo-collector`;

let fake: FakeAws;
let tmp: ReturnType<typeof tempDir>;
let configFile: string;
// The children's clock starts an hour back: the fake's retention checks use the real time.
const epoch = Date.now();
const origin = epoch - 3_600_000;
const childNow = () => origin + (Date.now() - epoch) * SPEED;

before(async () => {
  fake = await startFakeAws({ accounts: { keys: { [BASE_KEY]: BASE_ACCOUNT }, acceptUnknownKeys: false } });
  fake.sts.addRole(role(A), { externalId: EXTERNAL_A });
  fake.sts.addRole(role(B));
  // C's trust policy wants another external id than the configured one: AssumeRole is AccessDenied.
  fake.sts.addRole(role(C), { externalId: 'not-the-configured-one' });
  for (const account of [A, B, C]) {
    fake.logs.createLogGroup(REGION, '/app', account);
    fake.sqs.createQueue(REGION, `devo-events-${account}`, {}, account);
  }
  tmp = tempDir('dac-e2e-accounts-');
  configFile = join(tmp.dir, 'collector.yaml');
  writeFileSync(
    configFile,
    `outputs:
  out:
    type: console
inputs:
  aws:
    id: e2e
    accounts:
      - id: ${A}
        target_assume_role: ${role(A)}
        assume_role_external_id: \${EXTERNAL_A}
      - id: ${B}
        target_assume_role: ${role(B)}
      - id: ${C}
        target_assume_role: ${role(C)}
        assume_role_external_id: \${EXTERNAL_C}
    services:
      service-events-all:
        cloudwatch_sqs_queue_name: devo-events-<account_id>
        regions: [${REGION}]
      cwl_1:
        types: [logs]
        log_group: /app
        regions: [${REGION}]
`,
  );
});

after(async () => {
  await fake.stop();
  tmp.cleanup();
});

function start(): CliRun {
  return runCli(['run', '--config', configFile], {
    cwd: tmp.dir,
    env: {
      NODE_OPTIONS: `--import ${pathToFileURL(join(repoRoot, 'test/helpers/fast-clock.mjs')).href}`,
      DAC_TEST_CLOCK: `${origin},${epoch},${SPEED}`,
      AWS_ENDPOINT_URL: fake.endpoint,
      AWS_ACCESS_KEY_ID: BASE_KEY,
      AWS_SECRET_ACCESS_KEY: 'base-secret-key-0000',
      EXTERNAL_A,
      EXTERNAL_C,
    },
  });
}

const logLines = (run: CliRun): Record<string, unknown>[] =>
  run
    .stderr()
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);

/** The messages the console output printed (the last line may be partial). */
const delivered = (run: CliRun): string[] =>
  run
    .stdout()
    .split('\n')
    .slice(0, -1)
    .map((l) => (JSON.parse(l) as { message: string }).message);

/** Waits for the logs worker of each account to say from when it reads; returns those lines. */
async function windowStarts(run: CliRun, accounts: string[]): Promise<Map<string, Record<string, unknown>>> {
  const starts = () =>
    new Map(logLines(run).flatMap((l) => (l.event === 'window_start' ? [[l.account as string, l]] : [])));
  await waitUntil(() => accounts.every((a) => starts().has(a)), 30_000, 'window_start of every account');
  return starts();
}

/** One log line per account, stamped at `at` (child time), and one service event on its queue. */
function seed(accounts: string[], label: string, at: number): Map<string, string[]> {
  const ids = new Map<string, string[]>();
  for (const account of accounts) {
    const line = `${label} line of ${account}`;
    fake.logs.putEvents(REGION, '/app', 's', [{ timestamp: at, message: line }], account);
    const eventId = `${label}-event-of-${account}`;
    fake.sqs.send(REGION, `devo-events-${account}`, serviceEvent(eventId), { accountId: account });
    ids.set(account, [line, eventId]);
  }
  return ids;
}

const arrived = (run: CliRun, id: string): boolean => delivered(run).some((m) => m.includes(id));

async function stop(run: CliRun): Promise<void> {
  run.child.kill('SIGTERM');
  assert.equal(await run.exited, 0);
}

test('three accounts: each runs with its own credentials, a refused role stops only its account, restarts resume each', async () => {
  // First run: C's role refuses the collector.
  const first = start();
  let firstSeeded: Map<string, string[]>;
  try {
    await windowStarts(first, [A, B]);
    firstSeeded = seed([A, B, C], 'first', childNow() + 61_000);
    for (const account of [A, B])
      for (const id of firstSeeded.get(account)!)
        await waitUntil(() => arrived(first, id), 30_000, `${id} in the first run`);
    // C keeps failing, retried with backoff, named and coded; A and B ran meanwhile.
    await waitUntil(
      () => logLines(first).filter((l) => l.account === C && l.attempt !== undefined).length >= 2,
      30_000,
      'retries of account C',
    );
  } finally {
    await stop(first);
  }
  const failures = logLines(first).filter(
    (l) => (l.err as { code?: string } | undefined)?.code === 'ASSUME_ROLE_FAILED',
  );
  assert.ok(failures.length >= 2);
  for (const f of failures) {
    assert.equal(f.account, C);
    assert.deepEqual((f.err as { details: unknown }).details, {
      account: C,
      configKey: 'inputs.aws.accounts[2].target_assume_role',
      role: role(C),
    });
    assert.equal((f.err as { cause: { type: string } }).cause.type, 'AccessDenied');
  }
  for (const id of firstSeeded.get(C)!) assert.ok(!arrived(first, id), `${id} of the refused account`);
  assert.ok(
    !first.stderr().includes(EXTERNAL_A) && !first.stderr().includes(EXTERNAL_C),
    'external ids never logged',
  );

  // Who signed what: the base identity only assumed the roles; every data call was signed by the
  // temporary keys of the account it read, and nothing read C.
  const calls = fake.requests.filter((r) => r.service === 'logs' || r.service === 'sqs');
  assert.deepEqual(new Set(calls.map((r) => r.accountId)), new Set([A, B]));
  for (const r of calls) assert.match(r.accessKeyId, /^ASIA/);
  for (const account of [A, B]) {
    const own = calls.filter((r) => r.accountId === account);
    assert.ok(
      own.some((r) => r.operation === 'FilterLogEvents'),
      `FilterLogEvents of ${account}`,
    );
    assert.ok(
      own.some((r) => r.operation === 'ReceiveMessage'),
      `ReceiveMessage of ${account}`,
    );
  }
  const byBase = fake.requests.filter((r) => r.accountId === BASE_ACCOUNT);
  assert.deepEqual(new Set(byBase.map((r) => r.operation)), new Set(['AssumeRole']));

  // Each account's checkpoint under its own key; none without an account.
  assert.deepEqual(readdirSync(join(tmp.dir, 'state')).sort(), [
    `e2e%2F${A}%2Fcwl_1%2F${REGION}%2F%252Fapp.json`,
    `e2e%2F${B}%2Fcwl_1%2F${REGION}%2F%252Fapp.json`,
  ]);

  // Written while the collector was down, then a restart with C's role fixed.
  const whileDown = seed([A, B], 'down', childNow() - 1_000);
  fake.sts.addRole(role(C), { externalId: EXTERNAL_C });
  const second = start();
  try {
    const starts = await windowStarts(second, [A, B, C]);
    assert.equal(starts.get(A)!.origin, 'checkpoint');
    assert.equal(starts.get(B)!.origin, 'checkpoint');
    assert.equal(starts.get(C)!.origin, 'first_pull');
    const later = seed([C], 'second', childNow() + 61_000);
    for (const id of [...whileDown.values(), ...later.values()].flat())
      await waitUntil(() => arrived(second, id), 30_000, `${id} in the second run`);
  } finally {
    await stop(second);
  }
  // A and B resumed where they were: their first-run log lines are not read again.
  for (const account of [A, B])
    assert.ok(!arrived(second, firstSeeded.get(account)![0]!), `first-run line of ${account} read again`);
});
