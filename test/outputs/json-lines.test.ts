import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { describe, test } from 'node:test';
import { isCollectorError } from '../../src/core/errors.js';
import { JsonLinesOutput } from '../../src/outputs/json-lines.js';
import { testContext } from './helpers.js';

describe('JsonLinesOutput', () => {
  test('after a failed write (disk full) the next write opens the stream again instead of failing forever', async () => {
    const written: string[] = [];
    let opened = 0;
    const open = async (): Promise<Writable> => {
      const failFirst = opened++ === 0;
      // Like the file output's stream: its 'error' event is heard; writes learn of failures by their callback.
      const stream = new Writable({
        write(chunk: Buffer, _encoding, callback) {
          if (failFirst)
            callback(Object.assign(new Error('ENOSPC: no space left on device'), { code: 'ENOSPC' }));
          else {
            written.push(chunk.toString());
            callback();
          }
        },
      });
      return stream.on('error', () => undefined);
    };
    const { ctx } = testContext('file', '/tmp');
    const output = new JsonLinesOutput(ctx, open, async (stream) => void stream.destroy());
    await output.start();
    await assert.rejects(
      output.write([{ tag: 't', message: 'lost?' }]),
      (e: unknown) => isCollectorError(e, 'OUTPUT_UNAVAILABLE') && /ENOSPC/.test(e.message),
    );
    await output.write([{ tag: 't', message: 'again' }]);
    assert.deepEqual(written, ['{"tag":"t","message":"again"}\n']);
    assert.equal(opened, 2);
    await output.stop();
  });
});
