/**
 * Buffer's per-encoding methods (on Buffer.prototype since early Node, not documented, untyped in
 * @types/node): buf.write() and buf.toString() spend about as much in argument handling as in
 * copying a short message. Measured on Node 20 (2 M calls, a 100-byte JSON message, 2 shared
 * cores, two runs): latin1Write 103 ns vs write(..., 'latin1') 129–147 ns; utf8Slice 99–169 ns vs
 * toString('utf8', ...) 161–218 ns; utf8Write 119–144 ns vs write(..., 'utf8') 95–112 ns (no gain;
 * kept beside latin1Write so the encoder picks between two calls of the same kind).
 *
 * `BUFFER_FAST_PATHS` says whether this Node has them (test/core/buffer-fast-paths.test.ts fails
 * when a release drops or changes them); without them every function falls back to the documented
 * method, with the same result.
 */
type RawBuffer = Buffer & {
  latin1Write(text: string, offset: number): number;
  utf8Write(text: string, offset: number): number;
  utf8Slice(start: number, end: number): string;
};

const raw = Buffer.prototype as Partial<RawBuffer>;

export const BUFFER_FAST_PATHS =
  typeof raw.latin1Write === 'function' &&
  typeof raw.utf8Write === 'function' &&
  typeof raw.utf8Slice === 'function';

/** buf.write(text, offset, 'latin1'): the bytes written. */
export const latin1Write: (buf: Buffer, text: string, offset: number) => number = BUFFER_FAST_PATHS
  ? (b, t, o) => (b as RawBuffer).latin1Write(t, o)
  : (b, t, o) => b.write(t, o, 'latin1');

/** buf.write(text, offset, 'utf8'): the bytes written. */
export const utf8Write: (buf: Buffer, text: string, offset: number) => number = BUFFER_FAST_PATHS
  ? (b, t, o) => (b as RawBuffer).utf8Write(t, o)
  : (b, t, o) => b.write(t, o, 'utf8');

/** buf.toString('utf8', start, end). */
export const utf8Slice: (buf: Buffer, start: number, end: number) => string = BUFFER_FAST_PATHS
  ? (b, s, e) => (b as RawBuffer).utf8Slice(s, e)
  : (b, s, e) => b.toString('utf8', s, e);
