import { gunzipSync } from 'node:zlib';
import { decompress as zstdDecompress } from 'fzstd';
import {
  parquetMetadata,
  parquetRead,
  parquetSchema,
  type Compressors,
  type DecodedArray,
  type FileMetaData,
} from 'hyparquet';
import { CollectorError, ErrorCodes, isCollectorError } from '../core/errors.js';
import { corruptAt } from './corrupt.js';

/**
 * How a format reads Parquet objects: the object is read a row group at a time, and its rows
 * become the lines of the text the format's own parser reads.
 */
export interface ParquetAsText {
  /**
   * Largest row group read, in bytes (the larger of its uncompressed and compressed sizes; the
   * footer too): memory holds one row group. A larger one is OBJECT_LIMIT_EXCEEDED.
   */
  readonly maxRowGroupBytes: number;
  /** The text's first line, from the top-level column names in file order. */
  header(columns: readonly string[]): string;
  /** One row's line: its values in column order (null for a missing value). */
  line(values: readonly unknown[]): string;
}

/** Reads bytes [start, end) of the object (an S3 ranged GET), all of them or fails. */
export type RangeReader = (start: number, end: number) => Promise<Uint8Array>;

const MAGIC = Buffer.from('PAR1');
/** The footer's fixed tail: the metadata length (4 bytes, little-endian) and the magic. */
const TAIL = 8;
/** Text handed to the parser at a time. */
const TEXT_CHUNK = 256 * 1024;

/** Whether content starting with `head` is a Parquet file (its first 4 bytes are `PAR1`). */
export function isParquet(head: Uint8Array): boolean {
  return head.length >= 4 && MAGIC.equals(head.subarray(0, 4));
}

/**
 * Page codecs beyond hyparquet's own (SNAPPY, UNCOMPRESSED): GZIP (what VPC Flow Logs write) and
 * ZSTD. Each page is decoded to at most the size its header declares.
 */
const COMPRESSORS: Compressors = {
  GZIP: (input, length) => gunzipSync(input, { maxOutputLength: Math.max(length, 1) }),
  ZSTD: (input, length) => zstdDecompress(input, new Uint8Array(length)),
};

/**
 * The rows of a Parquet object as text for a line parser: the header line, then a line per row,
 * in chunks of about 256 KiB. The footer and then each row group are fetched through `read`
 * (ranged GETs: hyparquet coalesces a row group's column chunks into reads of up to 2 MiB), so
 * memory holds one row group's columns and one text chunk, whatever the object's size.
 *
 * A file that is not valid Parquet (bad footer, undecodable page) is an OBJECT_CORRUPT CollectorError
 * with the byte offset (and the row group); a footer or row group larger than `maxRowGroupBytes`
 * is OBJECT_LIMIT_EXCEEDED naming the row group, before any text. A corruption comes after the
 * text of the row groups before it. Errors of `read` are rethrown unchanged.
 */
export class ParquetTextStream implements AsyncIterable<Buffer> {
  private fetched = 0;
  private produced = 0;

  constructor(
    private readonly read: RangeReader,
    private readonly size: number,
    private readonly text: ParquetAsText,
    private readonly source: string,
  ) {}

  /** Bytes of the object fetched so far. */
  get compressedBytes(): number {
    return this.fetched;
  }

  /** Text bytes yielded so far. */
  get decompressedBytes(): number {
    return this.produced;
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<Buffer> {
    const { metadata, columns } = await this.footer();
    // Checked before any row is read: an object refused for its size delivers nothing.
    metadata.row_groups.forEach((group, g) => {
      const compressed = group.columns.reduce(
        (n, c) => n + Number(c.meta_data?.total_compressed_size ?? 0),
        0,
      );
      this.checkLimit(Math.max(Number(group.total_byte_size), compressed), `row group ${g}`, { rowGroup: g });
    });
    let text = `${this.text.header(columns)}\n`;
    let groupStart = 0;
    for (let g = 0; g < metadata.row_groups.length; g++) {
      const group = metadata.row_groups[g]!;
      const rows = Number(group.num_rows);
      const data = await this.rowGroup(metadata, g, groupStart, rows, columns);
      const values: unknown[] = new Array(columns.length);
      for (let r = 0; r < rows; r++) {
        for (let c = 0; c < columns.length; c++) values[c] = data[c]!.at(r);
        text += `${this.text.line(values)}\n`;
        if (text.length >= TEXT_CHUNK) {
          yield this.chunk(text);
          text = '';
        }
      }
      groupStart += rows;
    }
    if (text.length > 0) yield this.chunk(text);
  }

  private chunk(text: string): Buffer {
    const bytes = Buffer.from(text, 'utf8');
    this.produced += bytes.length;
    return bytes;
  }

  private async fetch(start: number, end: number): Promise<Uint8Array> {
    const bytes = await this.read(start, end);
    this.fetched += bytes.length;
    return bytes;
  }

  /** The file metadata, from the footer at the end of the object, and its columns. */
  private async footer(): Promise<{ metadata: FileMetaData; columns: string[] }> {
    const { size, source } = this;
    if (size < MAGIC.length + TAIL)
      throw corruptAt(source, 0, `too short for a Parquet file (${size} bytes)`);
    const tail = await this.fetch(size - TAIL, size);
    if (!isParquet(tail.subarray(4))) {
      throw corruptAt(source, size - 4, 'no PAR1 magic at the end: not a whole Parquet file (truncated?)');
    }
    const length = Buffer.from(tail).readUInt32LE(0);
    const start = size - TAIL - length;
    if (start < MAGIC.length) {
      throw corruptAt(source, size - TAIL, `the footer length ${length} is larger than the file`);
    }
    this.checkLimit(length, 'the footer', { footerOffset: start });
    const footer = await this.fetch(start, size);
    let metadata: FileMetaData;
    let columns;
    try {
      metadata = parquetMetadata(footer);
      columns = parquetSchema(metadata).children;
    } catch (err) {
      throw corruptAt(source, start, `invalid Parquet footer: ${(err as Error).message}`, {}, err);
    }
    // Rows of text come from a flat table: a nested column has no place in a line.
    const nested = columns.find((c) => c.children.length > 0);
    if (nested !== undefined) {
      throw corruptAt(source, start, `column ${nested.element.name} is nested: not a table of plain columns`);
    }
    return { metadata, columns: columns.map((c) => c.element.name) };
  }

  /** One row group's columns, in `columns` order, each readable by row index within the group. */
  private async rowGroup(
    metadata: FileMetaData,
    g: number,
    groupStart: number,
    rows: number,
    columns: readonly string[],
  ): Promise<ColumnValues[]> {
    const group = metadata.row_groups[g]!;
    const chunks = new Map<string, { rowStart: number; data: DecodedArray }[]>();
    const file = {
      byteLength: this.size,
      slice: async (start: number, end = this.size): Promise<ArrayBuffer> => {
        const bytes = await this.fetch(start, end);
        return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length) as ArrayBuffer;
      },
    };
    try {
      // A column at a time: only one column's pages and decoding buffers exist at once, beside the
      // decoded columns kept for the rows.
      for (const column of columns) {
        await parquetRead({
          file,
          metadata,
          columns: [column],
          rowStart: groupStart,
          rowEnd: groupStart + rows,
          compressors: COMPRESSORS,
          onChunk: ({ columnName, columnData, rowStart }) => {
            const list = chunks.get(columnName) ?? [];
            list.push({ rowStart: rowStart - groupStart, data: columnData });
            chunks.set(columnName, list);
          },
        });
      }
    } catch (err) {
      if (isCollectorError(err)) throw err;
      // Not ours and not the read's: hyparquet could not decode the row group.
      const offset = Number(group.columns[0]?.meta_data?.data_page_offset ?? 0);
      throw corruptAt(this.source, offset, `row group ${g}: ${(err as Error).message}`, { rowGroup: g }, err);
    }
    return columns.map((name) => {
      const list = chunks.get(name);
      if (list === undefined) {
        throw corruptAt(this.source, 0, `row group ${g} has no data for column ${name}`, { rowGroup: g });
      }
      return new ColumnValues(list.sort((a, b) => a.rowStart - b.rowStart));
    });
  }

  private checkLimit(bytes: number, what: string, details: Record<string, unknown>): void {
    const limit = this.text.maxRowGroupBytes;
    if (bytes <= limit) return;
    throw new CollectorError(
      ErrorCodes.OBJECT_LIMIT_EXCEEDED,
      `${this.source}: ${what} holds ${bytes} bytes, more than the ${limit} bytes read at once (max_parquet_row_group_bytes)`,
      { details: { source: this.source, bytes, limit, ...details } },
    );
  }
}

/** One column of a row group, as the chunks hyparquet decoded, read by increasing row index. */
class ColumnValues {
  private index = 0;

  constructor(private readonly chunks: readonly { rowStart: number; data: DecodedArray }[]) {}

  at(row: number): unknown {
    let chunk = this.chunks[this.index]!;
    while (row >= chunk.rowStart + chunk.data.length && this.index < this.chunks.length - 1) {
      chunk = this.chunks[++this.index]!;
    }
    return chunk.data[row - chunk.rowStart];
  }
}
