import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startFakeAws, type FakeAws } from '../../sandbox/fake-aws/index.js';
import { runCli } from '../helpers/cli.js';
import { repoRoot, tempDir } from '../helpers/paths.js';

describe('CLI', () => {
  const tmp = tempDir('dac-cli-');
  after(() => tmp.cleanup());

  test('--version and --help', async () => {
    const version = runCli(['--version']);
    assert.equal(await version.exited, 0);
    const pkg = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { version: string };
    assert.equal(version.stdout().trim(), pkg.version);
    const help = runCli(['--help']);
    assert.equal(await help.exited, 0);
    for (const cmd of ['run', 'validate', 'print-schema', 'demo'])
      assert.match(help.stdout(), new RegExp(`\\b${cmd}\\b`));
  });

  test('validate accepts the full example and warns about nothing when secrets come from the environment', async () => {
    const run = runCli(['validate', '--config', join(repoRoot, 'docs/examples/full.yaml')], {
      env: {
        AWS_ACCESS_KEY_ID: 'AKIAEXAMPLE',
        AWS_SECRET_ACCESS_KEY: 'example-secret-value',
        DEVO_EXTERNAL_ID: 'ext',
      },
    });
    assert.equal(await run.exited, 0, run.stderr());
    assert.match(run.stdout(), /valid — 11 service\(s\), 17 service × region worker\(s\), 1 output\(s\)/);
    assert.doesNotMatch(run.stdout(), /warning/);
  });

  test('validate counts the workers of every account, in its regions', async () => {
    const file = join(tmp.dir, 'accounts.yaml');
    writeFileSync(
      file,
      `outputs: { out: { type: console } }
inputs:
  aws:
    id: abc
    accounts:
      - { id: 111111111111, target_assume_role: 'arn:aws:iam::111111111111:role/devo' }
      - { id: 222222222222, target_assume_role: 'arn:aws:iam::222222222222:role/devo', regions: [eu-west-1] }
    services:
      metrics-all: { regions: [eu-west-1, us-east-1, us-west-2] }
`,
    );
    const run = runCli(['validate', '--config', file]);
    assert.equal(await run.exited, 0, run.stderr());
    assert.match(
      run.stdout(),
      /valid — 2 account\(s\), 1 service\(s\), 4 service × region worker\(s\), 1 output\(s\)/,
    );
  });

  test('validate lists five different mistakes at once, with their paths, exit code 2, no secret echoed', async () => {
    const file = join(tmp.dir, 'bad.yaml');
    writeFileSync(
      file,
      `globals:
  debg: true
outputs:
  devo:
    type: devo_platform
    config: { address: collector-eu.devo.io, chain: c.crt, cert: d.crt }
inputs:
  aws:
    id: abc
    credentials: { access_key: AKIAINLINE, access_secret: super-secret-inline-value }
    services:
      metrics-all:
        regions: [eu-west-9]
      cwl_1:
        types: [logs]
        regions: [eu-west-1]
      audit-events-all:
        start_time: last tuesday
        regions: [eu-west-1]
`,
    );
    const run = runCli(['validate', '--config', file]);
    assert.equal(await run.exited, 2);
    const err = run.stderr();
    assert.match(err, /^devo-aws-collector: CONFIG_INVALID: /);
    // Every problem is listed, each on its line naming its config key.
    const keys = [...err.matchAll(/^ {2}- (\S+):/gm)].map((m) => m[1]);
    assert.deepEqual(keys.sort(), [
      'globals.debg',
      'inputs.aws.services.audit-events-all.start_time',
      'inputs.aws.services.cwl_1.log_group',
      'inputs.aws.services.metrics-all.regions[0]',
      'outputs.devo.config.key',
    ]);
    assert.doesNotMatch(err, /super-secret-inline-value/);
  });

  test('a YAML syntax error stops validate and run with its line and column, no value from the file', async () => {
    const secret = 'yaml-inline-secret-value-42';
    const file = join(tmp.dir, 'broken.yaml');
    writeFileSync(
      file,
      `globals: {}\n}\ninputs:\n  aws:\n    credentials:\n      access_key: AKIAINLINE\n      access_secret: ${secret}\n`,
    );
    for (const command of ['validate', 'run']) {
      const run = runCli([command, '--config', file]);
      assert.equal(await run.exited, 2);
      assert.match(run.stderr(), /^devo-aws-collector: CONFIG_INVALID: /);
      // The one problem names its place (line and column) and the YAML parser's code.
      assert.deepEqual(
        [...run.stderr().matchAll(/^ {2}- (line \d+, column \d+): .*\b(UNEXPECTED_TOKEN)\b/gm)].map((m) => [
          m[1],
          m[2],
        ]),
        [['line 2, column 1', 'UNEXPECTED_TOKEN']],
      );
      assert.doesNotMatch(run.stdout() + run.stderr(), new RegExp(`${secret}|AKIAINLINE`));
    }
  });

  test('print-schema prints a JSON Schema', async () => {
    const run = runCli(['print-schema']);
    assert.equal(await run.exited, 0);
    const schema = JSON.parse(run.stdout()) as { properties: Record<string, unknown> };
    assert.deepEqual(Object.keys(schema.properties).sort(), ['globals', 'inputs', 'outputs']);
  });

  test('a missing config file is one clear message and exit code 2', async () => {
    const run = runCli(['run', '--config', join(tmp.dir, 'nope.yaml')]);
    assert.equal(await run.exited, 2);
    assert.match(run.stderr(), /^devo-aws-collector: CONFIG_UNREADABLE: .*\/nope\.yaml\b/);
  });
});

describe('CLI run against the fake AWS', () => {
  let fake: FakeAws;
  const tmp = tempDir('dac-cli-run-');
  before(async () => {
    fake = await startFakeAws();
    for (const region of ['us-east-1', 'eu-west-1']) {
      fake.sqs.createQueue(region, 'devo-cwe-123456789012.fifo', {
        FifoQueue: 'true',
        ContentBasedDeduplication: 'true',
      });
      fake.sqs.createQueue(region, 'securityhub');
      fake.sqs.createQueue(region, 'trail-files');
      fake.sqs.createQueue(region, 'devo-ncwl-vpcfl-e2e');
      fake.sqs.createQueue(region, 'devo-ncwl-cfl-e2e');
      fake.logs.createLogGroup(region, '/app/one');
    }
    fake.sqs.createQueue('us-east-1', 'signals');
  });
  after(async () => {
    await fake.stop();
    tmp.cleanup();
  });

  test('starts one worker per service × region and exits 0 within the grace period on SIGTERM', async () => {
    const config = join(tmp.dir, 'collector.yaml');
    writeFileSync(
      config,
      `globals:
  shutdown_grace_seconds: 5
  persistence: { type: filesystem, config: { directory_name: ${join(tmp.dir, 'state')} } }
outputs:
  local: { type: console }
inputs:
  aws:
    id: e2e
    endpoint: ${fake.endpoint}
    credentials: { access_key: AKIAE2ETESTKEY, access_secret: "\${E2E_SECRET}" }
    services:
      service-events-all: { cloudwatch_sqs_queue_name: "devo-cwe-<account_id>.fifo", regions: [us-east-1, eu-west-1] }
      sqs-cloudwatch-consumer: { cloudwatch_sqs_queue_name: securityhub, regions: [us-east-1, eu-west-1] }
      audit-events-all: { types: [audits_api, audits_s3], audit_sqs_queue_name: trail-files, regions: [us-east-1, eu-west-1] }
      metrics-all: { regions: [us-east-1, eu-west-1] }
      cwl_1: { types: [logs], log_group: /app/one, regions: [us-east-1, eu-west-1] }
      non-cloudwatch-logs: { regions: [us-east-1, eu-west-1] }
`,
    );
    const run = runCli(['run', '--config', config], { env: { E2E_SECRET: 'e2e-secret-value-42' } });
    await run.waitForLog('"event":"collector_started"');
    const started = run
      .stderr()
      .split('\n')
      .find((l) => l.includes('"event":"collector_started"'))!;
    const workers = (JSON.parse(started) as { workers: string[] }).workers;
    // 6 services × 2 regions, plus a second worker for audits (api + s3) and for non-cloudwatch-logs (vpc + cloudfront).
    assert.equal(workers.length, 16, workers.join(', '));
    for (const region of ['us-east-1', 'eu-west-1'])
      assert.equal(workers.filter((w) => w.includes(region)).length, 8);
    const t0 = Date.now();
    run.child.kill('SIGTERM');
    assert.equal(await run.exited, 0, run.stderr());
    assert.ok(Date.now() - t0 < 5_000 + 2_000, `exited within the grace period (${Date.now() - t0} ms)`);
    assert.match(run.stderr(), /"event":"collector_stopped"/);
    assert.doesNotMatch(run.stderr(), /e2e-secret-value-42/);
  });

  test("Node's warnings are JSON log records: stderr and stdout hold only JSON lines", async () => {
    const config = join(tmp.dir, 'warnings.yaml');
    writeFileSync(
      config,
      `globals:
  persistence: { type: filesystem, config: { directory_name: ${join(tmp.dir, 'state-warnings')} } }
outputs:
  local: { type: console }
inputs:
  aws:
    id: warn
    endpoint: ${fake.endpoint}
    credentials: { access_key: AKIAE2ETESTKEY, access_secret: "\${E2E_SECRET}" }
    services:
      metrics-all: { regions: [us-east-1] }
`,
    );
    // A warning on demand, whatever Node version runs the tests (the SDK's notice is Node 20's only).
    const preload = join(tmp.dir, 'warn-on-usr2.cjs');
    writeFileSync(
      preload,
      `process.on('SIGUSR2', () => process.emitWarning('too many listeners', 'MaxListenersExceededWarning'));\n`,
    );
    const run = runCli(['run', '--config', config], {
      env: {
        E2E_SECRET: 'e2e-secret-value-42',
        NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --require ${preload}`,
      },
    });
    try {
      await run.waitForLog('"event":"collector_started"');
      run.child.kill('SIGUSR2');
      await run.waitForLog('"warning":"MaxListenersExceededWarning"');
    } finally {
      run.child.kill('SIGTERM');
    }
    assert.equal(await run.exited, 0, run.stderr());
    const lines = (run.stderr() + run.stdout()).split('\n').filter((l) => l !== '');
    for (const line of lines) assert.doesNotThrow(() => JSON.parse(line), line);
    const warnings = lines
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .filter((r) => r.event === 'process_warning');
    assert.ok(warnings.some((w) => w.warning === 'MaxListenersExceededWarning' && w.level === 'warn'));
  });

  test('SIGTERM waits for in-flight events; a second signal exits at once, deleting nothing undelivered', async () => {
    for (let i = 0; i < 50; i++)
      fake.sqs.send(
        'us-east-1',
        'signals',
        JSON.stringify({ id: `evt-${i}`, source: 'aws.ec2', detail: {} }),
      );
    // An output that can never connect: events stay in flight, nothing is acknowledged.
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as { port: number }).port;
    await new Promise((r) => closed.close(r));
    const config = join(tmp.dir, 'signals.yaml');
    writeFileSync(
      config,
      `globals:
  shutdown_grace_seconds: 60
  persistence: { type: filesystem, config: { directory_name: ${join(tmp.dir, 'state-signals')} } }
outputs:
  down: { type: syslog, config: { protocol: tcp, address: 127.0.0.1, port: ${port} } }
inputs:
  aws:
    id: signals
    endpoint: ${fake.endpoint}
    credentials: { access_key: AKIAE2ETESTKEY, access_secret: e2e-secret-value-43 }
    services:
      service-events-all: { cloudwatch_sqs_queue_name: signals, regions: [us-east-1] }
`,
    );
    const run = runCli(['run', '--config', config]);
    await run.waitForLog('"event":"collector_started"');
    while (fake.sqs.stats('us-east-1', 'signals').inFlight === 0) await new Promise((r) => setTimeout(r, 20));
    run.child.kill('SIGTERM');
    await run.waitForLog('"event":"signal_received"');
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(run.child.exitCode, null, 'still giving in-flight events their grace period');
    const t0 = Date.now();
    run.child.kill('SIGTERM');
    assert.equal(await run.exited, 143);
    assert.ok(Date.now() - t0 < 2_000, 'the second signal exits at once');
    assert.equal(fake.sqs.stats('us-east-1', 'signals').deleted, 0, 'nothing undelivered was deleted');
  });
});
