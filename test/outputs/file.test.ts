import assert from 'node:assert/strict';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { definition } from '../../src/outputs/file/index.js';
import { tempDir } from '../helpers/paths.js';
import { testContext } from './helpers.js';

test('the file output creates its file readable by its owner only, like the state', async () => {
  const tmp = tempDir('dac-file-output-');
  try {
    const { ctx } = testContext('file', tmp.dir);
    const output = definition.create({ path: 'out/events.jsonl' }, ctx);
    await output.start();
    await output.write([{ tag: 't', message: 'm' }]);
    await output.stop();
    const file = join(tmp.dir, 'out/events.jsonl');
    assert.equal(readFileSync(file, 'utf8'), '{"tag":"t","message":"m"}\n');
    assert.equal(statSync(file).mode & 0o777, 0o600);
  } finally {
    tmp.cleanup();
  }
});
