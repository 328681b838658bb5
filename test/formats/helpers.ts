import { isAscii } from 'node:buffer';
import { readFileSync } from 'node:fs';
import type { CloudTrailRecord } from '../../src/formats/cloudtrail.js';

const FIXTURES = new URL('./fixtures/', import.meta.url);

export function fixture(name: string): Buffer {
  return readFileSync(new URL(name, FIXTURES));
}

/** `buf` cut into pieces of `size` bytes (the last may be shorter). */
export function chunksOf(buf: Buffer, size: number): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < buf.length; i += size) out.push(buf.subarray(i, i + size));
  return out;
}

/** Runs a chunk-push parser over `chunks` and returns everything it emitted. */
export function runParser<T>(parser: { push(chunk: Buffer): T[]; end(): T[] }, chunks: Buffer[]): T[] {
  const out: T[] = [];
  for (const chunk of chunks) out.push(...parser.push(chunk));
  out.push(...parser.end());
  return out;
}

/**
 * Checks that a parser gives `expected` whatever the chunking: the input split in two at every byte
 * position, and one byte at a time.
 */
export function forEverySplit(input: Buffer, run: (chunks: Buffer[]) => unknown, expected: unknown): void {
  for (let at = 0; at <= input.length; at++) {
    const got = run([input.subarray(0, at), input.subarray(at)]);
    if (JSON.stringify(got) !== JSON.stringify(expected)) {
      throw new Error(`output differs when the input is split at byte ${at}:\n${JSON.stringify(got)}`);
    }
  }
  const bytewise = run(chunksOf(input, 1));
  if (JSON.stringify(bytewise) !== JSON.stringify(expected)) {
    throw new Error(
      `output differs when the input is pushed one byte at a time:\n${JSON.stringify(bytewise)}`,
    );
  }
}

/** An async byte source, as an S3 GetObject body is. */
export async function* source(chunks: Uint8Array[]): AsyncGenerator<Uint8Array> {
  for (const chunk of chunks) {
    await Promise.resolve();
    yield chunk;
  }
}

export { seededRandom as random } from '../../sandbox/random.js';

/**
 * A zstd frame made of raw (stored) blocks of at most `blockSize` bytes (RFC 8878 §3.1.1): real
 * zstd framing without a compressor, so tests can build multi-block, multi-frame inputs of any size.
 */
export function zstdRawFrame(content: Buffer, blockSize = 128 * 1024): Buffer {
  // Magic, frame header descriptor (no content size, no checksum), window descriptor (2 MiB).
  const parts: Buffer[] = [Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0x00, 0x58])];
  let at = 0;
  do {
    const size = Math.min(blockSize, content.length - at);
    const last = at + size >= content.length ? 1 : 0;
    const header = (size << 3) | last; // block type 0: raw
    parts.push(Buffer.from([header & 0xff, (header >> 8) & 0xff, (header >> 16) & 0xff]));
    parts.push(content.subarray(at, at + size));
    at += size;
  } while (at < content.length);
  return Buffer.concat(parts);
}

/** Everything an async iterable of Buffers yields, and the error it ends with, if any. */
export async function collect(iterable: AsyncIterable<Buffer>): Promise<{ data: Buffer; error: unknown }> {
  const chunks: Buffer[] = [];
  try {
    for await (const chunk of iterable) chunks.push(chunk);
  } catch (error) {
    return { data: Buffer.concat(chunks), error };
  }
  return { data: Buffer.concat(chunks), error: undefined };
}

/** What the CloudTrail splitter must emit for these records: JSON.stringify is the compact form. */
export function expectedRecords(records: Record<string, unknown>[]): CloudTrailRecord[] {
  return records.map((r) => ({
    json: JSON.stringify(r),
    eventSource: r.eventSource as string | undefined,
    eventName: r.eventName as string | undefined,
    awsRegion: r.awsRegion as string | undefined,
    recipientAccountId: r.recipientAccountId as string | undefined,
    plain: isAscii(Buffer.from(JSON.stringify(r))),
  }));
}
