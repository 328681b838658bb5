import type { ObjectFormat, ObjectParser } from '../shared/s3-objects/formats.js';
import { FORMAT_FACTORIES } from './formats.js';
import { kindOfFormat, kindOfKey, sniffFormat, type FormatName, type LogKind } from './kinds.js';

/** A `file_selectors` entry (validated). */
export interface FileSelector {
  readonly regex: RegExp;
  readonly format?: FormatName | undefined;
  readonly tag?: string | undefined;
  readonly expand_event_list_from_field?: string | undefined;
}

export interface SelectionOptions {
  /** The service's `format`, `tag` and `expand_event_list_from_field`: for keys no selector matches. */
  readonly format: FormatName;
  readonly tag?: string | undefined;
  readonly expandEventListFromField?: string | undefined;
  readonly selectors: readonly FileSelector[];
  /** s3_file_type_filter: only matching keys are read. */
  readonly keyFilter?: RegExp | undefined;
  /** The tag of a kind's events: `template` (the user's tag, or none) filled for that kind. */
  readonly tagFor: (template: string | undefined, kind: LogKind) => string;
  /** max_parquet_row_group_bytes. */
  readonly maxParquetRowGroupBytes: number;
}

/** Bytes of decompressed content looked at to recognise a format whose key says nothing. */
const SNIFF_BYTES = 64 * 1024;

/**
 * The format of each object, chosen from its key: the first `file_selectors` entry whose regex
 * matches gives format, tag and expand_event_list_from_field (each defaulting to the service's);
 * `auto` recognises AWS's key layouts (kinds.ts), else the content's first line. A Parquet object
 * is read when its key shows a kind that reads Parquet (VPC Flow Logs); otherwise it is
 * OBJECT_UNSUPPORTED (its message is kept).
 */
export function selectingFormat(options: SelectionOptions): ObjectFormat {
  const choose = (key: string) => {
    const selector = options.selectors.find((s) => s.regex.test(key));
    return {
      format: selector?.format ?? options.format,
      tag: selector?.tag ?? options.tag,
      expand: selector?.expand_event_list_from_field ?? options.expandEventListFromField,
    };
  };
  const formatOf = (kind: LogKind, chosen: ReturnType<typeof choose>): ObjectFormat =>
    FORMAT_FACTORIES[kind.format](options.tagFor(chosen.tag, kind), {
      expandEventListFromField: chosen.expand,
      maxParquetRowGroupBytes: options.maxParquetRowGroupBytes,
    });
  const kindByKey = (key: string, chosen: ReturnType<typeof choose>): LogKind | undefined =>
    chosen.format === 'auto' ? kindOfKey(key) : kindOfFormat(chosen.format, key);
  return {
    name: options.format,
    accepts(key) {
      if (options.keyFilter && !options.keyFilter.test(key)) return false;
      return !(choose(key).format === 'auto' && kindOfKey(key)?.skip === true);
    },
    parquet(key) {
      const chosen = choose(key);
      const kind = kindByKey(key, chosen);
      return kind && formatOf(kind, chosen).parquet?.(key);
    },
    open(source, ref) {
      const chosen = choose(ref.key);
      const kind = kindByKey(ref.key, chosen);
      if (kind) return formatOf(kind, chosen).open(source, ref);
      return sniffing((head) => formatOf(kindOfFormat(sniffFormat(head), ref.key), chosen).open(source, ref));
    },
  };
}

/**
 * A parser chosen once the content's first line (or SNIFF_BYTES) was read: what was held is then
 * handed to it, so it sees the whole content.
 */
function sniffing(choose: (head: string) => ObjectParser): ObjectParser {
  let parser: ObjectParser | undefined;
  const held: Buffer[] = [];
  let heldBytes = 0;
  const start = (): { parser: ObjectParser; head: Buffer } => {
    const head = Buffer.concat(held);
    held.length = 0;
    parser = choose(head.subarray(0, SNIFF_BYTES).toString('utf8'));
    return { parser, head };
  };
  return {
    push(chunk, out) {
      if (parser) return parser.push(chunk, out);
      held.push(chunk);
      heldBytes += chunk.length;
      if (chunk.includes(0x0a) || heldBytes >= SNIFF_BYTES) {
        const started = start();
        started.parser.push(started.head, out);
      }
    },
    end(out) {
      if (!parser) {
        const started = start();
        if (started.head.length > 0) started.parser.push(started.head, out);
      }
      parser!.end(out);
    },
    get dropped() {
      return parser?.dropped ?? 0;
    },
    get malformed() {
      return parser?.malformed ?? 0;
    },
  };
}
