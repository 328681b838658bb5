import { createGunzip, type Gunzip } from 'node:zlib';
import { Decompress as ZstdDecompress } from 'fzstd';
import type { CollectorError } from '../core/errors.js';
import { corruptAt } from './corrupt.js';

export type Compression = 'gzip' | 'zstd' | 'none';

/** Compression of content starting with `head` (at least 4 bytes unless the content is shorter). */
export function detectCompression(head: Uint8Array): Compression {
  if (head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b) return 'gzip';
  if (head.length >= 4 && head[0] === 0x28 && head[1] === 0xb5 && head[2] === 0x2f && head[3] === 0xfd) {
    return 'zstd';
  }
  return 'none';
}

export interface DecompressOptions {
  /** Names the input in error messages, e.g. `s3://bucket/key`. */
  source?: string;
}

/**
 * Compressed bytes handed to the decoder at a time: bounds memory and locates errors. Its output
 * (SLICE times the compression ratio: about 128 KiB for flow logs, 400 KiB for CloudTrail) should
 * fit one GUNZIP_CHUNK, so that a slice is decoded in one trip to the thread pool.
 */
const SLICE = 32 * 1024;
/**
 * zlib output chunk size. Each chunk is one trip to the thread pool and back, and every trip waits
 * for the main thread between two of its tasks: with 128 KiB slices in 256 KiB chunks, CloudTrail
 * took six trips a slice and the main thread idled 12 % of the time; about one trip a slice (zlib
 * fills a chunk across writes) keeps it busy 94 % and reads CloudTrail about 20 % faster, at the
 * same peak RSS for one object (bench/s3-objects.ts). The cost: each object being read holds up to
 * two chunks (2 MiB) of zlib output.
 */
const GUNZIP_CHUNK = 1024 * 1024;
/**
 * Compressed slices handed to zlib ahead of the consumer. With one, zlib sat idle whenever the
 * consumer was slow to ask for more (e.g. waiting on delivery); two keep the thread pool busy, at
 * the cost of one more slice of output held (at most SLICE times the compression ratio).
 */
const GUNZIP_AHEAD = 2;

/**
 * Decompressed content of a byte stream (e.g. an S3 GetObject body), by magic bytes: gzip (all
 * members of a multi-member file, as AWS writes them), zstd (all frames), or plain. Iterate it once.
 *
 * A truncated or corrupt stream throws an OBJECT_CORRUPT CollectorError naming the compressed byte
 * offset, after yielding what decoded before the problem. For gzip, node's zlib detects corruption
 * per input slice: the offset is where that slice starts (details.offset) and ends (details.offsetEnd),
 * and output zlib held back in the failing step (that slice's, at most one 1 MiB chunk) is not yielded. A
 * truncated gzip stream yields everything. Errors of the source itself are rethrown unchanged.
 *
 * gzip runs in node's thread pool, GUNZIP_AHEAD slices ahead of the consumer, so decompressing the
 * next slices can overlap with parsing the current one when a core is free.
 */
export class DecompressedStream implements AsyncIterable<Buffer> {
  private readonly input: AsyncIterable<Uint8Array>;
  private readonly source: string;
  private detected: Compression | undefined;
  private consumed = 0;
  private produced = 0;
  private started = false;

  constructor(input: AsyncIterable<Uint8Array>, options: DecompressOptions = {}) {
    this.input = input;
    this.source = options.source ?? 'object';
  }

  /** Known once iteration has read the first bytes. */
  get compression(): Compression | undefined {
    return this.detected;
  }

  /** Compressed bytes read from the source so far. */
  get compressedBytes(): number {
    return this.consumed;
  }

  /** Decompressed bytes yielded so far. */
  get decompressedBytes(): number {
    return this.produced;
  }

  [Symbol.asyncIterator](): AsyncIterator<Buffer> {
    if (this.started) throw new Error('DecompressedStream can be iterated only once');
    this.started = true;
    return this.run();
  }

  private async *run(): AsyncGenerator<Buffer> {
    const slices = this.slices();
    try {
      // Sniff: up to 4 bytes decide the format.
      const head: Buffer[] = [];
      let headLength = 0;
      let first = await slices.next();
      while (!first.done && headLength + first.value.length < 4) {
        head.push(first.value);
        headLength += first.value.length;
        first = await slices.next();
      }
      if (!first.done) head.push(first.value);
      const start = Buffer.concat(head);
      this.detected = detectCompression(start);
      const rest = this.restAfter(start, first.done === true, slices);
      if (this.detected === 'gzip') yield* this.gunzip(rest);
      else if (this.detected === 'zstd') yield* this.unzstd(rest);
      else yield* this.count(rest);
    } finally {
      await slices.return(undefined);
    }
  }

  /** The source as Buffers of at most SLICE bytes, counting consumed bytes. */
  private async *slices(): AsyncGenerator<Buffer> {
    for await (const chunk of this.input) {
      const buf = Buffer.isBuffer(chunk)
        ? chunk
        : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
      for (let at = 0; at < buf.length; at += SLICE) {
        const slice = buf.subarray(at, at + SLICE);
        this.consumed += slice.length;
        yield slice;
      }
    }
  }

  private async *restAfter(
    start: Buffer,
    done: boolean,
    slices: AsyncGenerator<Buffer>,
  ): AsyncGenerator<Buffer> {
    if (start.length > 0) yield start;
    if (done) return;
    for (let next = await slices.next(); !next.done; next = await slices.next()) yield next.value;
  }

  private async *count(input: AsyncGenerator<Buffer>): AsyncGenerator<Buffer> {
    for await (const chunk of input) {
      this.produced += chunk.length;
      yield chunk;
    }
  }

  private async *unzstd(input: AsyncGenerator<Buffer>): AsyncGenerator<Buffer> {
    const out: Buffer[] = [];
    const decoder = new ZstdDecompress((data) => {
      if (data.length > 0) out.push(Buffer.from(data.buffer, data.byteOffset, data.byteLength));
    });
    let failure: CollectorError | undefined;
    for await (const chunk of input) {
      try {
        decoder.push(chunk);
      } catch (err) {
        failure = this.corrupt('zstd', this.consumed - chunk.length, this.consumed, err);
      }
      yield* this.drain(out);
      if (failure) throw failure;
    }
    try {
      decoder.push(new Uint8Array(0), true);
    } catch (err) {
      failure = this.truncated('zstd', err);
    }
    yield* this.drain(out);
    if (failure) throw failure;
  }

  private async *gunzip(input: AsyncGenerator<Buffer>): AsyncGenerator<Buffer> {
    const zlib = createGunzip({ chunkSize: GUNZIP_CHUNK });
    const out: Buffer[] = [];
    // Output is taken in flowing mode as zlib produces it: nothing waits in the stream's buffer, so
    // nothing emitted is dropped when zlib fails and destroys itself. Errors are taken by write()
    // and finish(); this listener only keeps an 'error' event from being unhandled.
    zlib.on('data', (data: Buffer) => out.push(data));
    zlib.on('error', () => {});
    // Slices written and not yet awaited, oldest first. zlib handles writes in order and calls
    // each one back before starting the next, so the first to report an error is the failing one.
    const pending: { done: Promise<Error | undefined>; start: number; end: number }[] = [];
    try {
      for await (const chunk of input) {
        pending.push({ done: write(zlib, chunk), start: this.consumed - chunk.length, end: this.consumed });
        if (pending.length < GUNZIP_AHEAD) continue;
        const oldest = pending.shift()!;
        const err = await oldest.done;
        if (err) {
          yield* this.drain(out);
          throw this.corrupt('gzip', oldest.start, oldest.end, err);
        }
        // zlib decodes the slices still pending in the thread pool while the consumer handles this output.
        yield* this.drain(out.splice(0));
      }
      let last = { start: 0, end: 0 };
      for (const slice of pending) {
        last = slice;
        const err = await slice.done;
        if (err) {
          yield* this.drain(out);
          throw this.corrupt('gzip', slice.start, slice.end, err);
        }
      }
      const endError = await finish(zlib);
      yield* this.drain(out);
      if (endError) {
        // zlib reports input that stops inside a member as Z_BUF_ERROR when the stream ends.
        throw (endError as { code?: unknown }).code === 'Z_BUF_ERROR'
          ? this.truncated('gzip', endError)
          : this.corrupt('gzip', last.start, last.end, endError);
      }
    } finally {
      zlib.destroy();
    }
  }

  private *drain(chunks: Buffer[]): Generator<Buffer> {
    for (const chunk of chunks) {
      this.produced += chunk.length;
      yield chunk;
    }
    chunks.length = 0;
  }

  private corrupt(format: Compression, from: number, to: number, cause: unknown): CollectorError {
    const reason = cause instanceof Error ? cause.message : String(cause);
    return corruptAt(
      this.source,
      from,
      `corrupt ${format} data between compressed bytes ${from} and ${to} (${this.produced} bytes decompressed before): ${reason}`,
      { compression: format, problem: 'corrupt', offsetEnd: to, decompressedBytes: this.produced },
      cause,
    );
  }

  private truncated(format: Compression, cause: unknown): CollectorError {
    return corruptAt(
      this.source,
      this.consumed,
      `truncated ${format} data: the content ends after ${this.consumed} compressed bytes (${this.produced} bytes decompressed)`,
      { compression: format, problem: 'truncated', decompressedBytes: this.produced },
      cause,
    );
  }
}

/** decompress(source) — see DecompressedStream. */
export function decompress(
  input: AsyncIterable<Uint8Array>,
  options: DecompressOptions = {},
): DecompressedStream {
  return new DecompressedStream(input, options);
}

/** Writes one slice; resolves when zlib processed it, with the error if it failed (never rejects). */
function write(zlib: Gunzip, chunk: Buffer): Promise<Error | undefined> {
  return new Promise((resolve) => {
    // On a data error zlib emits 'error' and never calls the write callback.
    const onError = (err: Error): void => resolve(err);
    zlib.once('error', onError);
    zlib.write(chunk, (err) => {
      zlib.off('error', onError);
      resolve(err ?? undefined);
    });
  });
}

/** Ends the input; resolves once every output byte was emitted, with the error if it failed. */
function finish(zlib: Gunzip): Promise<Error | undefined> {
  return new Promise((resolve) => {
    zlib.once('error', resolve);
    zlib.once('end', () => resolve(undefined));
    zlib.end();
  });
}
