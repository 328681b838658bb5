import { isAscii } from 'node:buffer';
import { isCollectorError, type CollectorError } from '../core/errors.js';
import { corruptAt, describeByte } from './corrupt.js';
import { utf8Slice as utf8 } from '../core/buffer-fast-paths.js';

/**
 * One record as compact JSON, with the values of the top-level string fields the scanner was asked
 * to capture (e.g. CloudTrail's tagging fields), found while scanning (no JSON.parse per record).
 */
export interface ScannedRecord {
  /** The record as compact JSON: no whitespace outside strings, hence no raw newline. */
  readonly json: string;
  /** The captured fields, in the order they were asked for; undefined when absent or not a string. */
  readonly fields: readonly (string | undefined)[];
  /** The record is all ASCII; being compact JSON it has no raw CR or LF (CollectorEvent#plain). */
  readonly plain: boolean;
}

/**
 * Deepest nesting of arrays and objects accepted anywhere in a document (the document itself is
 * level 1; CloudTrail records nest a few tens of levels): deeper is OBJECT_CORRUPT, so a crafted
 * `[[[[...` costs a fixed amount of memory instead of a stack entry per byte.
 */
export const MAX_JSON_DEPTH = 512;

/**
 * The elements of the array at `path` (keys from the top-level object, e.g. `detail.findings`) of
 * one JSON document, each as compact JSON exactly as written: numbers keep every digit and their
 * form (`4.0` stays `4.0`). Throws an OBJECT_CORRUPT CollectorError if `text` is not valid JSON,
 * has no array there, or an element is not an object.
 */
export function jsonArrayObjects(text: string, path: readonly string[], source: string): string[] {
  const scanner = new JsonRecordScanner(
    path,
    `no "${path.join('.')}" array`,
    source,
    DEFAULT_MAX_RECORD_BYTES,
  );
  return scanWhole(scanner, text).map((r) => r.json);
}

function scanWhole(scanner: JsonRecordScanner, text: string): ScannedRecord[] {
  const records = scanner.push(Buffer.from(text, 'utf8'));
  records.push(...scanner.end());
  return records;
}

/**
 * Any single JSON object in compact form: whitespace outside strings removed, numbers and strings
 * exactly as written (a JSON.parse/stringify round trip would round integers above 2^53).
 * Throws an OBJECT_CORRUPT CollectorError if `text` is not one valid JSON object.
 */
export function compactJsonObject(text: string, source: string): string {
  return compactJsonRecord(text, source).json;
}

/** compactJsonObject(), with the top-level string `fields` captured. */
export function compactJsonRecord(
  text: string,
  source: string,
  fields: readonly string[] = [],
): ScannedRecord {
  return scanWhole(
    new JsonRecordScanner([], '', source, DEFAULT_MAX_RECORD_BYTES, { fields }),
    text,
  )[0] as ScannedRecord;
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

// What the string being read is.
const S_VALUE = 0; // a value nobody reads
const S_FIELD = 1; // the value of a tagging field (pendingField)
const S_KEY = 2; // a key nobody reads
const S_MATCHED_KEY = 3; // a key compared with those we look for

const OBJECT = 1;
const ARRAY = 2;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COLON_BYTE = 0x3a;
const COMMA = 0x2c;

/** Longest key of a captured field, in bytes (field key lengths are bits of a 32-bit mask). */
const MAX_FIELD_KEY_BYTES = 31;
/** Most captured fields (each is a bit of a 32-bit mask). */
const MAX_FIELDS = 32;
/** pendingField: the key just read is the last of the path to the records array (`Records`). */
const RECORDS = -2;
/** pendingField: the key just read is one on the path to the records array, before the last. */
const PATH = -3;
const NONE = -1;
export const DEFAULT_MAX_RECORD_BYTES = 32 * 1024 * 1024;
/**
 * Most bytes of a key held across chunks to be compared: the longest key looked for (31 bytes)
 * written with \\u escapes only. A longer key cannot be one of them and is no longer held.
 */
const MATCHED_KEY_MAX = 6 * MAX_FIELD_KEY_BYTES;
/** Longest record whose tagging fields are slices of its JSON text (see record()). */
const SLICED_RECORD_MAX = 4096;

const TRUE = Buffer.from('true');
const FALSE = Buffer.from('false');
const NULL = Buffer.from('null');

/** 1 for the bytes that may follow '\' in a JSON string, other than 'u'. */
const SIMPLE_ESCAPE = new Uint8Array(256);
for (const c of '"\\/bfnrt') SIMPLE_ESCAPE[c.charCodeAt(0)] = 1;
/** 1 for hexadecimal digits. */
const HEX = new Uint8Array(256);
for (const c of '0123456789abcdefABCDEF') HEX[c.charCodeAt(0)] = 1;

function isWhitespace(c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
}

/** A byte-level JSON scanner that emits the objects at one place of the document as records. */
/**
 * The streaming JSON scanner: validates the whole input as JSON and yields, as compact JSON, each
 * element of the array at `path` (or the document itself when `path` is empty).
 */
export class JsonRecordScanner {
  /** Keys leading to the array whose elements are the records; empty: the document is one record. */
  private readonly path: readonly Buffer[];
  /** The problem reported when the document has no array at `path`. */
  private readonly missing: string;
  private readonly source: string;
  /**
   * Depth of the container holding records: the array at `path` (its length + 1), the document
   * (0), or with `rootArray` the document's own array (1).
   */
  private readonly recordParent: number;
  /** The document is an array and its elements are the records (`path` is then empty). */
  private readonly rootArray: boolean;
  /** Most bytes of a record held across chunks. */
  private readonly maxHeldBytes: number;
  /** Top-level record keys whose string values are captured, in ScannedRecord#fields order. */
  private readonly fieldKeys: readonly Buffer[];
  /** Bit n set when a field key is n bytes long: most keys are told apart by their length alone. */
  private readonly fieldKeyLengths: number;

  private state = VALUE;
  private readonly stack: number[] = [];
  /** Bytes of the previous chunks. */
  private offset = 0;
  private error: CollectorError | undefined;
  private sawRecords = false;
  private inRecords = false;
  private emitted = 0;

  private numberState = N_MINUS;
  private literal: Buffer = TRUE;
  private literalPos = 0;
  private unicodeLeft = 0;

  // The string being read: its kind (S_*), where its content starts in the chunk, whether it has
  // escapes, and the bytes of a matched key held from previous chunks.
  private stringKind = S_VALUE;
  private stringStart = 0;
  private stringEscaped = false;
  private keyParts: Buffer[] = [];
  private keyBytes = 0;
  private pendingField = NONE;
  /** Depth of the keys compared: each record's own, else those of the objects along `path`. */
  private keyDepth = 1;

  // The record being read.
  private inRecord = false;
  private recordStart = 0;
  private recordParts: Buffer[] = [];
  private recordBytes = 0;
  /** Whitespace bytes outside strings in the record so far: compacted away before emitting. */
  private recordSpace = 0;
  // Captured fields of the record, decoded when it is emitted: bit f of fieldsFound tells field f
  // was seen, fieldAt[2f, 2f+1] bound its content in the compact record, fieldsEscaped bit f tells
  // it holds escapes.
  private fieldsFound = 0;
  private fieldsEscaped = 0;
  private readonly fieldAt: Float64Array;
  /** Where the content of the field value being read starts in the compact record. */
  private fieldStart = 0;

  constructor(
    path: readonly string[],
    missing: string,
    source: string,
    maxHeldBytes: number,
    options: { rootArray?: boolean; fields?: readonly string[] } = {},
  ) {
    const fields = options.fields ?? [];
    this.fieldKeys = fields.map((k) => Buffer.from(k));
    if (
      this.fieldKeys.length > MAX_FIELDS ||
      this.fieldKeys.some((k) => k.length < 1 || k.length > MAX_FIELD_KEY_BYTES)
    )
      throw new RangeError(
        `at most ${MAX_FIELDS} fields of 1 to ${MAX_FIELD_KEY_BYTES} bytes can be captured`,
      );
    this.fieldKeyLengths = this.fieldKeys.reduce((bits, k) => bits | (1 << k.length), 0);
    this.fieldAt = new Float64Array(2 * this.fieldKeys.length);
    this.path = path.map((k) => Buffer.from(k));
    this.missing = missing;
    this.source = source;
    this.maxHeldBytes = maxHeldBytes;
    this.rootArray = options.rootArray === true && path.length === 0;
    this.recordParent = this.rootArray ? 1 : path.length === 0 ? 0 : path.length + 1;
  }

  push(chunk: Buffer): ScannedRecord[] {
    if (this.error) throw this.error;
    const out: ScannedRecord[] = [];
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
    if (this.stringKind === S_MATCHED_KEY && this.state >= STRING && this.state <= UNICODE) {
      this.keyBytes += chunk.length - this.stringStart;
      if (this.keyBytes > MATCHED_KEY_MAX) {
        this.stringKind = S_KEY;
        this.keyParts = [];
        this.keyBytes = 0;
      } else {
        this.keyParts.push(Buffer.from(chunk.subarray(this.stringStart)));
      }
      this.stringStart = 0;
    }
    this.offset += chunk.length;
    const limit = this.maxHeldBytes;
    if (this.recordBytes > limit) {
      this.error = corruptAt(
        this.source,
        this.offset,
        `record #${this.emitted + 1} is longer than ${limit} bytes`,
        {
          records: this.emitted,
        },
      );
      if (out.length === 0) throw this.error;
    }
    return out;
  }

  end(): ScannedRecord[] {
    if (this.error) throw this.error;
    let problem: string | undefined;
    // The document is an object, so it can only be complete in state DONE.
    if (this.state !== DONE) {
      problem =
        this.state === VALUE && this.stack.length === 0
          ? 'empty: no JSON document'
          : `truncated: the JSON document ends inside ${this.inRecord ? `record #${this.emitted + 1}` : 'the document'}`;
    } else if (this.path.length > 0 && !this.sawRecords) {
      problem = this.missing;
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

  /** The key of the path that leads to depth + 1 (for messages). */
  private pathKey(depth: number): string {
    return (this.path[depth - 1] as Buffer).toString();
  }

  /** Opens an array or object at buf[i]. */
  private nest(i: number, kind: number): void {
    if (this.stack.length === MAX_JSON_DEPTH) {
      throw corruptAt(this.source, this.offset + i, `JSON nested deeper than ${MAX_JSON_DEPTH} levels`, {
        records: this.emitted,
        maxDepth: MAX_JSON_DEPTH,
      });
    }
    this.stack.push(kind);
  }

  private numberEnds(): boolean {
    const s = this.numberState;
    return s === N_ZERO || s === N_INT || s === N_FRAC || s === N_EXP;
  }

  private scan(buf: Buffer, out: ScannedRecord[]): void {
    const n = buf.length;
    // String contents are skipped four bytes at a time: a DataView reads little-endian words at
    // any offset, so the first byte of the chunk is the low byte of a word whatever the platform.
    const words = new DataView(buf.buffer, buf.byteOffset, n);
    const lastWord = n - 4;
    const stack = this.stack;
    const recordParent = this.recordParent;
    // The state and the kind of string live in locals while bytes are scanned; rare cases go
    // through methods, which read and set this.state (and this.stringKind).
    let state = this.state;
    let kind = this.stringKind;
    let i = 0;
    scan: while (i < n) {
      if (state === STRING) {
        // Most bytes of a CloudTrail file are inside strings: find the next '"', '\' or control byte.
        let c: number;
        for (;;) {
          for (;;) {
            if (i > lastWord) {
              // Fewer than four bytes left: one at a time.
              for (; i < n; i++) {
                c = buf[i] as number;
                if (c === QUOTE || c === BACKSLASH || c < 0x20) break;
              }
              if (i === n) break scan;
              break;
            }
            const w = words.getInt32(i, true);
            // Bit 7 of a byte of m is set from the first byte that is below 0x20 or '"' (byte^2
            // below 0x21) or '\' (byte^0x5c zero) on: the SWAR less-than test, exact for the
            // lowest such byte, which is all that is used. XOR with bytes below 0x80 keeps bit 7
            // of each byte, so ~w serves for both terms.
            const controlOrQuote = w ^ 0x02020202;
            const backslash = w ^ 0x5c5c5c5c;
            const m = ((controlOrQuote - 0x21212121) | (backslash - 0x01010101)) & ~w & 0x80808080;
            if (m !== 0) {
              i += (31 - Math.clz32(m & -m)) >>> 3;
              break;
            }
            i += 4;
          }
          c = buf[i] as number;
          if (c === QUOTE) break;
          if (c !== BACKSLASH) this.fail(i, `control character ${describeByte(c)} inside a string`);
          this.stringEscaped = true;
          // A whole valid escape is skipped here; anything else goes through the ESCAPE state.
          if (i + 1 < n) {
            const e = buf[i + 1] as number;
            if (SIMPLE_ESCAPE[e] === 1) {
              i += 2;
              continue;
            }
            if (
              e === 0x75 &&
              i + 5 < n &&
              (HEX[buf[i + 2] as number] as number) +
                (HEX[buf[i + 3] as number] as number) +
                (HEX[buf[i + 4] as number] as number) +
                (HEX[buf[i + 5] as number] as number) ===
                4
            ) {
              i += 6;
              continue;
            }
          }
          state = ESCAPE;
          i++;
          continue scan;
        }
        // The string closes at i. In a compact document a key is mostly followed by ':' and a
        // string value, a value by ',' and a key: those go straight on to the next string. `next`
        // is the three bytes from i as a little-endian word: '":"' is 0x223a22, '","' 0x222c22.
        const next = i <= lastWord ? words.getInt32(i, true) & 0xffffff : 0;
        if (kind >= S_KEY) {
          const pending = kind === S_MATCHED_KEY ? (this.pendingField = this.endKey(buf, i)) : NONE;
          if (next === 0x223a22 && pending === NONE && stack.length !== recordParent) {
            kind = S_VALUE;
            i += 3;
            continue;
          }
          if (buf[i + 1] !== COLON_BYTE) {
            state = COLON;
            i++;
            continue;
          }
          state = VALUE;
          i += 2;
          continue;
        }
        if (kind === S_FIELD) this.endField(i);
        if (next === 0x222c22 && stack[stack.length - 1] === OBJECT) {
          kind = this.startKey(i + 3);
          i += 3;
          continue;
        }
        state = AFTER;
        i++;
        continue;
      }
      const c = buf[i] as number;
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
        if (this.inRecord) this.recordSpace++;
        i++;
        continue;
      }
      switch (state) {
        case COLON:
          if (c !== COLON_BYTE) this.fail(i, `expected ':', got ${describeByte(c)}`);
          state = VALUE;
          break;
        case AFTER: {
          const top = stack[stack.length - 1];
          if (c === COMMA) {
            if (top !== OBJECT) {
              state = VALUE;
            } else if (buf[i + 1] === QUOTE) {
              // The next key, in a compact document.
              kind = this.startKey(i + 2);
              state = STRING;
              i += 2;
              continue;
            } else {
              state = KEY;
            }
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
            kind = this.startKey(i + 1);
            state = STRING;
          } else if (c === 0x7d && state === OBJECT_FIRST) {
            this.close(buf, i, out);
            state = this.state;
          } else {
            this.fail(i, `expected a key string, got ${describeByte(c)}`);
          }
          break;
        case ARRAY_FIRST:
        case VALUE: {
          if (state === ARRAY_FIRST && c === 0x5d) {
            this.close(buf, i, out);
            state = this.state;
            break;
          }
          const depth = stack.length;
          // Common cases inline: a string, object or array that is neither a record, nor Records,
          // nor a tagging field.
          if (this.pendingField === NONE && depth !== 0 && depth !== recordParent) {
            if (c === QUOTE) {
              kind = S_VALUE;
              state = STRING;
              break;
            }
            if (c === 0x7b) {
              this.nest(i, OBJECT);
              if (buf[i + 1] === QUOTE) {
                kind = this.startKey(i + 2);
                state = STRING;
                i += 2;
                continue;
              }
              state = OBJECT_FIRST;
              break;
            }
            if (c === 0x5b) {
              this.nest(i, ARRAY);
              state = ARRAY_FIRST;
              break;
            }
          }
          i = this.startValue(buf, i, c);
          state = this.state;
          kind = this.stringKind;
          continue;
        }
        default:
          this.fail(i, `unexpected ${describeByte(c)} after the end of the document`);
      }
      i++;
    }
    this.state = state;
    this.stringKind = kind;
  }

  /** Bytes of an escape, number or literal from buf[i] = c; returns the index of the next byte to scan. */
  private scalar(buf: Buffer, i: number, c: number): number {
    switch (this.state) {
      case ESCAPE:
        if (c === 0x75) {
          this.state = UNICODE;
          this.unicodeLeft = 4;
        } else if (SIMPLE_ESCAPE[c] === 1) {
          this.state = STRING;
        } else {
          this.fail(i, `invalid escape \\${String.fromCharCode(c)} in a string`);
        }
        return i + 1;
      case UNICODE:
        if (HEX[c] !== 1) this.fail(i, `${describeByte(c)} in a \\u escape`);
        if (--this.unicodeLeft === 0) this.state = STRING;
        return i + 1;
      case NUMBER:
        while (this.numberByte(c)) {
          if (++i === buf.length) return i;
          c = buf[i] as number;
        }
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

  /** The kind of the key string whose content starts at `start`. */
  private startKey(start: number): number {
    if (this.stack.length !== this.keyDepth) return S_KEY;
    this.stringStart = start;
    this.stringEscaped = false;
    return S_MATCHED_KEY;
  }

  /** The value starting with buf[i] = c; returns the index of the next byte to scan. */
  private startValue(buf: Buffer, i: number, c: number): number {
    const depth = this.stack.length;
    const pending = this.pendingField;
    this.pendingField = NONE;
    if (depth === 0 && c !== (this.rootArray ? 0x5b : 0x7b))
      this.fail(
        i,
        `the document is not a JSON ${this.rootArray ? 'array' : 'object'} (starts with ${describeByte(c)})`,
      );
    if (pending === RECORDS && c !== 0x5b) this.fail(i, `"${this.pathKey(depth)}" is not an array`);
    if (pending === PATH && c !== 0x7b) this.fail(i, `"${this.pathKey(depth)}" is not an object`);
    // A repeated field key whose last value is not a string: as for JSON.parse, the last one counts.
    if (pending >= 0 && c !== QUOTE) this.fieldsFound &= ~(1 << pending);
    if (depth === this.recordParent && !this.inRecord && (depth === 0 || this.inRecords)) {
      if (c !== 0x7b) this.fail(i, `record #${this.emitted + 1} is not a JSON object`);
      this.inRecord = true;
      this.keyDepth = this.recordParent + 1;
      this.recordStart = i;
      this.recordBytes = 0;
      this.recordSpace = 0;
      this.fieldsFound = 0;
    }
    switch (c) {
      case 0x7b:
        this.nest(i, OBJECT);
        this.state = OBJECT_FIRST;
        // Its keys are compared with the next key of the path.
        if (pending === PATH) this.keyDepth = depth + 1;
        return i + 1;
      case 0x5b:
        this.nest(i, ARRAY);
        this.state = ARRAY_FIRST;
        if (pending === RECORDS || (depth === 0 && this.rootArray)) {
          this.inRecords = true;
          this.sawRecords = true;
        }
        return i + 1;
      case QUOTE:
        this.state = STRING;
        if (pending >= 0) {
          this.stringKind = S_FIELD;
          this.stringEscaped = false;
          this.pendingField = pending;
          this.fieldStart = this.recordBytes + i + 1 - this.recordStart - this.recordSpace;
        } else {
          this.stringKind = S_VALUE;
        }
        return i + 1;
      case 0x74:
      case 0x66:
      case 0x6e: {
        const literal = c === 0x74 ? TRUE : c === 0x66 ? FALSE : NULL;
        const end = i + literal.length;
        // Whole in the chunk, as it mostly is: compared at once.
        if (end <= buf.length && sameBytes(buf, i, literal.length, literal)) {
          this.state = AFTER;
          return end;
        }
        this.literal = literal;
        this.literalPos = 1;
        this.state = LITERAL;
        return i + 1;
      }
      default:
        if (c === 0x2d || (c >= 0x30 && c <= 0x39)) {
          this.numberState = c === 0x2d ? N_MINUS : c === 0x30 ? N_ZERO : N_INT;
          this.state = NUMBER;
          return i + 1;
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

  /** pendingField for the matched key closing at `end`. */
  private endKey(buf: Buffer, end: number): number {
    if (this.keyParts.length === 0 && !this.stringEscaped) return this.matchKey(buf, this.stringStart, end);
    const parts = this.keyParts;
    const length = this.keyBytes + end - this.stringStart;
    this.keyParts = [];
    this.keyBytes = 0;
    if (length > MATCHED_KEY_MAX) return NONE;
    let key = Buffer.concat([...parts, buf.subarray(this.stringStart, end)]);
    if (this.stringEscaped) key = Buffer.from(JSON.parse(`"${key.toString('utf8')}"`) as string);
    return this.matchKey(key, 0, key.length);
  }

  /** pendingField for the key in buf[start, end), compared in place. */
  private matchKey(buf: Buffer, start: number, end: number): number {
    const length = end - start;
    const depth = this.stack.length;
    if (depth <= this.path.length) {
      if (!sameBytes(buf, start, length, this.path[depth - 1] as Buffer)) return NONE;
      return depth === this.path.length ? RECORDS : PATH;
    }
    // Most keys are told apart by their length alone.
    if (length > MAX_FIELD_KEY_BYTES || ((this.fieldKeyLengths >>> length) & 1) === 0) return NONE;
    const keys = this.fieldKeys;
    for (let f = 0; f < keys.length; f++) {
      if (sameBytes(buf, start, length, keys[f] as Buffer)) return f;
    }
    return NONE;
  }

  /** The value of field pendingField closes at `end`: where it lies in the record is noted. */
  private endField(end: number): void {
    const f = this.pendingField;
    this.pendingField = NONE;
    const bit = 1 << f;
    this.fieldsFound |= bit;
    this.fieldsEscaped = this.stringEscaped ? this.fieldsEscaped | bit : this.fieldsEscaped & ~bit;
    this.fieldAt[2 * f] = this.fieldStart;
    this.fieldAt[2 * f + 1] = this.recordBytes + end - this.recordStart - this.recordSpace;
  }

  private close(buf: Buffer, i: number, out: ScannedRecord[]): void {
    const kind = this.stack.pop();
    const depth = this.stack.length;
    this.state = depth === 0 ? DONE : AFTER;
    if (kind === ARRAY && this.inRecords && depth === this.path.length) this.inRecords = false;
    if (kind === OBJECT && this.inRecord && depth === this.recordParent) {
      this.inRecord = false;
      this.keyDepth = this.path.length;
      out.push(this.record(buf, i + 1));
    } else if (kind === OBJECT && depth === this.keyDepth - 1 && depth > 0) {
      // An object along the path closes: back to comparing its parent's keys.
      this.keyDepth = depth;
    }
  }

  private record(buf: Buffer, end: number): ScannedRecord {
    // The compact record is bytes[start, end).
    let bytes = buf;
    let start = this.recordStart;
    if (this.recordParts.length !== 0 || this.recordSpace !== 0) {
      bytes =
        this.recordParts.length === 0
          ? buf.subarray(start, end)
          : Buffer.concat([...this.recordParts, buf.subarray(start, end)]);
      this.recordParts = [];
      if (this.recordSpace !== 0) bytes = compact(bytes);
      start = 0;
      end = bytes.length;
    }
    const json = utf8(bytes, start, end);
    this.emitted++;
    // The fields are cut from json when they can be: a decode is a native call, costlier than the
    // slice. The same length means every byte gave one character (UTF-8 sequences, and invalid
    // bytes replaced together, give fewer), so byte offsets are character offsets. A V8 slice
    // shares its record's memory: a field kept long (e.g. a tagger's cache key) keeps the record,
    // hence only small records are sliced.
    const oneByteChars = json.length === end - start;
    const text = oneByteChars && json.length <= SLICED_RECORD_MAX ? json : undefined;
    const fields: (string | undefined)[] = [];
    for (let f = 0; f < this.fieldKeys.length; f++) fields.push(this.field(f, text, bytes, start));
    return {
      json,
      fields,
      // One byte per character is not enough: an invalid byte decodes to one U+FFFD.
      plain: oneByteChars && isAscii(bytes.subarray(start, end)),
    };
  }

  /** Field f of the record, cut from `json` if given, else decoded from bytes[start...]. */
  private field(f: number, json: string | undefined, bytes: Buffer, start: number): string | undefined {
    const bit = 1 << f;
    if ((this.fieldsFound & bit) === 0) return undefined;
    const from = this.fieldAt[2 * f] as number;
    const to = this.fieldAt[2 * f + 1] as number;
    const text = json === undefined ? utf8(bytes, start + from, start + to) : json.slice(from, to);
    return (this.fieldsEscaped & bit) === 0 ? text : (JSON.parse(`"${text}"`) as string);
  }
}

function sameBytes(buf: Buffer, start: number, length: number, want: Buffer): boolean {
  if (length !== want.length) return false;
  // From the end: record keys as long as a field key mostly share its start (CloudTrail's
  // eventTime, eventType / eventName).
  for (let k = length - 1; k >= 0; k--) if (buf[start + k] !== want[k]) return false;
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
