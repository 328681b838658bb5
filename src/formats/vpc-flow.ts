import { rejectedAt } from './corrupt.js';
import { LineLogParser } from './lines.js';

/**
 * Every VPC Flow Logs field and the version that introduced it (Amazon VPC user guide, "Flow log
 * records", available fields). Version 6 added only Transit Gateway flow log fields.
 */
export const VPC_FLOW_LOG_FIELDS: ReadonlyMap<string, number> = new Map([
  ['version', 2],
  ['account-id', 2],
  ['interface-id', 2],
  ['srcaddr', 2],
  ['dstaddr', 2],
  ['srcport', 2],
  ['dstport', 2],
  ['protocol', 2],
  ['packets', 2],
  ['bytes', 2],
  ['start', 2],
  ['end', 2],
  ['action', 2],
  ['log-status', 2],
  ['vpc-id', 3],
  ['subnet-id', 3],
  ['instance-id', 3],
  ['tcp-flags', 3],
  ['type', 3],
  ['pkt-srcaddr', 3],
  ['pkt-dstaddr', 3],
  ['region', 4],
  ['az-id', 4],
  ['sublocation-type', 4],
  ['sublocation-id', 4],
  ['pkt-src-aws-service', 5],
  ['pkt-dst-aws-service', 5],
  ['flow-direction', 5],
  ['traffic-path', 5],
  ['ecs-cluster-arn', 7],
  ['ecs-cluster-name', 7],
  ['ecs-container-instance-arn', 7],
  ['ecs-container-instance-id', 7],
  ['ecs-container-id', 7],
  ['ecs-second-container-id', 7],
  ['ecs-service-name', 7],
  ['ecs-task-definition-arn', 7],
  ['ecs-task-arn', 7],
  ['ecs-task-id', 7],
  ['reject-reason', 8],
]);

/** The default format: the version 2 fields in this order. */
export const VPC_DEFAULT_FORMAT: readonly string[] = [
  'version',
  'account-id',
  'interface-id',
  'srcaddr',
  'dstaddr',
  'srcport',
  'dstport',
  'protocol',
  'packets',
  'bytes',
  'start',
  'end',
  'action',
  'log-status',
];

export type VpcFlowLogFormat = 'default' | 'custom';

export interface VpcFlowLogParseOptions {
  /** Names the input in error messages, e.g. `s3://bucket/key`. */
  source?: string;
}

/** A header token: lowercase field-name shape (a later version's field is accepted too). */
const FIELD_NAME = /^[a-z][a-z0-9-]*$/;

/**
 * Streaming parser for VPC Flow Logs files (plain text, as written to S3): the first non-blank line
 * is the header naming the fields, space-separated, in the flow log's order. It is never an event.
 * - default format header: each record line is emitted as written (what Devo's table parses);
 * - custom format: each record is emitted as a compact JSON object keyed by the header's field names,
 *   in header order, every value a string exactly as written — '-' (no value for this record, e.g.
 *   NODATA/SKIPDATA rows) stays "-", so nothing is lost or guessed and rows keep one shape.
 * NODATA/SKIPDATA rows are kept; blank lines are skipped; CRLF is accepted. A row whose field count
 * differs from the header's is emitted as written and counted in `malformed`.
 * A first line that is not a header is OBJECT_REJECTED (not a flow log: its message is kept); a line
 * longer than 8 MiB is an OBJECT_CORRUPT CollectorError: the rows read before it are returned first, the error is thrown by the same call
 * when there are none, else by the next one.
 */
export class VpcFlowLogParser extends LineLogParser {
  private readonly source: string;
  private header: readonly string[] | undefined;
  private unknown: readonly string[] = [];
  private custom = false;
  /** Custom format: `{"name":"` then `","name":"` — the JSON text before each value. */
  private keyPrefixes: string[] = [];
  private bad = 0;

  constructor(options: VpcFlowLogParseOptions = {}) {
    const source = options.source ?? 'VPC Flow Logs file';
    super({ separator: 0x20, source });
    this.source = source;
  }

  /** Known once the header was read. */
  get format(): VpcFlowLogFormat | undefined {
    return this.header === undefined ? undefined : this.custom ? 'custom' : 'default';
  }

  /** Field names from the header. */
  get fields(): readonly string[] | undefined {
    return this.header;
  }

  /** Header fields this parser does not know (a flow log version newer than 8?). Still used as keys. */
  get unknownFields(): readonly string[] {
    return this.unknown;
  }

  /** Rows whose field count differs from the header's: emitted as written. */
  get malformed(): number {
    return this.bad;
  }

  protected line(line: string, fields: number, needsEscape: boolean, plain: boolean): void {
    if (this.header === undefined) {
      this.readHeader(line);
      return;
    }
    this.rows++;
    if (fields !== this.header.length) {
      this.bad++;
      this.sink.push(line, plain);
    } else if (this.custom) {
      // JSON escapes control characters and adds only ASCII: a plain line gives plain JSON.
      this.sink.push(this.toJson(line, needsEscape), plain);
    } else {
      this.sink.push(line, plain);
    }
  }

  /** What line() sends unchanged: a row of the default format with the header's field count. */
  protected asWritten(fields: number): boolean {
    return this.header !== undefined && !this.custom && fields === this.header.length;
  }

  private readHeader(line: string): void {
    const names = line.split(' ');
    const problem = names.some((n) => !FIELD_NAME.test(n))
      ? 'it holds something other than field names'
      : new Set(names).size !== names.length
        ? 'it names a field twice'
        : names.every((n) => !VPC_FLOW_LOG_FIELDS.has(n))
          ? 'it names no VPC Flow Logs field'
          : undefined;
    if (problem !== undefined) {
      const shown = line.length > 100 ? `${line.slice(0, 100)}...` : line;
      throw rejectedAt(
        this.source,
        0,
        `the first line is not a VPC Flow Logs header (${problem}): "${shown}"`,
      );
    }
    this.header = names;
    this.unknown = names.filter((n) => !VPC_FLOW_LOG_FIELDS.has(n));
    this.custom =
      names.length !== VPC_DEFAULT_FORMAT.length || names.some((n, i) => n !== VPC_DEFAULT_FORMAT[i]);
    this.keyPrefixes = names.map((n, i) => `${i === 0 ? '{' : '",'}"${n}":"`);
    this.splitter.detectEscapes = this.custom;
  }

  private toJson(line: string, needsEscape: boolean): string {
    const values = line.split(' ');
    const prefixes = this.keyPrefixes;
    let json = '';
    for (let i = 0; i < values.length; i++) {
      const value = values[i] as string;
      json += (prefixes[i] as string) + (needsEscape ? JSON.stringify(value).slice(1, -1) : value);
    }
    return `${json}"}`;
  }
}
