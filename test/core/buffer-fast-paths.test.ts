import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { BUFFER_FAST_PATHS, latin1Write, utf8Slice, utf8Write } from '../../src/core/buffer-fast-paths.js';

// Guards the undocumented Buffer methods the encoders and the JSON scanner use: this fails when a
// Node.js release drops them or changes what they do (the code then falls back to the documented
// methods, slower). Compare with the documented method on the same input.

describe('Buffer fast paths', () => {
  test('this Node.js has them', () => {
    assert.equal(BUFFER_FAST_PATHS, true);
  });

  test('they do what the documented methods do', () => {
    const ascii = '<14>May  1 03:04:05 host tag: {"a":1}';
    const text = 'région → ünïcode 🚀';
    for (const [fast, plain, value] of [
      [latin1Write, (b: Buffer, t: string, o: number) => b.write(t, o, 'latin1'), ascii],
      [utf8Write, (b: Buffer, t: string, o: number) => b.write(t, o, 'utf8'), text],
    ] as const) {
      const a = Buffer.alloc(64);
      const b = Buffer.alloc(64);
      assert.equal(fast(a, value, 3), plain(b, value, 3));
      assert.deepEqual(a, b);
    }
    const buf = Buffer.from(`xx${text}yy`);
    assert.equal(utf8Slice(buf, 2, buf.length - 2), buf.toString('utf8', 2, buf.length - 2));
  });
});
