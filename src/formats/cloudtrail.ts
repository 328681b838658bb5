import { isCollectorError, type CollectorError } from '../errors.js';
import { corruptAt, describeByte } from './corrupt.js';

/**
 * Default `s3_file_type_filter`: CloudTrail log files, not digests (`CloudTrail-Digest/`, a
 * different JSON shape) nor Insights files (`CloudTrail-Insight/`). Matches trail keys with or
 * without an S3 key prefix, and organization trails (`AWSLogs/<o-id>/<account>/CloudTrail/...`):
 * `[prefix/]AWSLogs/[o-xxxxxxxxxx/]<account>/CloudTrail/<region>/YYYY/MM/DD/<account>_CloudTrail_<region>_<YYYYMMDDTHHmmZ>_<random>.json.gz`.
 * Tested against the decoded object key.
 */
export const DEFAULT_CLOUDTRAIL_KEY_FILTER = String.raw`(?:^|/)AWSLogs/(?:o-[a-z0-9]{10,32}/)?\d{12}/CloudTrail/[a-z0-9-]+/\d{4}/\d{2}/\d{2}/\d{12}_CloudTrail_[a-z0-9-]+_\d{8}T\d{4}Z_[A-Za-z0-9]+\.json\.gz$`;

/** One CloudTrail record, with the top-level fields tagging needs (no JSON.parse per record). */
export interface CloudTrailRecord {
  /** The record as compact JSON: no whitespace outside strings, hence no raw newline. */
  readonly json: string;
  readonly eventSource: string | undefined;
  readonly eventName: string | undefined;
  readonly awsRegion: string | undefined;
  readonly recipientAccountId: string | undefined;
}

export interface CloudTrailParseOptions {
  /** Names the input in error messages, e.g. `s3://bucket/key`. */
  source?: string;
  /**
   * Most bytes of one record held across chunks (default 32 MiB; CloudTrail events are at most a few
   * hundred KB): beyond, the content is taken as corrupt rather than buffered without end.
   */
  maxRecordBytes?: number;
}

/**
 * Streaming splitter for CloudTrail log files (`{"Records":[{...},...]}`): push() decompressed
 * chunks, get each element of `Records` as compact JSON as soon as it is complete; the document is
 * never held whole. `Records` may come after other top-level keys; other keys are skipped.
 *
 * The input is fully validated as JSON (strings, escapes, numbers, literals, nesting). On invalid
 * JSON an OBJECT_CORRUPT CollectorError carrying the byte offset (in the decompressed content) is
 * thrown — by the same push() when it completed no record before the problem, else by the next
 * push() or end(), after the records were returned. end() also throws if the document is truncated
 * or has no `Records` array (e.g. a digest file). Always call end(). Invalid UTF-8 inside strings is
 * not checked: it decodes to U+FFFD.
 */
export class CloudTrailLogSplitter {
  private readonly scanner: JsonRecordScanner;

  constructor(options: CloudTrailParseOptions = {}) {
    this.scanner = new JsonRecordScanner(
      true,
      options.source ?? 'CloudTrail log file',
      options.maxRecordBytes ?? DEFAULT_MAX_RECORD_BYTES,
    );
  }

  push(chunk: Buffer): CloudTrailRecord[] {
    return this.scanner.push(chunk);
  }

  end(): CloudTrailRecord[] {
    return this.scanner.end();
  }

  /** Records emitted so far. */
  get records(): number {
    return this.scanner.records;
  }
}

/**
 * One LookupEvents `CloudTrailEvent` (a JSON object as a string) in the same compact form and with
 * the same extracted fields as records from S3 files. Throws an OBJECT_CORRUPT CollectorError if it
 * is not a single valid JSON object.
 */
export function compactCloudTrailEvent(event: string, source = 'CloudTrail event'): CloudTrailRecord {
  const scanner = new JsonRecordScanner(false, source, DEFAULT_MAX_RECORD_BYTES);
  const records = scanner.push(Buffer.from(event, 'utf8'));
  records.push(...scanner.end());
  return records[0] as CloudTrailRecord;
}

/**
 * Any single JSON object in compact form: whitespace outside strings removed, numbers and strings
 * exactly as written (a JSON.parse/stringify round trip would round integers above 2^53).
 * Throws an OBJECT_CORRUPT CollectorError if `text` is not one valid JSON object.
 */
export function compactJsonObject(text: string, source: string): string {
  return compactCloudTrailEvent(text, source).json;
}

// Parser states. Those from ESCAPE on are scalar states, handled by scalar().
const VALUE = 0; // a value is expected
const ARRAY_FIRST = 1; // after '[': a value or ']'
const OBJECT_FIRST = 2; // after '{': a key or '}'
const KEY = 3; // after ',' in an object: a key
const COLON = 4;
const AFTER = 5; // after a value: ',' or the closing bracket
const DONE = 6; // the top-level value is complete
const STRING = 7;
const ESCAPE = 8; // after '\' in a string
const UNICODE = 9; // inside \uXXXX
const NUMBER = 10;
const LITERAL = 11; // inside true/false/null

// Number sub-states (JSON grammar: -?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?).
const N_MINUS = 0;
const N_ZERO = 1;
const N_INT = 2;
const N_DOT = 3;
const N_FRAC = 4;
const N_E = 5;
const N_ESIGN = 6;
const N_EXP = 7;

const OBJECT = 1;
const ARRAY = 2;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;

/** Top-level record keys captured while scanning, in CloudTrailRecord order. */
const FIELD_KEYS = ['eventSource', 'eventName', 'awsRegion', 'recipientAccountId'].map((k) => Buffer.from(k));
const RECORDS_KEY = Buffer.from('Records');
/** pendingField: the key just read was `Records` at the top level (files). */
const RECORDS = -2;
const NONE = -1;
const DEFAULT_MAX_RECORD_BYTES = 32 * 1024 * 1024;

const LITERALS: Record<number, Buffer> = {
  0x74: Buffer.from('true'),
  0x66: Buffer.from('false'),
  0x6e: Buffer.from('null'),
};

function isWhitespace(c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
}

function isHex(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66);
}

/** A byte-level JSON scanner that emits the objects at one place of the document as records. */
class JsonRecordScanner {
  /** File mode: records are the elements of the top-level `Records` array; else the document is one record. */
  private readonly file: boolean;
  private readonly source: string;
  /** Depth of the container holding records: the Records array (2) or the document (0). */
  private readonly recordParent: number;
  /** Most bytes of a record, or of a captured key, held across chunks. */
  private readonly maxHeldBytes: number;

  private state = VALUE;
  private readonly stack: number[] = [];
  /** Bytes of the previous chunks. */
  private offset = 0;
  private error: CollectorError | undefined;
  private sawRecords = false;
  private inRecords = false;
  private emitted = 0;

  private numberState = N_MINUS;
  private literal: Buffer = LITERALS[0x74] as Buffer;
  private literalPos = 0;
  private unicodeLeft = 0;

  // The string being read: whether it is a key, and whether its content is captured.
  private stringIsKey = false;
  private capturing = false;
  private captureStart = 0;
  private captureParts: Buffer[] = [];
  private captureBytes = 0;
  private captureEscaped = false;
  private pendingField = NONE;

  // The record being read.
  private inRecord = false;
  private recordStart = 0;
  private recordParts: Buffer[] = [];
  private recordBytes = 0;
  /** Whitespace outside strings was seen in the record: compact it before emitting. */
  private dirty = false;
  private fields: (string | undefined)[] = [undefined, undefined, undefined, undefined];

  constructor(file: boolean, source: string, maxHeldBytes: number) {
    this.file = file;
    this.source = source;
    this.maxHeldBytes = maxHeldBytes;
    this.recordParent = file ? 2 : 0;
  }

  push(chunk: Buffer): CloudTrailRecord[] {
    if (this.error) throw this.error;
    const out: CloudTrailRecord[] = [];
    try {
      this.scan(chunk, out);
    } catch (err) {
      if (!isCollectorError(err)) throw err;
      this.error = err;
      // The records completed before the problem go out first; the error follows on the next call.
      if (out.length === 0) throw err;
      return out;
    }
    if (this.inRecord) {
      this.recordParts.push(Buffer.from(chunk.subarray(this.recordStart)));
      this.recordBytes += chunk.length - this.recordStart;
      this.recordStart = 0;
    }
    if (this.capturing) {
      this.captureParts.push(Buffer.from(chunk.subarray(this.captureStart)));
      this.captureBytes += chunk.length - this.captureStart;
      this.captureStart = 0;
    }
    this.offset += chunk.length;
    const limit = this.maxHeldBytes;
    if (this.recordBytes > limit || this.captureBytes > limit) {
      const what = this.recordBytes > limit ? `record #${this.emitted + 1}` : 'a key';
      this.error = corruptAt(this.source, this.offset, `${what} is longer than ${limit} bytes`, {
        records: this.emitted,
      });
      if (out.length === 0) throw this.error;
    }
    return out;
  }

  end(): CloudTrailRecord[] {
    if (this.error) throw this.error;
    let problem: string | undefined;
    // The document is an object, so it can only be complete in state DONE.
    if (this.state !== DONE) {
      problem =
        this.state === VALUE && this.stack.length === 0
          ? 'empty: no JSON document'
          : `truncated: the JSON document ends inside ${this.inRecord ? `record #${this.emitted + 1}` : 'the document'}`;
    } else if (this.file && !this.sawRecords) {
      problem =
        'no top-level "Records" array: not a CloudTrail log file (digest files are excluded by s3_file_type_filter)';
    }
    if (problem !== undefined) {
      this.error = corruptAt(this.source, this.offset, problem, { records: this.emitted });
      throw this.error;
    }
    return [];
  }

  get records(): number {
    return this.emitted;
  }

  private fail(at: number, message: string): never {
    throw corruptAt(this.source, this.offset + at, `invalid JSON: ${message}`, { records: this.emitted });
  }

  private numberEnds(): boolean {
    const s = this.numberState;
    return s === N_ZERO || s === N_INT || s === N_FRAC || s === N_EXP;
  }

  private scan(buf: Buffer, out: CloudTrailRecord[]): void {
    const n = buf.length;
    const stack = this.stack;
    // The state lives in a local while bytes are scanned; rare cases go through methods, which
    // read and set this.state.
    let state = this.state;
    let i = 0;
    while (i < n) {
      let c = buf[i] as number;
      if (state === STRING) {
        // Hot loop: most bytes of a CloudTrail file are inside strings.
        while (c !== QUOTE && c !== BACKSLASH && c >= 0x20) {
          if (++i === n) {
            this.state = state;
            return;
          }
          c = buf[i] as number;
        }
        if (c === QUOTE) {
          if (this.capturing) {
            this.state = state;
            this.endCapture(buf, i);
          }
          state = this.stringIsKey ? COLON : AFTER;
        } else if (c === BACKSLASH) {
          state = ESCAPE;
          this.captureEscaped = true;
        } else {
          this.fail(i, `control character ${describeByte(c)} inside a string`);
        }
        i++;
        continue;
      }
      if (state >= ESCAPE) {
        this.state = state;
        i = this.scalar(buf, i, c);
        state = this.state;
        continue;
      }
      if (c <= 0x20) {
        // Every structural byte is above 0x20: one comparison takes whitespace off the common path.
        if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09)
          this.fail(i, `unexpected ${describeByte(c)}`);
        if (this.inRecord) this.dirty = true;
        i++;
        continue;
      }
      switch (state) {
        case COLON:
          if (c !== 0x3a) this.fail(i, `expected ':', got ${describeByte(c)}`);
          state = VALUE;
          break;
        case AFTER: {
          const top = stack[stack.length - 1];
          if (c === 0x2c) {
            state = top === OBJECT ? KEY : VALUE;
          } else if ((c === 0x7d && top === OBJECT) || (c === 0x5d && top === ARRAY)) {
            this.close(buf, i, out);
            state = this.state;
          } else {
            this.fail(i, `expected ',' or '${top === OBJECT ? '}' : ']'}', got ${describeByte(c)}`);
          }
          break;
        }
        case KEY:
        case OBJECT_FIRST:
          if (c === QUOTE) {
            this.stringIsKey = true;
            const depth = stack.length;
            // Keys worth reading: the document's (to find Records) and each record's own.
            if ((this.file && depth === 1) || (this.inRecord && depth === this.recordParent + 1))
              this.startCapture(i);
            state = STRING;
          } else if (c === 0x7d && state === OBJECT_FIRST) {
            this.close(buf, i, out);
            state = this.state;
          } else {
            this.fail(i, `expected a key string, got ${describeByte(c)}`);
          }
          break;
        case ARRAY_FIRST:
        case VALUE:
          if (state === ARRAY_FIRST && c === 0x5d) {
            this.close(buf, i, out);
            state = this.state;
          } else if (
            c === QUOTE &&
            this.pendingField === NONE &&
            stack.length !== 0 &&
            stack.length !== this.recordParent
          ) {
            // Common case inline: a string value that is neither captured nor a record.
            this.stringIsKey = false;
            state = STRING;
          } else {
            this.startValue(i, c);
            state = this.state;
          }
          break;
        default:
          this.fail(i, `unexpected ${describeByte(c)} after the end of the document`);
      }
      i++;
    }
    this.state = state;
  }

  /** A byte in an escape, number or literal; returns the index of the next byte to scan. */
  private scalar(buf: Buffer, i: number, c: number): number {
    switch (this.state) {
      case ESCAPE:
        if (c === 0x75) {
          this.state = UNICODE;
          this.unicodeLeft = 4;
        } else if (
          c === QUOTE ||
          c === BACKSLASH ||
          c === 0x2f ||
          c === 0x62 ||
          c === 0x66 ||
          c === 0x6e ||
          c === 0x72 ||
          c === 0x74
        ) {
          this.state = STRING;
        } else {
          this.fail(i, `invalid escape \\${String.fromCharCode(c)} in a string`);
        }
        return i + 1;
      case UNICODE:
        if (!isHex(c)) this.fail(i, `${describeByte(c)} in a \\u escape`);
        if (--this.unicodeLeft === 0) this.state = STRING;
        return i + 1;
      case NUMBER:
        if (this.numberByte(c)) return i + 1;
        if (!this.numberEnds()) this.fail(i, `${describeByte(c)} in a number`);
        // The byte after a number is scanned again, as structure.
        this.state = AFTER;
        return i;
      default:
        if (c !== this.literal[this.literalPos]) this.fail(i, `${describeByte(c)} in a literal`);
        if (++this.literalPos === this.literal.length) this.state = AFTER;
        return i + 1;
    }
  }

  private startValue(i: number, c: number): void {
    const depth = this.stack.length;
    const pending = this.pendingField;
    this.pendingField = NONE;
    if (depth === 0 && c !== 0x7b)
      this.fail(i, `the document is not a JSON object (starts with ${describeByte(c)})`);
    if (pending === RECORDS && c !== 0x5b) this.fail(i, '"Records" is not an array');
    if (depth === this.recordParent && !this.inRecord && (!this.file || this.inRecords)) {
      if (c !== 0x7b) this.fail(i, `record #${this.emitted + 1} is not a JSON object`);
      this.inRecord = true;
      this.recordStart = i;
      this.recordParts = [];
      this.recordBytes = 0;
      this.dirty = false;
      this.fields = [undefined, undefined, undefined, undefined];
    }
    switch (c) {
      case 0x7b:
        this.stack.push(OBJECT);
        this.state = OBJECT_FIRST;
        return;
      case 0x5b:
        this.stack.push(ARRAY);
        this.state = ARRAY_FIRST;
        if (pending === RECORDS) {
          this.inRecords = true;
          this.sawRecords = true;
        }
        return;
      case QUOTE:
        this.stringIsKey = false;
        this.state = STRING;
        if (pending >= 0) {
          this.startCapture(i);
          this.pendingField = pending;
        }
        return;
      case 0x74:
      case 0x66:
      case 0x6e:
        this.literal = LITERALS[c] as Buffer;
        this.literalPos = 1;
        this.state = LITERAL;
        return;
      default:
        if (c === 0x2d || (c >= 0x30 && c <= 0x39)) {
          this.numberState = c === 0x2d ? N_MINUS : c === 0x30 ? N_ZERO : N_INT;
          this.state = NUMBER;
          return;
        }
        this.fail(i, `expected a value, got ${describeByte(c)}`);
    }
  }

  /** Consumes one byte of a number if it belongs to it. */
  private numberByte(c: number): boolean {
    const digit = c >= 0x30 && c <= 0x39;
    switch (this.numberState) {
      case N_MINUS:
        if (!digit) return false;
        this.numberState = c === 0x30 ? N_ZERO : N_INT;
        return true;
      case N_ZERO:
      case N_INT:
        if (digit && this.numberState === N_INT) return true;
        if (c === 0x2e) this.numberState = N_DOT;
        else if (c === 0x65 || c === 0x45) this.numberState = N_E;
        else return false;
        return true;
      case N_DOT:
        if (!digit) return false;
        this.numberState = N_FRAC;
        return true;
      case N_FRAC:
        if (digit) return true;
        if (c !== 0x65 && c !== 0x45) return false;
        this.numberState = N_E;
        return true;
      case N_E:
        if (c === 0x2b || c === 0x2d) this.numberState = N_ESIGN;
        else if (digit) this.numberState = N_EXP;
        else return false;
        return true;
      case N_ESIGN:
        if (!digit) return false;
        this.numberState = N_EXP;
        return true;
      default:
        return digit;
    }
  }

  /** The string opening at `quote` is worth reading: a key we look for, or its value. */
  private startCapture(quote: number): void {
    this.capturing = true;
    this.captureStart = quote + 1;
    this.captureEscaped = false;
    if (this.captureParts.length > 0) {
      this.captureParts = [];
      this.captureBytes = 0;
    }
  }

  /** The captured string ends at `end` (its closing quote). */
  private endCapture(buf: Buffer, end: number): void {
    this.capturing = false;
    const simple = this.captureParts.length === 0 && !this.captureEscaped;
    if (this.stringIsKey) {
      this.pendingField = simple ? this.matchKey(buf, this.captureStart, end) : this.matchKeyText(buf, end);
      return;
    }
    this.fields[this.pendingField] = simple ? utf8(buf, this.captureStart, end) : this.capturedText(buf, end);
    this.pendingField = NONE;
  }

  /** The captured string's value, JSON escapes decoded, however many chunks it spans. */
  private capturedText(buf: Buffer, end: number): string {
    const raw = Buffer.concat([...this.captureParts, buf.subarray(this.captureStart, end)]).toString('utf8');
    this.captureParts = [];
    this.captureBytes = 0;
    return this.captureEscaped ? (JSON.parse(`"${raw}"`) as string) : raw;
  }

  /** pendingField for the key in buf[start, end), compared in place: no allocation per key. */
  private matchKey(buf: Buffer, start: number, end: number): number {
    const length = end - start;
    if (this.file && this.stack.length === 1)
      return sameBytes(buf, start, length, RECORDS_KEY) ? RECORDS : NONE;
    for (let f = 0; f < FIELD_KEYS.length; f++) {
      const want = FIELD_KEYS[f] as Buffer;
      if (want.length === length && sameBytes(buf, start, length, want)) return f;
    }
    return NONE;
  }

  private matchKeyText(buf: Buffer, end: number): number {
    const key = Buffer.from(this.capturedText(buf, end));
    return this.matchKey(key, 0, key.length);
  }

  private close(buf: Buffer, i: number, out: CloudTrailRecord[]): void {
    const kind = this.stack.pop();
    const depth = this.stack.length;
    this.state = depth === 0 ? DONE : AFTER;
    if (kind === ARRAY && this.inRecords && depth === 1) this.inRecords = false;
    if (kind === OBJECT && this.inRecord && depth === this.recordParent) {
      this.inRecord = false;
      out.push(this.record(buf, i + 1));
    }
  }

  private record(buf: Buffer, end: number): CloudTrailRecord {
    let json: string;
    if (this.recordParts.length === 0 && !this.dirty) {
      json = utf8(buf, this.recordStart, end);
    } else {
      const bytes = Buffer.concat([...this.recordParts, buf.subarray(this.recordStart, end)]);
      this.recordParts = [];
      json = (this.dirty ? compact(bytes) : bytes).toString('utf8');
    }
    this.emitted++;
    const [eventSource, eventName, awsRegion, recipientAccountId] = this.fields;
    return { json, eventSource, eventName, awsRegion, recipientAccountId };
  }
}

/**
 * buf.toString('utf8', start, end) without its argument handling, which costs about as much as
 * decoding a short string: five strings per record (the record and its tagging fields).
 * Buffer#utf8Slice is on Buffer.prototype since early Node, untyped in @types/node.
 */
const utf8: (buf: Buffer, start: number, end: number) => string =
  typeof (Buffer.prototype as Partial<{ utf8Slice: unknown }>).utf8Slice === 'function'
    ? (buf, start, end) =>
        (buf as Buffer & { utf8Slice(start: number, end: number): string }).utf8Slice(start, end)
    : // Not a documented API: should a Node.js release drop it, toString() takes over.
      (buf, start, end) => buf.toString('utf8', start, end);

function sameBytes(buf: Buffer, start: number, length: number, want: Buffer): boolean {
  if (length !== want.length) return false;
  for (let k = 0; k < length; k++) if (buf[start + k] !== want[k]) return false;
  return true;
}

/** The bytes of valid JSON without whitespace outside strings. */
function compact(json: Buffer): Buffer {
  const out = Buffer.allocUnsafe(json.length);
  let o = 0;
  let inString = false;
  for (let i = 0; i < json.length; i++) {
    const c = json[i] as number;
    if (inString) {
      out[o++] = c;
      if (c === BACKSLASH) out[o++] = json[++i] as number;
      else if (c === QUOTE) inString = false;
    } else if (!isWhitespace(c)) {
      out[o++] = c;
      if (c === QUOTE) inString = true;
    }
  }
  return out.subarray(0, o);
}
