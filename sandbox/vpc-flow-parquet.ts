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
  /**
   * GZIP pages (default, as AWS writes); or UNCOMPRESSED, which also writes PLAIN values and no
   * statistics: a large file made several times faster.
   */
  codec?: 'GZIP' | 'UNCOMPRESSED';
}

/** Typed columns from rows of text fields (`-`: no value). */
function columns(
  fields: readonly string[],
  rows: readonly (readonly string[])[],
  codec: VpcFlowParquetOptions['codec'],
): ColumnSource[] {
  const fast = codec === 'UNCOMPRESSED' ? ({ encoding: 'PLAIN', statistics: false } as const) : {};
  return fields.map((field, c) => {
    const type: BasicType = INT32.has(field) ? 'INT32' : INT64.has(field) ? 'INT64' : 'STRING';
    const data = rows.map((row) => {
      const v = row[c] as string;
      if (v === '-') return null;
      return type === 'INT32' ? Number(v) : type === 'INT64' ? BigInt(v) : v;
    });
    // No offset index: row groups copied by writeVpcFlowParquetFile carry no index of their own.
    return { name: field.replaceAll('-', '_'), data, type, nullable: true, offsetIndex: false, ...fast };
  });
}

function writer(to: Writer, fields: readonly string[], codec: VpcFlowParquetOptions['codec']): ParquetWriter {
  const schema = schemaFromColumnData({ columnData: columns(fields, [], codec) });
  return new ParquetWriter({
    writer: to,
    schema,
    codec: codec ?? 'GZIP',
    compressors: { GZIP: (b) => gzipSync(b) },
  });
}

/** A Parquet flow log file holding `rows` (text fields in `fields` order), in memory. */
export function vpcFlowParquet(
  fields: readonly string[],
  rows: readonly (readonly string[])[],
  options: VpcFlowParquetOptions = {},
): Buffer {
  const bytes = new ByteWriter();
  const w = writer(bytes, fields, options.codec);
  void w.write({
    columnData: columns(fields, rows, options.codec),
    rowGroupSize: options.rowGroupRows ?? 100_000,
  });
  void w.finish();
  return Buffer.from(bytes.getBytes());
}

/**
 * Writes to `filename` a Parquet flow log file of `copies` row groups, each holding `rows`: the row
 * group is encoded once and its bytes repeated (with their offsets in the footer), so a file of
 * hundreds of MB takes seconds; each row group is still read and decoded on its own.
 */
export function writeVpcFlowParquetFile(
  filename: string,
  fields: readonly string[],
  rows: readonly (readonly string[])[],
  copies: number,
  options: Pick<VpcFlowParquetOptions, 'codec'> = {},
): void {
  const one = new ByteWriter();
  const first = writer(one, fields, options.codec);
  void first.write({ columnData: columns(fields, rows, options.codec), rowGroupSize: rows.length });
  const group = first.row_groups[0]!;
  // The row group's bytes: after the leading magic, up to the end of what write() wrote.
  const bytes = new Uint8Array(one.getBuffer(), 4, one.offset - 4).slice();
  const file = writer(fileWriter(filename), fields, options.codec);
  for (let k = 0; k < copies; k++) {
    file.writer.appendBytes(bytes);
    const shift = BigInt(k * bytes.length);
    const moved = (n: bigint | undefined): bigint | undefined => (n === undefined ? undefined : n + shift);
    file.row_groups.push({
      ...group,
      columns: group.columns.map((c) => ({
        ...c,
        file_offset: c.file_offset + shift,
        ...(c.meta_data && {
          meta_data: {
            ...c.meta_data,
            data_page_offset: c.meta_data.data_page_offset + shift,
            dictionary_page_offset: moved(c.meta_data.dictionary_page_offset),
            index_page_offset: moved(c.meta_data.index_page_offset),
          },
        }),
      })),
    });
    file.num_rows += group.num_rows;
  }
  void file.finish();
}
