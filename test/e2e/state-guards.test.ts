import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { stopChild } from '../../sandbox/demo/environment.js';
import { runCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/paths.js';
import { freePort } from '../helpers/wait.js';

/** A collector with nothing to collect (its status server keeps it running): only its state matters here. */
function config(dir: string, persistence: string): string {
  const file = join(dir, 'collector.yaml');
  writeFileSync(
    file,
    `globals:\n  status_port: 0\n  persistence: ${persistence}\noutputs:\n  out: { type: console }\ninputs:\n  aws:\n    id: guards\n    enabled: false\n    services:\n      metrics-all: { regions: [eu-west-1] }\n`,
  );
  return file;
}

test('a second collector on the same state directory refuses to start, naming the directory and the first process', async () => {
  const tmp = tempDir('dac-state-lock-');
  const state = join(tmp.dir, 'state');
  const file = config(tmp.dir, `{ type: filesystem, config: { directory_name: ${state} } }`);
  const first = runCli(['run', '--config', file]);
  try {
    await first.waitForLog('"msg":"started ');
    const second = runCli(['run', '--config', file]);
    assert.equal(await second.exited, 1);
    assert.ok(
      second.stderr().includes(`state directory ${state} is in use by process ${first.child.pid}`),
      second.stderr(),
    );
    assert.equal(first.child.exitCode, null, 'the first one runs on');
    assert.equal(await stopChild(first.child, 'SIGTERM'), 0);
    // Released at exit: the folder can be used again.
    const third = runCli(['run', '--config', file]);
    await third.waitForLog('"msg":"started ');
    assert.equal(await stopChild(third.child, 'SIGTERM'), 0);
  } finally {
    await stopChild(first.child, 'SIGKILL');
    tmp.cleanup();
  }
});

test('Redis unreachable at start: an error naming host and port, never the password', async () => {
  const tmp = tempDir('dac-redis-down-');
  const port = await freePort();
  const file = config(
    tmp.dir,
    `{ type: redis, config: { host: 127.0.0.1, port: ${port}, password: "\${REDIS_PASSWORD}" } }`,
  );
  try {
    const run = runCli(['run', '--config', file], { env: { REDIS_PASSWORD: 'sekret-redis-pw-77' } });
    assert.equal(await run.exited, 1);
    assert.match(run.stderr(), new RegExp(`cannot reach redis at 127\\.0\\.0\\.1:${port}`));
    assert.ok(!run.stderr().includes('sekret-redis-pw-77'));
    assert.ok(!run.stdout().includes('sekret-redis-pw-77'));
  } finally {
    tmp.cleanup();
  }
});
