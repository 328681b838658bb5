import { escapeLineBreaks } from './line-breaks.js';

/**
 * VPC Flow Logs in Parquet (`FileFormat=parquet`) as the text format writes them, so a flow log
 * delivers the same events whichever file format it uses: AWS names the columns after the fields
 * with '_' for '-' (`account_id`, `log_status`), in the flow log's field order, typed int, bigint
 * or string; the text format is a header line of field names, then one space-separated line per
 * record with `-` for a value the record does not have. VpcFlowLogParser then reads that text.
 */

/** The text header: the columns' field names (`account_id` -> `account-id`), space-separated. */
export function vpcFlowParquetHeader(columns: readonly string[]): string {
  return columns.map((c) => c.replaceAll('_', '-')).join(' ');
}

/**
 * One record's text line: numbers (INT32, and INT64 as bigint) in decimal, strings as stored,
 * null as `-`. A raw line break inside a string is escaped, so a record stays one line.
 */
export function vpcFlowParquetLine(values: readonly unknown[]): string {
  let line = '';
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    const text =
      v === null || v === undefined ? '-' : typeof v === 'string' ? escapeLineBreaks(v) : String(v);
    line += i === 0 ? text : ` ${text}`;
  }
  return line;
}
