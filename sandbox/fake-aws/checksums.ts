import { createHash } from 'node:crypto';
import { crc32 } from 'node:zlib';

/** The flexible-checksum algorithms S3 accepts (x-amz-checksum-<algorithm>). */
export const CHECKSUM_ALGORITHMS = ['CRC32', 'CRC32C', 'CRC64NVME', 'SHA1', 'SHA256'] as const;
export type ChecksumAlgorithm = (typeof CHECKSUM_ALGORITHMS)[number];

/** Base64 of the big-endian digest, as S3 writes checksums in headers. */
export function checksum(algorithm: ChecksumAlgorithm, data: Buffer): string {
  switch (algorithm) {
    case 'CRC32':
      return uint32(crc32(data));
    case 'CRC32C':
      return uint32(crc32c(data));
    case 'CRC64NVME':
      return crc64nvme(data);
    case 'SHA1':
      return createHash('sha1').update(data).digest('base64');
    case 'SHA256':
      return createHash('sha256').update(data).digest('base64');
  }
}

const uint32 = (n: number): string => {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n >>> 0);
  return b.toString('base64');
};

/** Table for a reflected CRC-32 polynomial. */
function table32(poly: number): Uint32Array {
  const t = new Uint32Array(256);
  for (let i = 0; i < 256; i++) {
    let c = i;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ poly : c >>> 1;
    t[i] = c >>> 0;
  }
  return t;
}

const CRC32C_TABLE = table32(0x82f63b78);

function crc32c(data: Buffer): number {
  let c = 0xffffffff;
  for (const byte of data) c = (CRC32C_TABLE[(c ^ byte) & 0xff] as number) ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** CRC-64/NVME (reflected polynomial 0x9a6c9329ac4bc9b5) as two 32-bit halves, avoiding BigInt per byte. */
const [CRC64_HI, CRC64_LO] = ((): [Uint32Array, Uint32Array] => {
  const hi = new Uint32Array(256);
  const lo = new Uint32Array(256);
  const polyHi = 0x9a6c9329;
  const polyLo = 0xac4bc9b5;
  for (let i = 0; i < 256; i++) {
    let h = 0;
    let l = i;
    for (let k = 0; k < 8; k++) {
      const carry = l & 1;
      l = ((l >>> 1) | ((h & 1) << 31)) >>> 0;
      h = h >>> 1;
      if (carry) {
        h = (h ^ polyHi) >>> 0;
        l = (l ^ polyLo) >>> 0;
      }
    }
    hi[i] = h;
    lo[i] = l;
  }
  return [hi, lo];
})();

function crc64nvme(data: Buffer): string {
  let h = 0xffffffff;
  let l = 0xffffffff;
  for (const byte of data) {
    const i = (l ^ byte) & 0xff;
    l = (((l >>> 8) | (h << 24)) ^ (CRC64_LO[i] as number)) >>> 0;
    h = ((h >>> 8) ^ (CRC64_HI[i] as number)) >>> 0;
  }
  const out = Buffer.alloc(8);
  out.writeUInt32BE((h ^ 0xffffffff) >>> 0, 0);
  out.writeUInt32BE((l ^ 0xffffffff) >>> 0, 4);
  return out.toString('base64');
}

/** A decoded `Content-Encoding: aws-chunked` body and its trailing headers. */
export interface ChunkedBody {
  data: Buffer;
  trailers: Record<string, string>;
}

/**
 * Decodes aws-chunked framing: `<hex size>[;chunk-signature=...]\r\n<data>\r\n` repeated, a zero
 * chunk, then trailer lines (`x-amz-checksum-crc32:...`) and an empty line. Throws on bad framing.
 */
export function decodeAwsChunked(body: Buffer): ChunkedBody {
  const parts: Buffer[] = [];
  let pos = 0;
  const line = (): string => {
    const end = body.indexOf('\r\n', pos);
    if (end < 0) throw new SyntaxError('aws-chunked body ends inside a line');
    const text = body.subarray(pos, end).toString('latin1');
    pos = end + 2;
    return text;
  };
  for (;;) {
    const header = line();
    const size = parseInt(header.split(';')[0] ?? '', 16);
    if (!Number.isInteger(size) || size < 0)
      throw new SyntaxError(`bad aws-chunked chunk header "${header}"`);
    if (size === 0) break;
    if (pos + size + 2 > body.length || body.toString('latin1', pos + size, pos + size + 2) !== '\r\n') {
      throw new SyntaxError('aws-chunked chunk is shorter than its declared size');
    }
    parts.push(body.subarray(pos, pos + size));
    pos += size + 2;
  }
  const trailers: Record<string, string> = {};
  while (pos < body.length) {
    const text = line();
    if (text === '') break;
    const colon = text.indexOf(':');
    if (colon > 0) trailers[text.slice(0, colon).trim().toLowerCase()] = text.slice(colon + 1).trim();
  }
  return { data: Buffer.concat(parts), trailers };
}
