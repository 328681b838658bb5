import { CollectorError, ErrorCodes, isCollectorError } from '../core/errors.js';
import { DEFAULT_MAX_RECORD_BYTES, JsonRecordScanner, type ScannedRecord } from './json-scanner.js';
import { rejectedAt } from './corrupt.js';

/** Whitespace before a JSON document beyond this is not a JSON document (it is replayed to the scanner). */
const MAX_LEADING_WHITESPACE = 64 * 1024;

/**
 * Generic JSON content (the `json` format of S3 objects; `ndjson` is JsonLinesParser refusing bad
 * lines). Both reject (OBJECT_REJECTED)
 * content that is not what was asked for before a single event was read — the object is then not of
 * this format, and its message is kept — and report a problem found after events were read as
 * OBJECT_CORRUPT, as the other parsers do.
 */

/** OBJECT_CORRUPT found before any event: the content is not of the format at all. */
export function rejectIfFirst(err: unknown, events: number): unknown {
  if (events > 0 || !isCollectorError(err, ErrorCodes.OBJECT_CORRUPT)) return err;
  return new CollectorError(ErrorCodes.OBJECT_REJECTED, err.message, { cause: err, details: err.details });
}

export interface JsonDocumentOptions {
  /** Names the input in error messages, e.g. `s3://bucket/key`. */
  source?: string;
  /** expand_event_list_from_field: the document is an object; each element of this array is an event. */
  expandField?: string;
  /** Most bytes of one event (and of a whole document that is one event); default 32 MiB. */
  maxRecordBytes?: number;
}

/**
 * One JSON document, streamed: with `expandField`, each element of that top-level array; else an
 * array's elements, or an object as one event. Events are compact JSON, numbers and strings exactly
 * as written; elements must be objects. Nesting is bounded (MAX_JSON_DEPTH), as is an event's size.
 */
export class JsonDocumentParser {
  private readonly source: string;
  private scanner: JsonRecordScanner | undefined;
  private emitted = 0;
  private offset = 0;

  constructor(private readonly options: JsonDocumentOptions = {}) {
    this.source = options.source ?? 'JSON document';
  }

  /** The events completed by this chunk (`json`: compact JSON; `plain`: all ASCII). */
  push(chunk: Buffer): ScannedRecord[] {
    try {
      this.scanner ??= this.open(chunk);
      if (!this.scanner) {
        this.offset += chunk.length;
        if (this.offset > MAX_LEADING_WHITESPACE)
          throw rejectedAt(this.source, this.offset, 'only whitespace: no JSON document');
        return [];
      }
      return this.take(this.scanner.push(chunk));
    } catch (err) {
      throw rejectIfFirst(err, this.emitted);
    }
  }

  end(): ScannedRecord[] {
    try {
      // Only whitespace: the scanner reports the empty document.
      this.scanner ??= this.create(false);
      return this.take(this.scanner.end());
    } catch (err) {
      throw rejectIfFirst(err, this.emitted);
    }
  }

  /** The scanner, once the first byte that is not whitespace tells an array from an object. */
  private open(chunk: Buffer): JsonRecordScanner | undefined {
    for (const c of chunk) {
      if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) continue;
      const scanner = this.create(c === 0x5b && this.options.expandField === undefined);
      // Whitespace before it, in earlier chunks, is whitespace to the scanner too.
      if (this.offset > 0) scanner.push(Buffer.alloc(this.offset, 0x20));
      return scanner;
    }
    return undefined;
  }

  private create(rootArray: boolean): JsonRecordScanner {
    const field = this.options.expandField;
    return new JsonRecordScanner(
      field === undefined ? [] : [field],
      `no "${field}" array (expand_event_list_from_field)`,
      this.source,
      this.options.maxRecordBytes ?? DEFAULT_MAX_RECORD_BYTES,
      { rootArray },
    );
  }

  private take(records: ScannedRecord[]): ScannedRecord[] {
    this.emitted += records.length;
    return records;
  }
}
