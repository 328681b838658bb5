import { CloudTrailLogSplitter } from '../../../formats/cloudtrail.js';
import type { CollectorEvent } from '../../../core/batch.js';
import type { ObjectFormat } from './formats.js';
import type { Tagger } from '../tagging/tagger.js';

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
