import { awsConfigSplitter, CONFIG_WRITABILITY_CHECK_KEY } from '../../../formats/aws-config.js';
import { JsonLinesParser } from '../../../formats/json-lines.js';
import { PlainLineParser } from '../../../formats/plain-lines.js';
import { lineParser, recordParser, type LineParser, type ObjectFormat } from './formats.js';

/** Every object read, each line one event of `tag` (see LineParser). */
function lineFormat(name: string, tag: string, parser: (source: string) => LineParser): ObjectFormat {
  return { name, accepts: () => true, open: (source) => lineParser(parser(source), tag) };
}

/** Elastic Load Balancing access logs (Application, Network TLS, Classic): each line as written. */
export function elbFormat(tag: string): ObjectFormat {
  return lineFormat('elb', tag, (source) => new PlainLineParser({ source }));
}

/** S3 server access logs: each line as written. */
export function s3AccessFormat(tag: string): ObjectFormat {
  return lineFormat('s3access', tag, (source) => new PlainLineParser({ source }));
}

/**
 * JSON Lines logs — AWS WAF, Route 53 Resolver query logs, AWS Network Firewall (alert, flow, tls),
 * GuardDuty findings exported to S3: one event per line, compact, strings and numbers as written.
 */
export function jsonLinesFormat(tag: string): ObjectFormat {
  return lineFormat('jsonlines', tag, (source) => new JsonLinesParser({ source }));
}

/**
 * AWS Config snapshot and history files: one event per configuration item, streamed. The
 * ConfigWritabilityCheckFile AWS Config writes to test the bucket holds none: skipped by its key.
 */
export function awsConfigFormat(tag: string): ObjectFormat {
  return {
    name: 'awsconfig',
    accepts: (key) => !CONFIG_WRITABILITY_CHECK_KEY.test(key),
    open: (source) => recordParser(awsConfigSplitter({ source }), tag),
  };
}
