import { JsonDocumentParser } from '../../formats/json-events.js';
import { JsonLinesParser } from '../../formats/json-lines.js';
import { PlainLineParser } from '../../formats/plain-lines.js';
import {
  awsConfigFormat,
  elbFormat,
  jsonLinesFormat,
  s3AccessFormat,
} from '../shared/s3-objects/aws-formats.js';
import { cloudTrailFormat } from '../shared/s3-objects/cloudtrail-format.js';
import { lineParser, recordParser, type ObjectFormat } from '../shared/s3-objects/formats.js';
import { cloudFrontFormat, vpcFlowLogsFormat } from '../shared/s3-objects/log-formats.js';
import type { ContentFormat } from './kinds.js';

export interface FormatOptions {
  /** expand_event_list_from_field (json). */
  readonly expandEventListFromField?: string | undefined;
  /** max_parquet_row_group_bytes (vpcflowlogs read from Parquet). */
  readonly maxParquetRowGroupBytes?: number;
}

/** How one format reads objects, all of one tag. */
export type FormatFactory = (tag: string, options: FormatOptions) => ObjectFormat;

/** Each line an event, as written. */
export function linesFormat(tag: string): ObjectFormat {
  return {
    name: 'lines',
    accepts: () => true,
    open: (source) => lineParser(new PlainLineParser({ source }), tag),
  };
}

/** Each line a JSON object, sent compact. */
export function ndjsonFormat(tag: string): ObjectFormat {
  return {
    name: 'ndjson',
    accepts: () => true,
    open: (source) => lineParser(new JsonLinesParser({ source, badLine: 'refuse' }), tag),
  };
}

/** A JSON document: its array's elements (or expand_event_list_from_field's), or the object itself. */
export function jsonFormat(tag: string, options: FormatOptions): ObjectFormat {
  return {
    name: 'json',
    accepts: () => true,
    open: (source) =>
      recordParser(
        new JsonDocumentParser({
          source,
          ...(options.expandEventListFromField === undefined
            ? {}
            : { expandField: options.expandEventListFromField }),
        }),
        tag,
      ),
  };
}

/** Format name → how it reads objects: the one place a format is connected. */
export const FORMAT_FACTORIES: Record<ContentFormat, FormatFactory> = {
  lines: linesFormat,
  ndjson: ndjsonFormat,
  json: jsonFormat,
  cloudtrail: (tag) =>
    cloudTrailFormat({
      tagger: { constant: tag, tagFor: () => tag },
      keyFilter: /(?:)/,
      dropEventNames: [],
    }),
  vpcflowlogs: (tag, options) => vpcFlowLogsFormat(tag, options.maxParquetRowGroupBytes),
  cloudfront: cloudFrontFormat,
  elb: elbFormat,
  s3_access: s3AccessFormat,
  waf: jsonLinesFormat,
  route53_resolver: jsonLinesFormat,
  network_firewall: jsonLinesFormat,
  guardduty: jsonLinesFormat,
  aws_config: awsConfigFormat,
};
