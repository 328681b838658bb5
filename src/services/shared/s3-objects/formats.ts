import { CloudFrontLogParser } from '../../../formats/cloudfront.js';
import { CloudTrailLogSplitter } from '../../../formats/cloudtrail.js';
import type { MessageSink } from '../../../formats/lines.js';
import { VpcFlowLogParser } from '../../../formats/vpc-flow.js';
import type { CollectorEvent } from '../../../core/batch.js';
import type { Tagger } from '../tagging/tagger.js';

/**
 * Turns the decompressed bytes of one object into events, chunk by chunk. push() and end() append
 * to `out`; they throw an OBJECT_CORRUPT CollectorError on bad content, after the events read
 * before the problem were appended (by that call or an earlier one).
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
  /** A parser for one object; `source` names it in error messages (`s3://bucket/key`). */
  open(source: string): ObjectParser;
}

export interface CloudTrailFormatOptions {
  tagger: Tagger;
  /** s3_file_type_filter, tested against the decoded key. */
  keyFilter: RegExp;
  /** drop_event_names. */
  dropEventNames: readonly string[];
}

/** CloudTrail log files: one event per element of `Records`, as compact JSON. */
export function cloudTrailFormat(options: CloudTrailFormatOptions): ObjectFormat {
  const { tagger } = options;
  const drop = new Set(options.dropEventNames);
  // A global or sticky RegExp keeps state between test() calls; a copy without those flags has none.
  const filter = new RegExp(options.keyFilter.source, options.keyFilter.flags.replace(/[gy]/g, ''));
  return {
    name: 'cloudtrail',
    accepts: (key) => filter.test(key),
    open(source) {
      const splitter = new CloudTrailLogSplitter({ source });
      let dropped = 0;
      const add = (records: ReturnType<CloudTrailLogSplitter['push']>, out: CollectorEvent[]): void => {
        for (const r of records) {
          if (r.eventName !== undefined && drop.has(r.eventName)) {
            dropped++;
            continue;
          }
          const tag =
            tagger.constant ??
            tagger.tagFor({
              eventSource: r.eventSource,
              region: r.awsRegion,
              accountId: r.recipientAccountId,
            });
          out.push({ tag, message: r.json, plain: r.plain });
        }
      };
      return {
        push: (chunk, out) => add(splitter.push(chunk), out),
        end: (out) => add(splitter.end(), out),
        get dropped() {
          return dropped;
        },
        malformed: 0,
      };
    },
  };
}

/** VPC Flow Logs files: one event per record row (see VpcFlowLogParser for the message). */
export function vpcFlowLogsFormat(tag: string): ObjectFormat {
  return {
    name: 'vpcflowlogs',
    accepts: () => true,
    open(source) {
      return lineParser(new VpcFlowLogParser({ source }), tag);
    },
  };
}

/** CloudFront standard logs: one event per record line, as written. */
export function cloudFrontFormat(tag: string): ObjectFormat {
  return {
    name: 'cloudfront',
    accepts: () => true,
    open(source) {
      return lineParser(new CloudFrontLogParser({ source }), tag);
    },
  };
}

interface LineParser {
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

function lineParser(parser: LineParser, tag: string): ObjectParser {
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
