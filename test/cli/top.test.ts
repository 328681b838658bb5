import assert from 'node:assert/strict';
import { spawnSync, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Sandbox, stopChild } from '../../sandbox/demo/environment.js';
import { runCli } from '../helpers/cli.js';
import { cliPath, tempDir } from '../helpers/paths.js';
import { freePort } from '../helpers/wait.js';

/** The worker names the collector logged at start ("started N worker(s)"). */
function startedWorkers(logFile: string): string[] | undefined {
  for (const line of readFileSync(logFile, { encoding: 'utf8', flag: 'a+' }).split('\n')) {
    if (!line.includes('"workers"')) continue;
    return (JSON.parse(line) as { workers: string[] }).workers;
  }
  return undefined;
}

/** EVENTS column of each worker row (the table's third column), by worker name. */
function eventsByWorker(screen: string, workers: string[]): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of screen.split('\n')) {
    const cells = line.trim().split(/\s+/);
    if (workers.includes(cells[0]!) && cells.length >= 3) out.set(cells[0]!, Number(cells[2]));
  }
  return out;
}

const tmux = spawnSync('tmux', ['-V']).error === undefined;

describe('top', () => {
  let tmp: { dir: string; cleanup: () => void };
  let sandbox: Sandbox;
  let collector: ChildProcess;
  let url: string;
  let workers: string[];
  before(async () => {
    tmp = tempDir('dac-top-');
    const port = await freePort();
    url = `http://127.0.0.1:${port}`;
    // Enough data that delivery goes on for a while, so the numbers move while top watches.
    sandbox = await Sandbox.start({
      workDir: join(tmp.dir, 'sandbox'),
      regions: ['us-east-1'],
      scale: 6,
      globals: { status_port: port },
    });
    collector = sandbox.startCollector();
    const deadline = Date.now() + 30_000;
    while ((workers = startedWorkers(sandbox.logFile)!) === undefined) {
      assert.ok(Date.now() < deadline && collector.exitCode === null, 'the collector started its workers');
      await new Promise((r) => setTimeout(r, 50));
    }
  });
  after(async () => {
    if (collector) await stopChild(collector, 'SIGKILL');
    await sandbox?.stop();
    tmp?.cleanup();
  });

  test('--once prints one snapshot: a row per configured worker and per output', async (t) => {
    const run = runCli(['top', '--once', '--url', url]);
    assert.equal(await run.exited, 0, run.stderr());
    t.diagnostic(run.stdout());
    const rows = eventsByWorker(run.stdout(), workers);
    assert.deepEqual([...rows.keys()].sort(), [...workers].sort());
    for (const [name, events] of rows) assert.ok(Number.isInteger(events), `${name}: ${events}`);
    assert.match(run.stdout(), /^devo_sandbox\s+[\d.]+\s+[\d.]+\s+\d+\s+(connected|disconnected)$/m);
  });

  test('--once against nothing listening fails with a clear message', async () => {
    const nowhere = `http://127.0.0.1:${await freePort()}`;
    const run = runCli(['top', '--once', '--url', nowhere]);
    assert.equal(await run.exited, 1);
    assert.match(run.stderr(), /^devo-aws-collector: STATUS_UNAVAILABLE: /);
    assert.ok(run.stderr().includes(`${nowhere}/status`), 'names the address it tried');
  });

  test(
    'in a real terminal (tmux): a row per worker, numbers that move, q quits',
    { skip: tmux ? false : 'tmux not installed (Debian: apt-get install tmux; .ci/run does)' },
    async () => {
      const socket = `dac-top-${process.pid}`;
      const tm = (...args: string[]) => spawnSync('tmux', ['-L', socket, ...args], { encoding: 'utf8' });
      const started = tm(
        'new-session',
        '-d',
        '-s',
        'top',
        '-x',
        '220',
        '-y',
        '60',
        `${process.execPath} ${cliPath} top --url ${url}`,
      );
      assert.equal(started.status, 0, started.stderr);
      // Security Hub findings keep arriving while top watches, so there is always something to count.
      const finding = (i: number) =>
        JSON.stringify({
          'detail-type': 'Security Hub Findings - Imported',
          source: 'aws.securityhub',
          detail: { findings: [{ Id: `top-test-${i}` }] },
        });
      let sent = 0;
      const feeder = setInterval(
        () => sandbox.fake.sqs.send('us-east-1', 'devo-securityhub-findings', finding(sent++)),
        100,
      );
      try {
        const capture = () => tm('capture-pane', '-p', '-t', 'top').stdout;
        let first = new Map<string, number>();
        const deadline = Date.now() + 30_000;
        let moved = false;
        while (!moved && Date.now() < deadline) {
          await new Promise((r) => setTimeout(r, 1_200));
          const rows = eventsByWorker(capture(), workers);
          if (rows.size === workers.length && first.size === workers.length)
            moved = [...rows].some(([name, n]) => n !== first.get(name));
          if (rows.size === workers.length) first = rows;
        }
        const screen = capture();
        assert.deepEqual([...eventsByWorker(screen, workers).keys()].sort(), [...workers].sort(), screen);
        assert.ok(moved, `the EVENTS column moved between two refreshes:\n${screen}`);
        tm('send-keys', '-t', 'top', 'q');
        const quitBy = Date.now() + 5_000;
        while (tm('has-session', '-t', 'top').status === 0) {
          assert.ok(Date.now() < quitBy, 'top exits on q');
          await new Promise((r) => setTimeout(r, 50));
        }
      } finally {
        clearInterval(feeder);
        tm('kill-server');
      }
    },
  );
});
