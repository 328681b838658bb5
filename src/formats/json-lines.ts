import { CollectorError, ErrorCodes, isCollectorError } from '../core/errors.js';
import { rejectIfFirst } from './json-events.js';
import { compactJsonRecord, type ScannedRecord } from './json-scanner.js';
import { LineLogParser, type MessageSink } from './lines.js';

export interface JsonLinesParseOptions {
  /** Names the input in error messages, e.g. `s3://bucket/key`. */
  source?: string;
  /**
   * A line that is not one JSON object. `as-written` (AWS logs): not proof that the file is corrupt,
   * it is emitted as written and counted in `malformed`. `refuse` (the generic `ndjson` format): it
   * stops the object — OBJECT_REJECTED when no line was read before it (not of this format),
   * else OBJECT_CORRUPT naming its row.
   */
  badLine?: 'as-written' | 'refuse';
}

/**
 * Streaming parser for JSON Lines: AWS WAF, Route 53 Resolver query logs, AWS Network Firewall,
 * GuardDuty findings exported to S3, and the generic `ndjson` format. Each non-blank line is one
 * JSON object, emitted as compact JSON with its strings and numbers exactly as written
 * (json-scanner.ts; nesting deeper than MAX_JSON_DEPTH is not followed). A line longer than 8 MiB is
 * an OBJECT_CORRUPT CollectorError, thrown after the lines before it were returned.
 */
export class JsonLinesParser extends LineLogParser {
  private readonly source: string;
  private readonly refuse: boolean;
  private bad = 0;

  constructor(options: JsonLinesParseOptions = {}) {
    const source = options.source ?? 'JSON Lines file';
    // The separator count is not used: any ASCII byte will do.
    super({ separator: 0x2c, source });
    this.source = source;
    this.refuse = options.badLine === 'refuse';
  }

  /** Lines that are not one JSON object, emitted as written. */
  get malformed(): number {
    return this.bad;
  }

  override pushTo(chunk: Buffer, sink: MessageSink): void {
    try {
      super.pushTo(chunk, sink);
    } catch (err) {
      throw this.refuse ? rejectIfFirst(err, this.rows) : err;
    }
  }

  override endTo(sink: MessageSink): void {
    try {
      super.endTo(sink);
    } catch (err) {
      throw this.refuse ? rejectIfFirst(err, this.rows) : err;
    }
  }

  protected line(line: string, _fields: number, _needsEscape: boolean, plain: boolean): void {
    const row = this.rows + 1;
    let record: ScannedRecord;
    try {
      record = compactJsonRecord(line, this.refuse ? this.source : `${this.source} line record #${row}`);
    } catch (err) {
      if (!isCollectorError(err, ErrorCodes.OBJECT_CORRUPT)) throw err;
      if (this.refuse) throw atRow(err, row);
      this.rows = row;
      this.bad++;
      this.sink.push(line, plain);
      return;
    }
    this.rows = row;
    this.sink.push(record.json, record.plain);
  }

  /** Every line is compacted, none goes out unread. */
  protected asWritten(): boolean {
    return false;
  }
}

/** The scanner's offset is within the line: the error names the row, and that offset. */
function atRow(err: CollectorError, row: number): CollectorError {
  return new CollectorError(
    err.code,
    err.message.replace(/ \(at byte (\d+)\)$/, ` (row ${row}, at its byte $1)`),
    {
      cause: err,
      details: { ...err.details, row, offset: 0, offsetInRow: err.details.offset },
    },
  );
}
