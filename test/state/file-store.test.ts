import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { FileStateStore } from '../../src/state/file-store.js';
import { stateKey } from '../../src/state/store.js';
import { isCollectorError } from '../../src/core/errors.js';
import { repoRoot, tempDir } from '../helpers/paths.js';

describe('FileStateStore', () => {
  test('round-trips values per key and leaves no temporary files', async () => {
    const { dir, cleanup } = tempDir();
    try {
      const store = new FileStateStore(dir);
      const a = stateKey('12351', 'cwl_1', 'eu-west-1', '/aws/lambda/x');
      const b = stateKey('12351', 'metrics-all', 'eu-west-1');
      assert.equal(await store.get(a), undefined);
      await Promise.all([store.set(a, { t: 1 }), store.set(a, { t: 2 }), store.set(b, [1, 2])]);
      assert.deepEqual(await store.get(a), { t: 2 });
      assert.deepEqual(await store.get(b), [1, 2]);
      await store.close();
      assert.deepEqual(await new FileStateStore(dir).get(a), { t: 2 });
      assert.equal((await readdir(dir)).filter((f) => f.endsWith('.tmp')).length, 0);
    } finally {
      cleanup();
    }
  });

  test('keys longer than a file name allows (log groups reach 512 characters) are stored apart', async () => {
    const { dir, cleanup } = tempDir();
    try {
      const store = new FileStateStore(dir);
      const group = `/aws/vendedlogs/${'very-long-name/'.repeat(32)}`;
      const a = stateKey('12351', 'cwl_1', 'eu-west-1', `${group}a`);
      const b = stateKey('12351', 'cwl_1', 'eu-west-1', `${group}b`);
      await store.set(a, { t: 1 });
      await store.set(b, { t: 2 });
      assert.deepEqual(await store.get(a), { t: 1 });
      assert.deepEqual(await store.get(b), { t: 2 });
      await store.close();
    } finally {
      cleanup();
    }
  });

  test('a corrupt state file is a clear error naming the file, not a silent reset', async () => {
    const { dir, cleanup } = tempDir();
    try {
      const store = new FileStateStore(dir);
      writeFileSync(store.fileFor('k'), '{"value": {"t": 1');
      await assert.rejects(store.get('k'), (err: unknown) => {
        assert.ok(isCollectorError(err, 'STATE_UNREADABLE'));
        assert.match(err.message, new RegExp(store.fileFor('k').replaceAll('%', '%')));
        return true;
      });
    } finally {
      cleanup();
    }
  });

  test('SIGKILL at random moments while writing: the state always loads, holding the last or the previous value', async () => {
    const { dir, cleanup } = tempDir();
    // A writer saving 1, 2, 3... as fast as it can, printing each value once saved.
    const writer = join(dir, 'writer.mjs');
    writeFileSync(
      writer,
      `import { FileStateStore } from ${JSON.stringify(join(repoRoot, 'dist/src/state/file-store.js'))};
       const store = new FileStateStore(process.argv[2]);
       let n = (await store.get('k')) ?? 0;
       process.stdout.write('ready ' + n + '\\n');
       for (;;) { n += 1; await store.set('k', n); process.stdout.write(n + '\\n'); }`,
    );
    const stateDir = join(dir, 'state');
    try {
      let lastSaved = 0;
      for (let round = 0; round < 50; round++) {
        const child = spawn(process.execPath, [writer, stateDir], { stdio: ['ignore', 'pipe', 'inherit'] });
        let out = '';
        child.stdout.on('data', (d: Buffer) => (out += d.toString()));
        await new Promise<void>((resolve) => {
          const check = () => (out.includes('ready') ? resolve() : setTimeout(check, 2));
          check();
        });
        await new Promise((r) => setTimeout(r, 5 + Math.random() * 40));
        child.kill('SIGKILL');
        await new Promise((r) => child.once('close', r));
        const lines = out.trim().split('\n');
        const printed = Number(lines[lines.length - 1]?.replace('ready ', ''));
        const saved = await new FileStateStore(stateDir).get<number>('k');
        // Only a writer killed before its very first save completed (a loaded machine) leaves none.
        assert.ok(saved !== undefined || printed === 0, `round ${round}: state did not load`);
        const value = saved ?? 0;
        // The value saved last (printed), or the one being written when killed (saved, not yet printed).
        assert.ok(
          value === printed || value === printed + 1,
          `round ${round}: loaded ${value}, last saved ${printed}`,
        );
        assert.ok(value >= lastSaved, `round ${round}: went back from ${lastSaved} to ${value}`);
        lastSaved = value;
      }
      assert.ok(lastSaved > 50, `writers made progress (${lastSaved} saves)`);
    } finally {
      cleanup();
    }
  });
});
