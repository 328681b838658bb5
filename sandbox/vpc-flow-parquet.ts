import { gzipSync } from 'node:zlib';
import {
  ByteWriter,
  ParquetWriter,
  fileWriter,
  schemaFromColumnData,
  type BasicType,
  type ColumnSource,
  type Writer,
} from 'hyparquet-writer';

/**
 * VPC Flow Logs as AWS writes them with `FileFormat=parquet`, for tests, benchmarks and the demo:
 * a column per field, named with '_' for '-', typed as AWS documents them (the Athena table for
 * Parquet flow logs: version, srcport, dstport, tcp_flags, traffic_path int; protocol, packets,
 * bytes, start, end bigint; the others string), nullable, pages compressed with GZIP.
 */
const INT32 = new Set(['version', 'srcport', 'dstport', 'tcp-flags', 'traffic-path']);
const INT64 = new Set(['protocol', 'packets', 'bytes', 'start', 'end']);

export interface VpcFlowParquetOptions {
  /** Rows per row group (default 100,000). */
  rowGroupRows?: number;
}

/** Typed columns from rows of text fields (`-`: no value). */
function columns(fields: readonly string[], rows: readonly (readonly string[])[]): ColumnSource[] {
  return fields.map((field, c) => {
    const type: BasicType = INT32.has(field) ? 'INT32' : INT64.has(field) ? 'INT64' : 'STRING';
    const data = rows.map((row) => {
      const v = row[c] as string;
      if (v === '-') return null;
      return type === 'INT32' ? Number(v) : type === 'INT64' ? BigInt(v) : v;
    });
    return { name: field.replaceAll('-', '_'), data, type, nullable: true };
  });
}

function writer(to: Writer, fields: readonly string[]): ParquetWriter {
  const schema = schemaFromColumnData({ columnData: columns(fields, []) });
  return new ParquetWriter({ writer: to, schema, codec: 'GZIP', compressors: { GZIP: (b) => gzipSync(b) } });
}

/** A Parquet flow log file holding `rows` (text fields in `fields` order), in memory. */
export function vpcFlowParquet(
  fields: readonly string[],
  rows: readonly (readonly string[])[],
  options: VpcFlowParquetOptions = {},
): Buffer {
  const bytes = new ByteWriter();
  const w = writer(bytes, fields);
  void w.write({ columnData: columns(fields, rows), rowGroupSize: options.rowGroupRows ?? 100_000 });
  void w.finish();
  return Buffer.from(bytes.getBytes());
}

/**
 * Writes a Parquet flow log file of the row batches `batches` yields (each a row group of its
 * own) to `filename`, never holding more than one batch.
 */
export function writeVpcFlowParquetFile(
  filename: string,
  fields: readonly string[],
  batches: Iterable<readonly (readonly string[])[]>,
): void {
  const w = writer(fileWriter(filename), fields);
  for (const rows of batches) void w.write({ columnData: columns(fields, rows), rowGroupSize: rows.length });
  void w.finish();
}
