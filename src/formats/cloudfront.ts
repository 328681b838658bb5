import { isCollectorError, type CollectorError } from '../errors.js';
import { LineSplitter } from './lines.js';

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
 * OBJECT_CORRUPT CollectorError, thrown after the lines before it were returned (see run()).
 */
export class CloudFrontLogParser {
  private readonly splitter: LineSplitter;
  private out: string[] = [];
  private names: readonly string[] | undefined;
  private rows = 0;
  private bad = 0;
  private error: CollectorError | undefined;

  constructor(options: CloudFrontLogParseOptions = {}) {
    this.splitter = new LineSplitter(
      { separator: 0x09, source: options.source ?? 'CloudFront log file' },
      (line, fields) => this.line(line, fields),
    );
  }

  push(chunk: Buffer): string[] {
    return this.run(() => this.splitter.push(chunk));
  }

  end(): string[] {
    return this.run(() => this.splitter.end());
  }

  /**
   * Runs a splitter step. On corrupt content the lines read before the problem are returned first;
   * the error is thrown then if there are none, else by the next call.
   */
  private run(step: () => void): string[] {
    if (this.error) throw this.error;
    try {
      step();
    } catch (err) {
      if (!isCollectorError(err)) throw err;
      this.error = err;
      if (this.out.length === 0) throw err;
    }
    return this.take();
  }

  /** Field names from the `#Fields:` directive, once seen. */
  get fields(): readonly string[] | undefined {
    return this.names;
  }

  /** Record lines emitted so far. */
  get records(): number {
    return this.rows;
  }

  /** Record lines whose field count differs from the `#Fields:` directive's. */
  get malformed(): number {
    return this.bad;
  }

  private take(): string[] {
    const out = this.out;
    this.out = [];
    return out;
  }

  private line(line: string, fields: number): void {
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
    this.out.push(line);
  }
}
