import { isCollectorError, ErrorCodes } from '../core/errors.js';
import { compactJsonRecord } from './json-scanner.js';
import { LineLogParser } from './lines.js';

export interface JsonLinesParseOptions {
  /** Names the input in error messages, e.g. `s3://bucket/key`. */
  source?: string;
}

/**
 * Streaming parser for JSON Lines logs (AWS WAF, Route 53 Resolver query logs, AWS Network
 * Firewall, GuardDuty findings exported to S3): each non-blank line is one JSON object, emitted as
 * compact JSON with its strings and numbers exactly as written (json-scanner.ts; nesting deeper than
 * MAX_JSON_DEPTH is not followed). A line that is not one JSON object is not proof that the file is
 * corrupt: it is emitted as written and counted in `malformed`. A line longer than 8 MiB is an
 * OBJECT_CORRUPT CollectorError, thrown after the lines before it were returned.
 */
export class JsonLinesParser extends LineLogParser {
  private readonly source: string;
  private bad = 0;

  constructor(options: JsonLinesParseOptions = {}) {
    const source = options.source ?? 'JSON Lines file';
    // The separator count is not used: any ASCII byte will do.
    super({ separator: 0x2c, source });
    this.source = source;
  }

  /** Lines that are not one JSON object: emitted as written. */
  get malformed(): number {
    return this.bad;
  }

  protected line(line: string, _fields: number, _needsEscape: boolean, plain: boolean): void {
    this.rows++;
    let record;
    try {
      record = compactJsonRecord(line, `${this.source} line record #${this.rows}`);
    } catch (err) {
      if (!isCollectorError(err, ErrorCodes.OBJECT_CORRUPT)) throw err;
      this.bad++;
      this.sink.push(line, plain);
      return;
    }
    this.sink.push(record.json, record.plain);
  }

  /** Every line is compacted, none goes out unread. */
  protected asWritten(): boolean {
    return false;
  }
}
