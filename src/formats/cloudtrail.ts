import {
  compactJsonRecord,
  DEFAULT_MAX_RECORD_BYTES,
  JsonRecordScanner,
  type ScannedRecord,
} from './json-scanner.js';

/**
 * Default `s3_file_type_filter`: CloudTrail log files, not digests (`CloudTrail-Digest/`, a
 * different JSON shape) nor Insights files (`CloudTrail-Insight/`). Matches trail keys with or
 * without an S3 key prefix, and organization trails (`AWSLogs/<o-id>/<account>/CloudTrail/...`):
 * `[prefix/]AWSLogs/[o-xxxxxxxxxx/]<account>/CloudTrail/<region>/YYYY/MM/DD/<account>_CloudTrail_<region>_<YYYYMMDDTHHmmZ>_<random>.json.gz`.
 * Tested against the decoded object key.
 */
export const DEFAULT_CLOUDTRAIL_KEY_FILTER = String.raw`(?:^|/)AWSLogs/(?:o-[a-z0-9]{10,32}/)?\d{12}/CloudTrail/[a-z0-9-]+/\d{4}/\d{2}/\d{2}/\d{12}_CloudTrail_[a-z0-9-]+_\d{8}T\d{4}Z_[A-Za-z0-9]+\.json\.gz$`;

/** The top-level fields of a CloudTrail record that tagging reads, captured while scanning. */
const TAGGING_FIELDS = ['eventSource', 'eventName', 'awsRegion', 'recipientAccountId'];

/** One CloudTrail record as compact JSON, with the top-level fields tagging needs. */
export interface CloudTrailRecord {
  readonly json: string;
  readonly eventSource: string | undefined;
  readonly eventName: string | undefined;
  readonly awsRegion: string | undefined;
  readonly recipientAccountId: string | undefined;
  /** All ASCII, and being compact JSON no raw CR or LF (CollectorEvent#plain). */
  readonly plain: boolean;
}

function cloudTrailRecord({ json, fields, plain }: ScannedRecord): CloudTrailRecord {
  return {
    json,
    eventSource: fields[0],
    eventName: fields[1],
    awsRegion: fields[2],
    recipientAccountId: fields[3],
    plain,
  };
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
 * not checked: it decodes to U+FFFD. Nesting deeper than MAX_JSON_DEPTH is OBJECT_CORRUPT. Outside
 * records nothing is held but the nesting and the start of a key (at most MATCHED_KEY_MAX bytes):
 * strings and numbers there may be of any length.
 */
export class CloudTrailLogSplitter {
  private readonly scanner: JsonRecordScanner;

  constructor(options: CloudTrailParseOptions = {}) {
    this.scanner = new JsonRecordScanner(
      ['Records'],
      'no top-level "Records" array: not a CloudTrail log file (digest files are excluded by s3_file_type_filter)',
      options.source ?? 'CloudTrail log file',
      options.maxRecordBytes ?? DEFAULT_MAX_RECORD_BYTES,
      { fields: TAGGING_FIELDS },
    );
  }

  push(chunk: Buffer): CloudTrailRecord[] {
    return this.scanner.push(chunk).map(cloudTrailRecord);
  }

  end(): CloudTrailRecord[] {
    return this.scanner.end().map(cloudTrailRecord);
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
  return cloudTrailRecord(compactJsonRecord(event, source, TAGGING_FIELDS));
}
