import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Sandbox, stopChild } from '../../sandbox/demo/environment.js';
import { repoRoot, tempDir } from '../helpers/paths.js';
import { freePort } from '../helpers/wait.js';

const RULES = join(repoRoot, 'deploy/prometheus/alerts.yml');
const SCRAPE_EXAMPLE = join(repoRoot, 'deploy/prometheus/prometheus.yml');
const missing = ['prometheus', 'promtool'].filter((bin) => spawnSync(bin, ['--version']).error !== undefined);
const skip =
  missing.length > 0
    ? `${missing.join(' and ')} not installed (Debian: apt-get install --no-install-recommends prometheus; .ci/run does)`
    : false;

async function poll<T>(what: string, ms: number, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) assert.fail(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

describe('Prometheus (Debian package)', { skip }, () => {
  test('promtool accepts the alert rules and the scrape example', () => {
    for (const args of [
      ['check', 'rules', RULES],
      ['check', 'config', SCRAPE_EXAMPLE],
    ]) {
      const r = spawnSync('promtool', args, { encoding: 'utf8' });
      assert.equal(r.status, 0, `promtool ${args.join(' ')}:\n${r.stdout}${r.stderr}`);
    }
  });

  // One collector on the sandbox, its Devo output held down (the receiver is stopped) for both tests.
  let tmp: { dir: string; cleanup: () => void };
  let sandbox: Sandbox;
  let collector: ChildProcess;
  let statusPort: number;
  before(async () => {
    tmp = tempDir('dac-prometheus-');
    statusPort = await freePort();
    sandbox = await Sandbox.start({
      workDir: join(tmp.dir, 'sandbox'),
      regions: ['us-east-1'],
      globals: { status_port: statusPort },
    });
    await sandbox.receiver.stop();
    collector = sandbox.startCollector();
    await poll('the collector to serve /metrics', 30_000, async () =>
      (await fetch(`http://127.0.0.1:${statusPort}/metrics`)).ok ? true : undefined,
    );
  });
  after(async () => {
    if (collector) await stopChild(collector, 'SIGKILL');
    await sandbox?.fake.stop();
    tmp?.cleanup();
  });

  test('promtool check metrics finds no problem in a live /metrics', async () => {
    // Once a pull has ended, every kind of metric has samples.
    const text = await poll('a pull to end', 30_000, async () => {
      const body = await (await fetch(`http://127.0.0.1:${statusPort}/metrics`)).text();
      return body.includes('collector_pull_duration_seconds_bucket') ? body : undefined;
    });
    const r = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.equal(`${r.stdout}${r.stderr}`.trim(), '', 'promtool reports no problem');
    for (const name of [
      'collector_lag_seconds',
      'collector_queue_messages',
      'collector_output_connected',
      'collector_last_successful_pull_timestamp_seconds',
    ])
      assert.match(text, new RegExp(`^${name}\\{`, 'm'), `${name} has samples`);
  });

  test('a real Prometheus scraping the collector fires the lag alert while the output is held down', async () => {
    const dir = tmp.dir;
    // The shipped rules, with every duration in minutes made seconds so the test takes seconds.
    const rules = readFileSync(RULES, 'utf8').replace(/\b(\d+)m\b/g, '$1s');
    writeFileSync(join(dir, 'alerts.yml'), rules);
    writeFileSync(
      join(dir, 'prometheus.yml'),
      [
        'global: { scrape_interval: 1s, evaluation_interval: 1s }',
        'rule_files: [alerts.yml]',
        'scrape_configs:',
        '  - job_name: devo-aws-collector',
        `    static_configs: [{ targets: ['127.0.0.1:${statusPort}'] }]`,
        '',
      ].join('\n'),
    );
    const port = await freePort();
    const prometheus = spawn(
      'prometheus',
      [
        `--config.file=${join(dir, 'prometheus.yml')}`,
        `--storage.tsdb.path=${join(dir, 'data')}`,
        `--web.listen-address=127.0.0.1:${port}`,
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let log = '';
    prometheus.stderr!.on('data', (d: Buffer) => (log += d.toString()));
    try {
      const firing = async (alertname: string) => {
        const query = encodeURIComponent(`ALERTS{alertname="${alertname}",alertstate="firing"}`);
        const res = await fetch(`http://127.0.0.1:${port}/api/v1/query?query=${query}`);
        const body = (await res.json()) as { data: { result: { metric: Record<string, string> }[] } };
        return body.data.result.length > 0 ? body.data.result.map((r) => r.metric) : undefined;
      };
      await poll('Prometheus to be ready', 30_000, async () =>
        (await fetch(`http://127.0.0.1:${port}/-/ready`)).ok ? true : undefined,
      );
      assert.equal(await firing('DevoCollectorSourceNotKeepingUp'), undefined, 'not firing at the outset');
      const lagging = await poll('DevoCollectorSourceNotKeepingUp to fire', 90_000, () =>
        firing('DevoCollectorSourceNotKeepingUp'),
      );
      assert.ok(
        lagging.some((m) => m.service === 'cwl_orders' && m.region === 'us-east-1'),
        `firing for: ${JSON.stringify(lagging)}`,
      );
      const disconnected = await poll('DevoCollectorOutputDisconnected to fire', 30_000, () =>
        firing('DevoCollectorOutputDisconnected'),
      );
      assert.deepEqual(
        disconnected.map((m) => m.output),
        ['devo_sandbox'],
      );
    } catch (err) {
      throw new Error(`${(err as Error).message}\nprometheus log:\n${log.slice(-3000)}`, { cause: err });
    } finally {
      await stopChild(prometheus, 'SIGTERM');
    }
  });
});
