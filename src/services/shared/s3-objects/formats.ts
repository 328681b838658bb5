import type { MessageSink } from '../../../formats/lines.js';
import type { S3ObjectRef } from '../../../formats/notifications.js';
import type { ParquetAsText } from '../../../formats/parquet.js';
import type { CollectorEvent } from '../../../core/batch.js';
import type { ScannedRecord } from '../../../formats/json-scanner.js';

/**
 * Turns the decompressed bytes of one object into events, chunk by chunk. push() and end() append
 * to `out`; they throw an OBJECT_CORRUPT CollectorError on bad content, after the events read
 * before the problem were appended (by that call or an earlier one), and OBJECT_REJECTED or
 * OBJECT_UNSUPPORTED when the object is not of a format they read (its message is then kept).
 */
export interface ObjectParser {
  push(chunk: Buffer, out: CollectorEvent[]): void;
  end(out: CollectorEvent[]): void;
  /** Events dropped on purpose so far (drop_event_names). */
  readonly dropped: number;
  /** Rows delivered as written though not of the expected shape (field count off). */
  readonly malformed: number;
}

/** What kind of object a worker reads: which keys, and how their content becomes events. */
export interface ObjectFormat {
  /** For logs and metric labels, e.g. `cloudtrail`. */
  readonly name: string;
  /** Whether an object is read at all; the others are skipped and counted as filtered. */
  accepts(key: string): boolean;
  /**
   * A parser for one object; `source` names it in error messages (`s3://bucket/key`), `ref` is the
   * object (formats chosen per object read its key).
   */
  open(source: string, ref: S3ObjectRef): ObjectParser;
  /**
   * How the format reads a Parquet object (found by its `PAR1` magic) of this key, if it does: its
   * rows are turned into this format's own text and handed to open()'s parser. Otherwise a Parquet
   * object is OBJECT_UNSUPPORTED and keeps its message.
   */
  parquet?(key: string): ParquetAsText | undefined;
}

/** A streaming parser of lines (formats/), each line one message. */
export interface LineParser {
  pushTo(chunk: Buffer, sink: MessageSink): void;
  endTo(sink: MessageSink): void;
  readonly malformed: number;
}

/** Makes the parser's messages events of one tag, straight into the caller's array. */
class EventSink implements MessageSink {
  out: CollectorEvent[] = [];

  constructor(private readonly tag: string) {}

  push(message: string, plain: boolean): void {
    this.out.push({ tag: this.tag, message, plain });
  }

  pushRun(text: string, lines: number): void {
    this.out.push({ tag: this.tag, message: text, plain: true, lines });
  }
}

/** An ObjectParser making a line parser's messages events of one tag. */
export function lineParser(parser: LineParser, tag: string): ObjectParser {
  const sink = new EventSink(tag);
  return {
    push(chunk, out) {
      sink.out = out;
      parser.pushTo(chunk, sink);
    },
    end(out) {
      sink.out = out;
      parser.endTo(sink);
    },
    dropped: 0,
    get malformed() {
      return parser.malformed;
    },
  };
}

/** A streaming splitter of JSON records (formats/): each record's compact JSON one event. */
export interface RecordSplitter {
  push(chunk: Buffer): ScannedRecord[];
  end(): ScannedRecord[];
}

/** An ObjectParser making a record splitter's records events of one tag. */
export function recordParser(splitter: RecordSplitter, tag: string): ObjectParser {
  const add = (records: ScannedRecord[], out: CollectorEvent[]): void => {
    for (const r of records) out.push({ tag, message: r.json, plain: r.plain });
  };
  return {
    push: (chunk, out) => add(splitter.push(chunk), out),
    end: (out) => add(splitter.end(), out),
    dropped: 0,
    malformed: 0,
  };
}
