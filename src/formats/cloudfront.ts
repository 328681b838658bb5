import { LineLogParser } from './lines.js';

export interface CloudFrontLogParseOptions {
  /** Names the input in error messages, e.g. `s3://bucket/key`. */
  source?: string;
}

/**
 * Streaming parser for CloudFront standard (access) logs in W3C format, as delivered to S3:
 * `#Version:` and `#Fields:` directive lines (any line starting with '#') are not events; each
 * record line is emitted as written, without its line break (LF or CRLF). Values stay URL-encoded as
 * CloudFront wrote them. Blank lines are skipped. Rows whose tab-separated field count differs from
 * the `#Fields:` line are still emitted, and counted in `malformed`. A line longer than 8 MiB is an
 * OBJECT_CORRUPT CollectorError, thrown after the lines before it were returned (see DeferredCorruption).
 */
export class CloudFrontLogParser extends LineLogParser {
  private names: readonly string[] | undefined;
  private bad = 0;

  constructor(options: CloudFrontLogParseOptions = {}) {
    super({ separator: 0x09, source: options.source ?? 'CloudFront log file' });
  }

  /** Field names from the `#Fields:` directive, once seen. */
  get fields(): readonly string[] | undefined {
    return this.names;
  }

  /** Record lines whose field count differs from the `#Fields:` directive's. */
  get malformed(): number {
    return this.bad;
  }

  protected line(line: string, fields: number, _needsEscape: boolean, plain: boolean): void {
    if (line.charCodeAt(0) === 0x23) {
      if (line.startsWith('#Fields:'))
        this.names = line
          .slice(8)
          .split(' ')
          .filter((n) => n.length > 0);
      return;
    }
    this.rows++;
    if (this.names !== undefined && fields !== this.names.length) this.bad++;
    this.sink.push(line, plain);
  }

  /** What line() sends unchanged: a record line (no directive) with the directive's field count. */
  protected asWritten(fields: number, firstChar: number): boolean {
    return firstChar !== 0x23 && (this.names === undefined || fields === this.names.length);
  }
}
