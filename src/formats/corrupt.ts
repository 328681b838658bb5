import { CollectorError, ErrorCodes, type ErrorCode } from '../core/errors.js';

/**
 * OBJECT_CORRUPT error for a problem found at a byte offset of an object's content. `source`
 * names the object (e.g. `s3://bucket/key`); parsers take it as an option because they never see
 * where their bytes come from.
 */
export function corruptAt(
  source: string | undefined,
  offset: number,
  message: string,
  details: Record<string, unknown> = {},
  cause?: unknown,
): CollectorError {
  return contentError(ErrorCodes.OBJECT_CORRUPT, source, offset, message, details, cause);
}

/**
 * OBJECT_REJECTED error: the content is not of the parser's format at all (e.g. no VPC Flow Logs
 * header). Unlike corruption, reading it with the right format may work: its message is kept.
 */
export function rejectedAt(
  source: string | undefined,
  offset: number,
  message: string,
  details: Record<string, unknown> = {},
): CollectorError {
  return contentError(ErrorCodes.OBJECT_REJECTED, source, offset, message, details);
}

function contentError(
  code: ErrorCode,
  source: string | undefined,
  offset: number,
  message: string,
  details: Record<string, unknown>,
  cause?: unknown,
): CollectorError {
  return new CollectorError(code, `${source ?? 'object'}: ${message} (at byte ${offset})`, {
    cause,
    details: { ...(source === undefined ? {} : { source }), offset, ...details },
  });
}

/** A byte for an error message: the character when printable ASCII, else its hex code. */
export function describeByte(b: number): string {
  return b >= 0x20 && b < 0x7f ? `'${String.fromCharCode(b)}'` : `byte 0x${b.toString(16).padStart(2, '0')}`;
}

/**
 * What a streaming parser emits when content may turn out corrupt midway: what was read before
 * the problem is returned first; the error is thrown then if nothing came before it, else by the
 * next call.
 */
export class DeferredCorruption<T> {
  private out: T[] = [];
  private error: CollectorError | undefined;

  push(item: T): void {
    this.out.push(item);
  }

  /** Runs a parsing step and returns what it emitted. */
  run(step: () => void): T[] {
    if (this.error) throw this.error;
    try {
      step();
    } catch (err) {
      if (!(err instanceof CollectorError)) throw err;
      this.error = err;
      if (this.out.length === 0) throw err;
    }
    const out = this.out;
    this.out = [];
    return out;
  }
}
