import { DEFAULT_MAX_RECORD_BYTES, JsonRecordScanner } from './json-scanner.js';

/**
 * AWS Config's delivery-channel check object (`<prefix>/AWSLogs/<account>/Config/ConfigWritabilityCheckFile`):
 * written to test that the bucket is writable, it holds no configuration item.
 */
export const CONFIG_WRITABILITY_CHECK_KEY = /(?:^|\/)ConfigWritabilityCheckFile$/;

export interface AwsConfigParseOptions {
  /** Names the input in error messages, e.g. `s3://bucket/key`. */
  source?: string;
  /** Most bytes of one configuration item held across chunks (default 32 MiB). */
  maxRecordBytes?: number;
}

/**
 * Streaming splitter for AWS Config snapshot and history files
 * (`{"fileVersion":"1.0","configSnapshotId":...,"configurationItems":[{...},...]}`): each element of
 * `configurationItems` comes out as compact JSON as soon as it is complete, as CloudTrailLogSplitter
 * does with `Records`; the document is never held whole. Invalid JSON, a truncated document or one
 * without a `configurationItems` array is an OBJECT_CORRUPT CollectorError with the byte offset,
 * after the items before it were returned.
 */
export function awsConfigSplitter(options: AwsConfigParseOptions = {}): JsonRecordScanner {
  return new JsonRecordScanner(
    ['configurationItems'],
    'no top-level "configurationItems" array: not an AWS Config snapshot or history file',
    options.source ?? 'AWS Config file',
    options.maxRecordBytes ?? DEFAULT_MAX_RECORD_BYTES,
  );
}
