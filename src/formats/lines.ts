import { isAscii } from 'node:buffer';
import { corruptAt, DeferredCorruption } from './corrupt.js';

/**
 * Called once per non-blank line not taken in a run (see LineRuns), in order: the line without its line break (a trailing CR is
 * dropped too) and its number of fields (separator bytes + 1). `needsEscape` is only computed while
 * the splitter's `detectEscapes` is on: whether the line holds a byte that JSON must escape (a
 * control character, '"' or '\'); otherwise it is false. `plain`: the line is known to be all ASCII
 * without a CR (it never holds an LF), so it can be sent as it is without a check; false when not
 * known, as for every line of a chunk that is not all ASCII.
 */
export type LineHandler = (line: string, fields: number, needsEscape: boolean, plain: boolean) => void;

/** Receives the messages of a line parser, in order; `plain` as for LineHandler. */
export interface MessageSink {
  push(message: string, plain: boolean): void;
  /**
   * Optional: `lines` consecutive plain lines sent as written, joined by LF (see
   * CollectorEvent#lines). A sink without it gets each line through push().
   */
  pushRun?(text: string, lines: number): void;
}

/**
 * Lets a LineSplitter hand over runs of lines without a call per line: `asWritten` tells whether a
 * plain line with that many fields and that first character is sent exactly as written (the line
 * handler would do nothing else with it); `run` receives consecutive such lines joined by LF.
 */
export interface LineRuns {
  asWritten(fields: number, firstChar: number): boolean;
  run(text: string, lines: number): void;
}

export interface LineSplitterOptions {
  /** Field separator byte to count per line (ASCII, not LF): 0x20 for VPC Flow Logs, 0x09 for CloudFront. */
  separator: number;
  detectEscapes?: boolean;
  /**
   * A line longer than this is corruption (OBJECT_CORRUPT), not a reason to buffer without end.
   * Default 8 MiB, far above any flow or access log line.
   */
  maxLineBytes?: number;
  /** Names the input in error messages, e.g. `s3://bucket/key`. */
  source?: string;
}

const DEFAULT_MAX_LINE_BYTES = 8 * 1024 * 1024;
const WINDOW = 64 * 1024;

const LF = 0x0a;
const CR = 0x0d;
const LOW7 = 0x7f7f7f7f;
const EMPTY_WORDS = new Uint32Array(0);

/**
 * Splits Buffer chunks into text lines across chunk boundaries, counting a field separator per
 * line on the way (VPC Flow Logs and CloudFront both check their field counts). An ASCII chunk —
 * every real flow or access log — is decoded once to a latin1 string, line breaks are found with
 * String#indexOf and lines are sliced from it: far cheaper than a decode per line. Separators are
 * counted four bytes at a time with SWAR masks on a Uint32Array view. A non-ASCII chunk is decoded
 * per line as UTF-8 (a line break never splits a UTF-8 sequence).
 */
export class LineSplitter {
  private readonly separator: number;
  private readonly separator4: number;
  /** Compute LineHandler's `needsEscape`; may be switched on by the handler, e.g. after a header line. */
  detectEscapes: boolean;
  /** When set, runs of lines it accepts go to it instead of the line handler (see LineRuns). */
  runs: LineRuns | undefined = undefined;
  private readonly onLine: LineHandler;
  private readonly maxLineBytes: number;
  private readonly source: string | undefined;
  /** Bytes of the unfinished last line, copied: callers may reuse their chunks. */
  private carry: Buffer[] = [];
  private carryLength = 0;
  /** Input offset where the unfinished line starts. */
  private carryStart = 0;
  /** Bytes of the chunks before the current one. */
  private offset = 0;

  constructor(options: LineSplitterOptions, onLine: LineHandler) {
    const { separator } = options;
    if (!Number.isInteger(separator) || separator <= 0 || separator > 0x7f || separator === LF) {
      throw new RangeError(`line field separator must be an ASCII byte other than LF, got ${separator}`);
    }
    this.separator = separator;
    this.separator4 = Math.imul(separator, 0x01010101);
    this.detectEscapes = options.detectEscapes ?? false;
    this.maxLineBytes = options.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES;
    this.source = options.source;
    this.onLine = onLine;
  }

  push(chunk: Buffer): void {
    // Large chunks are taken a window at a time: a decoded string of more than ~128 KiB lands in
    // V8's large-object space, which makes every line sliced from it markedly dearer.
    for (let at = 0; at < chunk.length; at += WINDOW) this.pushWindow(chunk.subarray(at, at + WINDOW));
  }

  private pushWindow(chunk: Buffer): void {
    let start = 0;
    if (this.carry.length > 0) {
      const nl = chunk.indexOf(LF);
      if (nl < 0) {
        this.keep(chunk, this.carryStart);
        this.offset += chunk.length;
        return;
      }
      this.carry.push(chunk.subarray(0, nl + 1));
      const joined = Buffer.concat(this.carry);
      this.carry = [];
      this.carryLength = 0;
      this.scan(joined, 0, false);
      start = nl + 1;
    }
    const rest = this.scan(chunk, start, false);
    if (rest < chunk.length) this.keep(chunk.subarray(rest), this.offset + rest);
    this.offset += chunk.length;
  }

  /** The input ended: a last line without a line break is still a line. */
  end(): void {
    if (this.carry.length === 0) return;
    const joined = Buffer.concat(this.carry);
    this.carry = [];
    this.carryLength = 0;
    this.scan(joined, 0, true);
  }

  /** Keeps a copy of bytes of the unfinished line, which starts at byte `lineStart` of the input. */
  private keep(bytes: Buffer, lineStart: number): void {
    if (bytes.length === 0) return;
    if (this.carry.length === 0) this.carryStart = lineStart;
    this.carryLength += bytes.length;
    if (this.carryLength > this.maxLineBytes) {
      throw corruptAt(this.source, this.carryStart, `a line is longer than ${this.maxLineBytes} bytes`);
    }
    this.carry.push(Buffer.from(bytes));
  }

  /** Emits the lines of buf[start..]; returns where the unfinished last line starts. */
  private scan(buf: Buffer, start: number, final: boolean): number {
    const length = buf.length;
    if (start >= length) return length;
    const region = buf.subarray(start);
    const ascii = isAscii(region);
    const text = ascii ? region.toString('latin1') : '';
    // Checked once per chunk, when first needed: when the chunk holds no such byte, as real logs
    // never do, no line of it needs escaping.
    let escapes: boolean | undefined;
    const counter = new SeparatorCounter(buf, this.separator, this.separator4);
    // Index in `buf` of the first CR at or after `pos` (`length` if none): one search per chunk
    // when it has none, one per line for CRLF files.
    let cr = -1;
    // The run of lines under way (LineRuns), as offsets in `text`.
    const runs = ascii ? this.runs : undefined;
    let runStart = 0;
    let runEnd = 0;
    let runLines = 0;
    let pos = start;
    while (pos < length) {
      let nl: number;
      if (ascii) {
        // String#indexOf is a V8 builtin, much cheaper per call than Buffer#indexOf.
        const at = text.indexOf('\n', pos - start);
        nl = at < 0 ? -1 : at + start;
      } else {
        nl = buf.indexOf(LF, pos);
      }
      if (nl < 0) {
        if (!final) break;
        nl = length;
      }
      let stop = nl;
      if (stop > pos && buf[stop - 1] === CR) stop--;
      if (stop > pos) {
        let line: string;
        let plain = false;
        const fields = counter.count(pos, stop) + 1;
        if (ascii) {
          if (cr < pos) {
            const at = text.indexOf('\r', pos - start);
            cr = at < 0 ? length : at + start;
          }
          plain = cr >= stop;
          if (
            runs !== undefined &&
            plain &&
            stop === nl &&
            runs.asWritten(fields, text.charCodeAt(pos - start))
          ) {
            // Lines of a run follow each other, each right after the previous one's LF (no CR).
            if (runLines === 0) runStart = pos - start;
            runEnd = stop - start;
            runLines++;
            pos = nl + 1;
            continue;
          }
          line = text.slice(pos - start, stop - start);
        } else {
          line = buf.toString('utf8', pos, stop);
        }
        if (runLines > 0) {
          runs!.run(text.slice(runStart, runEnd), runLines);
          runLines = 0;
        }
        let escape = false;
        if (this.detectEscapes) {
          escapes ??= !ascii || hasEscapableByte(region);
          escape = escapes && needsJsonEscape(line);
        }
        this.onLine(line, fields, escape, plain);
      } else if (runLines > 0) {
        // A blank line ends the run: the next line does not follow on from it.
        runs!.run(text.slice(runStart, runEnd), runLines);
        runLines = 0;
      }
      pos = nl + 1;
    }
    if (runLines > 0) runs!.run(text.slice(runStart, runEnd), runLines);
    return Math.min(pos, length);
  }
}

/**
 * A log file read line by line (VPC Flow Logs, CloudFront): push()/end() return the messages read
 * (an OBJECT_CORRUPT error comes after the messages before it, see DeferredCorruption), or
 * pushTo()/endTo() hand each message to a sink as it is read. Subclasses turn lines into messages.
 */
export abstract class LineLogParser {
  protected readonly splitter: LineSplitter;
  private readonly out = new DeferredCorruption<string>();
  /** Where the current call's messages go. */
  protected sink: MessageSink = this.out;
  /** Record lines emitted so far (malformed ones included); line() counts its own. */
  protected rows = 0;

  /** Hands runs of as-written lines to this.sink (set only while the sink takes runs). */
  private readonly runs: LineRuns = {
    asWritten: (fields, firstChar) => this.asWritten(fields, firstChar),
    run: (text, lines) => {
      this.rows += lines;
      if (lines === 1) this.sink.push(text, true);
      else this.sink.pushRun!(text, lines);
    },
  };

  protected constructor(options: LineSplitterOptions) {
    this.splitter = new LineSplitter(options, (line, fields, needsEscape, plain) =>
      this.line(line, fields, needsEscape, plain),
    );
  }

  push(chunk: Buffer): string[] {
    return this.out.run(() => this.pushTo(chunk, this.out));
  }

  end(): string[] {
    return this.out.run(() => this.endTo(this.out));
  }

  /**
   * Like push(), but hands each message to `sink` as it is read, and throws OBJECT_CORRUPT at once:
   * the messages before the problem were handed over already. The parser is not usable after that.
   */
  pushTo(chunk: Buffer, sink: MessageSink): void {
    this.use(sink);
    this.splitter.push(chunk);
  }

  /** Like end(), with pushTo()'s way of emitting. */
  endTo(sink: MessageSink): void {
    this.use(sink);
    this.splitter.end();
  }

  private use(sink: MessageSink): void {
    this.sink = sink;
    this.splitter.runs = sink.pushRun === undefined ? undefined : this.runs;
  }

  /** One non-blank line (see LineHandler); messages go to this.sink. */
  protected abstract line(line: string, fields: number, needsEscape: boolean, plain: boolean): void;

  /** Record lines emitted so far (malformed ones included). */
  get records(): number {
    return this.rows;
  }

  /**
   * Whether line() would send a plain line with this many fields and this first character exactly
   * as written, doing nothing else but count it in `rows`: such lines may come as runs instead.
   */
  protected abstract asWritten(fields: number, firstChar: number): boolean;
}

/** Whether a string holds a character JSON must escape: a control character, '"' or '\\'. */
function needsJsonEscape(line: string): boolean {
  for (let i = 0; i < line.length; i++) {
    const c = line.charCodeAt(i);
    if (c < 0x20 || c === 0x22 || c === 0x5c) return true;
  }
  return false;
}

/** Whether `bytes` holds a '"', a '\\' or a control character other than LF. */
function hasEscapableByte(bytes: Buffer): boolean {
  if (bytes.indexOf(0x22) >= 0 || bytes.indexOf(0x5c) >= 0) return true;
  const isControl = (b: number): boolean => b < 0x20 && b !== LF;
  const misalign = bytes.byteOffset & 3;
  const head = Math.min(bytes.length, misalign === 0 ? 0 : 4 - misalign);
  for (let i = 0; i < head; i++) if (isControl(bytes[i] as number)) return true;
  const count = (bytes.length - head) >>> 2;
  const words = count > 0 ? new Uint32Array(bytes.buffer, bytes.byteOffset + head, count) : EMPTY_WORDS;
  for (let w = 0; w < count; w++) {
    const v = words[w] as number;
    // Nonzero iff a byte of the word is below 0x20 (an exact test of existence); then look closer,
    // as that byte is mostly the line's LF.
    if (((v - 0x20202020) & ~v & 0x80808080) !== 0) {
      const at = head + (w << 2);
      for (let i = at; i < at + 4; i++) if (isControl(bytes[i] as number)) return true;
    }
  }
  for (let i = head + (count << 2); i < bytes.length; i++) if (isControl(bytes[i] as number)) return true;
  return false;
}

/** Counts one byte value in ranges of a Buffer, four bytes at a time over aligned words. */
class SeparatorCounter {
  private readonly bytes: Buffer;
  private readonly words: Uint32Array;
  /** Index in `bytes` of words[0]. */
  private readonly wordBase: number;
  private readonly byte: number;
  private readonly byte4: number;

  constructor(bytes: Buffer, byte: number, byte4: number) {
    this.bytes = bytes;
    this.byte = byte;
    this.byte4 = byte4;
    const misalign = bytes.byteOffset & 3;
    this.wordBase = misalign === 0 ? 0 : 4 - misalign;
    const count = bytes.length > this.wordBase ? (bytes.length - this.wordBase) >>> 2 : 0;
    this.words =
      count > 0 ? new Uint32Array(bytes.buffer, bytes.byteOffset + this.wordBase, count) : EMPTY_WORDS;
  }

  count(from: number, to: number): number {
    const bytes = this.bytes;
    const byte = this.byte;
    let n = 0;
    let i = from;
    // First and last whole word of the range, as indexes into `words`.
    const firstWord = (from - this.wordBase + 3) >> 2;
    const endWord = (to - this.wordBase) >> 2;
    if (firstWord >= endWord) {
      for (; i < to; i++) if (bytes[i] === byte) n++;
      return n;
    }
    const wordsStart = this.wordBase + (firstWord << 2);
    for (; i < wordsStart; i++) if (bytes[i] === byte) n++;
    const words = this.words;
    const byte4 = this.byte4;
    for (let w = firstWord; w < endWord;) {
      // SWAR: with x = word ^ byte4, bit 7 of each byte of ((x & LOW7) + LOW7) | x is set iff that
      // byte differs from `byte` (exact: no carry crosses bytes). Those bits are summed per byte,
      // for at most 63 words per round, so one multiply adds the four sums (at most 252) up.
      const stop = Math.min(endWord, w + 63);
      n += (stop - w) << 2;
      let others = 0;
      for (; w < stop; w++) {
        const x = (words[w] as number) ^ byte4;
        others += ((((x & LOW7) + LOW7) | x) >>> 7) & 0x01010101;
      }
      n -= Math.imul(others, 0x01010101) >>> 24;
    }
    for (i = this.wordBase + (endWord << 2); i < to; i++) if (bytes[i] === byte) n++;
    return n;
  }
}
