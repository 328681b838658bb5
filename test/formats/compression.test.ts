import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { constants, gunzipSync, gzipSync } from 'node:zlib';
import { isCollectorError } from '../../src/core/errors.js';
import { decompress, detectCompression } from '../../src/formats/compression.js';
import { chunksOf, collect, fixture, random, source, zstdRawFrame } from './helpers.js';

/** Text that compresses but not trivially, so gzip output spans many zlib chunks. */
function text(bytes: number, seed: number): Buffer {
  const next = random(seed);
  const lines: string[] = [];
  let size = 0;
  while (size < bytes) {
    const line = `line ${lines.length} ${Math.floor(next() * 1e9).toString(36)} ${'x'.repeat(Math.floor(next() * 40))}\n`;
    lines.push(line);
    size += line.length;
  }
  return Buffer.from(lines.join(''));
}

function assertCorrupt(error: unknown, offset: number, compression: string): void {
  assert.ok(isCollectorError(error, 'OBJECT_CORRUPT'), `expected OBJECT_CORRUPT, got ${String(error)}`);
  assert.equal(error.details.offset, offset);
  assert.equal(error.details.compression, compression);
  assert.match(error.message, /^s3:\/\/bucket\/key: /);
}

describe('detectCompression', () => {
  test('by magic bytes', () => {
    assert.equal(detectCompression(Buffer.from([0x1f, 0x8b, 8, 0])), 'gzip');
    assert.equal(detectCompression(Buffer.from([0x28, 0xb5, 0x2f, 0xfd])), 'zstd');
    assert.equal(detectCompression(Buffer.from('{"Records":[]}')), 'none');
    assert.equal(detectCompression(Buffer.from([0x28, 0xb5, 0x2f])), 'none');
    assert.equal(detectCompression(Buffer.alloc(0)), 'none');
  });
});

describe('decompress', () => {
  test('plain content passes through, counted', async () => {
    const input = text(100_000, 1);
    const stream = decompress(source(chunksOf(input, 1000)));
    const { data, error } = await collect(stream);
    assert.equal(error, undefined);
    assert.ok(data.equals(input));
    assert.equal(stream.compression, 'none');
    assert.equal(stream.compressedBytes, input.length);
    assert.equal(stream.decompressedBytes, input.length);
  });

  test('plain content shorter than the magic, and empty content', async () => {
    assert.equal((await collect(decompress(source([Buffer.from('ab')])))).data.toString(), 'ab');
    const empty = decompress(source([]));
    assert.equal((await collect(empty)).data.length, 0);
    assert.equal(empty.compression, 'none');
  });

  test('multi-member gzip, as AWS writes it, fed one byte then in odd slices', async () => {
    const parts = [text(50_000, 2), text(3, 3), text(300_000, 4)];
    const gz = Buffer.concat(parts.map((p) => gzipSync(p)));
    for (const size of [1, 1000, 65_537, gz.length]) {
      const chunks =
        size === 1 ? chunksOf(gz.subarray(0, 300), 1).concat([gz.subarray(300)]) : chunksOf(gz, size);
      const stream = decompress(source(chunks));
      const { data, error } = await collect(stream);
      assert.equal(error, undefined);
      assert.ok(data.equals(Buffer.concat(parts)), `chunk size ${size}`);
      assert.equal(stream.compression, 'gzip');
      assert.equal(stream.compressedBytes, gz.length);
    }
  });

  test('truncated gzip yields everything decodable, then OBJECT_CORRUPT at the end offset', async () => {
    const first = text(200_000, 5);
    const second = text(200_000, 6);
    const gz = Buffer.concat([gzipSync(first), gzipSync(second)]);
    const cut = gz.length - 5000;
    const { data, error } = await collect(
      decompress(source(chunksOf(gz.subarray(0, cut), 4096)), { source: 's3://bucket/key' }),
    );
    assertCorrupt(error, cut, 'gzip');
    assert.match((error as Error).message, /truncated gzip data/);
    // All of the first member and most of the second came out, unaltered.
    assert.ok(data.length > first.length + 100_000);
    assert.ok(data.equals(Buffer.concat([first, second]).subarray(0, data.length)));
  });

  test('corrupt gzip member header: an unaltered prefix, then OBJECT_CORRUPT naming the compressed range', async () => {
    const first = text(400_000, 7);
    const gz = Buffer.concat([gzipSync(first), gzipSync(text(1000, 16))]);
    const corruptAt = gz.length - gzipSync(text(1000, 16)).length + 2;
    gz[corruptAt] = 7; // compression method: not deflate
    const { data, error } = await collect(decompress(source([gz]), { source: 's3://bucket/key' }));
    assert.ok(isCollectorError(error, 'OBJECT_CORRUPT'));
    const { offset, offsetEnd } = error.details as { offset: number; offsetEnd: number };
    assert.ok(offset <= corruptAt && corruptAt < offsetEnd, `range ${offset}-${offsetEnd}`);
    assert.match(error.message, /corrupt gzip data between compressed bytes \d+ and \d+ /);
    // Only the failing slice's output is held back: all that the bytes before it decode to came out.
    const beforeSlice = gunzipSync(gz.subarray(0, offset), { finishFlush: constants.Z_SYNC_FLUSH });
    assert.ok(beforeSlice.length > 0 && data.length >= beforeSlice.length, `${data.length} bytes out`);
    assert.ok(data.equals(first.subarray(0, data.length)));
  });

  test('corrupt gzip content fails the member checksum', async () => {
    const gz = Buffer.from(gzipSync(text(100_000, 17)));
    for (let i = 0; i < 64; i++) gz[Math.floor(gz.length / 2) + i] = 0xff;
    const { error } = await collect(decompress(source(chunksOf(gz, 4096)), { source: 's3://bucket/key' }));
    assert.ok(isCollectorError(error, 'OBJECT_CORRUPT'));
  });

  test('garbage after a gzip member is corruption, not silently ignored', async () => {
    const gz = Buffer.concat([gzipSync(text(1000, 8)), Buffer.from('not gzip at all')]);
    const { error } = await collect(decompress(source([gz]), { source: 's3://bucket/key' }));
    assert.ok(isCollectorError(error, 'OBJECT_CORRUPT'));
  });

  test('zstd made by the zstd tool (compressed blocks, checksum), one or two frames', async () => {
    const zst = fixture('cloudtrail-file.json.zst');
    const json = fixture('cloudtrail-file.json.txt');
    const one = decompress(source(chunksOf(zst, 100)));
    assert.ok((await collect(one)).data.equals(json));
    assert.equal(one.compression, 'zstd');
    const two = await collect(decompress(source(chunksOf(Buffer.concat([zst, zst]), 3))));
    assert.equal(two.error, undefined);
    assert.ok(two.data.equals(Buffer.concat([json, json])));
  });

  test('zstd: many blocks and frames, any chunking', async () => {
    const parts = [text(300_000, 9), text(10, 10), text(200_000, 11)];
    const zst = Buffer.concat(parts.map((p) => zstdRawFrame(p, 50_000)));
    for (const size of [1000, 65_536, zst.length]) {
      const { data, error } = await collect(decompress(source(chunksOf(zst, size))));
      assert.equal(error, undefined);
      assert.ok(data.equals(Buffer.concat(parts)), `chunk size ${size}`);
    }
  });

  test('truncated zstd yields the complete blocks, then OBJECT_CORRUPT at the end offset', async () => {
    const input = text(300_000, 12).subarray(0, 300_000);
    const zst = zstdRawFrame(input, 50_000);
    const cut = zst.length - 10;
    const { data, error } = await collect(
      decompress(source(chunksOf(zst.subarray(0, cut), 8192)), { source: 's3://bucket/key' }),
    );
    assertCorrupt(error, cut, 'zstd');
    assert.equal(data.length, 250_000);
    assert.ok(data.equals(input.subarray(0, data.length)));
  });

  test('corrupt zstd (a bad second frame) fails after the first frame', async () => {
    const first = text(1000, 13);
    const zst = Buffer.concat([
      zstdRawFrame(first),
      Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0x08, 0x58, 0, 0, 0]),
    ]);
    const { data, error } = await collect(decompress(source([zst]), { source: 's3://bucket/key' }));
    assert.ok(isCollectorError(error, 'OBJECT_CORRUPT'));
    assert.equal(error.details.compression, 'zstd');
    assert.ok(data.equals(first));
  });

  test('an error of the source itself is rethrown unchanged', async () => {
    const failure = new Error('socket hang up');
    async function* failing(): AsyncGenerator<Uint8Array> {
      yield gzipSync(text(1000, 14)).subarray(0, 100);
      throw failure;
    }
    const { error } = await collect(decompress(failing()));
    assert.equal(error, failure);
  });

  test('a consumer that stops early releases the source', async () => {
    let closed = false;
    async function* body(): AsyncGenerator<Uint8Array> {
      try {
        for (const chunk of chunksOf(gzipSync(text(1_000_000, 15)), 1000)) yield chunk;
      } finally {
        closed = true;
      }
    }
    for await (const chunk of decompress(body())) {
      assert.ok(chunk.length > 0);
      break;
    }
    assert.equal(closed, true);
  });

  test('iterating twice is refused', async () => {
    const stream = decompress(source([Buffer.from('x')]));
    await collect(stream);
    assert.throws(() => stream[Symbol.asyncIterator](), /only once/);
  });
});
