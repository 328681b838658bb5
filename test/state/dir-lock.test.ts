import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { ErrorCodes, isCollectorError } from '../../src/core/errors.js';
import { LOCK_FILE } from '../../src/state/dir-lock.js';
import { FileStateStore } from '../../src/state/file-store.js';
import { tempDir } from '../helpers/paths.js';

test('a state directory is opened by one store at a time; a lock left by a dead process is taken over', async () => {
  const { dir, cleanup } = tempDir();
  try {
    const a = new FileStateStore(dir);
    await a.open();
    const b = new FileStateStore(dir);
    await assert.rejects(b.open(), (err) => {
      assert.ok(isCollectorError(err, ErrorCodes.STATE_LOCKED));
      assert.equal(err.details.directory, dir);
      assert.equal(err.details.pid, process.pid);
      assert.ok(err.message.includes(dir));
      return true;
    });
    await a.close();
    await b.open();
    await b.close();
    assert.deepEqual(readdirSync(dir), [], 'the lock goes with the store, no temporary file stays');

    // A process that died without closing: its pid is free now.
    const dead = spawnSync(process.execPath, [
      '-e',
      'process.stdout.write(String(process.pid))',
    ]).stdout.toString();
    writeFileSync(join(dir, LOCK_FILE), JSON.stringify({ pid: Number(dead), host: hostname() }));
    const c = new FileStateStore(dir);
    await c.open();
    await c.close();
  } finally {
    cleanup();
  }
});
