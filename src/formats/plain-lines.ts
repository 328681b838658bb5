import { LineLogParser } from './lines.js';

export interface PlainLineParseOptions {
  /** Names the input in error messages, e.g. `s3://bucket/key`. */
  source?: string;
  /** A line longer than this is OBJECT_CORRUPT (default 8 MiB, see LineSplitterOptions). */
  maxLineBytes?: number;
}

/**
 * Streaming parser for logs whose every non-blank line is one event, sent as written without its
 * line break (LF or CRLF): Elastic Load Balancing access logs (Application, Network, Classic) and S3
 * server access logs. Their quoted fields hold spaces, so a line's shape is left to the Devo table's
 * parser: nothing is counted malformed. A line longer than the limit is an OBJECT_CORRUPT
 * CollectorError, thrown after the lines before it were returned (see DeferredCorruption).
 */
export class PlainLineParser extends LineLogParser {
  constructor(options: PlainLineParseOptions = {}) {
    super({
      separator: 0x20,
      source: options.source ?? 'log file',
      ...(options.maxLineBytes === undefined ? {} : { maxLineBytes: options.maxLineBytes }),
    });
  }

  get malformed(): number {
    return 0;
  }

  protected line(line: string, _fields: number, _needsEscape: boolean, plain: boolean): void {
    this.rows++;
    this.sink.push(line, plain);
  }

  protected asWritten(): boolean {
    return true;
  }
}
