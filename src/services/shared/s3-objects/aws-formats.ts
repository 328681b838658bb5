import { AwsConfigSplitter, CONFIG_WRITABILITY_CHECK_KEY } from '../../../formats/aws-config.js';
import { JsonLinesParser } from '../../../formats/json-lines.js';
import { PlainLineParser } from '../../../formats/plain-lines.js';
import type { CollectorEvent } from '../../../core/batch.js';
import { lineParser, type ObjectFormat } from './formats.js';

/** Elastic Load Balancing access logs (Application, Network TLS, Classic): each line as written. */
export function elbFormat(tag: string): ObjectFormat {
  return {
    name: 'elb',
    accepts: () => true,
    open: (source) => lineParser(new PlainLineParser({ source }), tag),
  };
}

/** S3 server access logs: each line as written. */
export function s3AccessFormat(tag: string): ObjectFormat {
  return {
    name: 's3access',
    accepts: () => true,
    open: (source) => lineParser(new PlainLineParser({ source }), tag),
  };
}

/**
 * JSON Lines logs — AWS WAF, Route 53 Resolver query logs, AWS Network Firewall (alert, flow, tls),
 * GuardDuty findings exported to S3: one event per line, compact, strings and numbers as written.
 */
export function jsonLinesFormat(tag: string): ObjectFormat {
  return {
    name: 'jsonlines',
    accepts: () => true,
    open: (source) => lineParser(new JsonLinesParser({ source }), tag),
  };
}

/**
 * AWS Config snapshot and history files: one event per configuration item, streamed. The
 * ConfigWritabilityCheckFile AWS Config writes to test the bucket holds none: skipped by its key.
 */
export function awsConfigFormat(tag: string): ObjectFormat {
  return {
    name: 'awsconfig',
    accepts: (key) => !CONFIG_WRITABILITY_CHECK_KEY.test(key),
    open(source) {
      const splitter = new AwsConfigSplitter({ source });
      const add = (items: ReturnType<AwsConfigSplitter['push']>, out: CollectorEvent[]): void => {
        for (const item of items) out.push({ tag, message: item.json, plain: item.plain });
      };
      return {
        push: (chunk, out) => add(splitter.push(chunk), out),
        end: (out) => add(splitter.end(), out),
        dropped: 0,
        malformed: 0,
      };
    },
  };
}
