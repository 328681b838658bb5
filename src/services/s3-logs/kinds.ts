import { DEFAULT_CLOUDTRAIL_KEY_FILTER } from '../../formats/cloudtrail.js';

/** The values of `format` and `file_selectors[].format`. */
export const FORMAT_NAMES = [
  'auto',
  'lines',
  'ndjson',
  'json',
  'cloudtrail',
  'vpcflowlogs',
  'cloudfront',
  'elb',
  's3_access',
  'waf',
  'route53_resolver',
  'network_firewall',
  'guardduty',
  'aws_config',
] as const;

export type FormatName = (typeof FORMAT_NAMES)[number];
/** A format that reads content (not `auto`). */
export type ContentFormat = Exclude<FormatName, 'auto'>;

/** A kind of log found in S3: how `auto` recognises it, how it is read, and its default tag. */
export interface LogKind {
  /** Short name: `{event_type}` and `{service}` in a tag template; in logs. */
  readonly name: string;
  readonly format: ContentFormat;
  /** The Devo table Devo documents for the source, else cloud.aws.<service>.<log type>. */
  readonly defaultTag: string;
  /** AWS's documented key layout (tested on the decoded key); absent: recognised by content only. */
  readonly key?: RegExp;
  /** Objects AWS writes beside the logs that hold none (AWS Config's write check): skipped. */
  readonly skip?: boolean;
}

/** `[prefix/]AWSLogs/[o-organization/]<account>/`, the start of every AWS log delivery key. */
const AWS_LOGS = String.raw`(?:^|/)AWSLogs/(?:o-[a-z0-9]{10,32}/)?\d{12}/`;
const DATE = String.raw`\d{4}/\d{1,2}/\d{1,2}/`;
const REGION = '[a-z0-9-]+';
const awsLogs = (rest: string): RegExp => new RegExp(AWS_LOGS + rest);
/** ELB access logs: `<account>_elasticloadbalancing_<region>_<load balancer id>_...` (`app.`/`net.` ids). */
const elb = (id: string): RegExp =>
  awsLogs(String.raw`elasticloadbalancing/${REGION}/${DATE}\d{12}_elasticloadbalancing_${REGION}_${id}`);

/**
 * Every kind `format: auto` recognises, first match wins (so the more specific layouts come first);
 * for an explicit `format`, the first row of that format gives the default tag. Default tags: Devo's
 * S3+SQS collector tables (devodocs, "AWS (S3+SQS) collector", data sources) where Devo has one:
 * web.aws.alb.access, web.aws.elb.access, web.aws.s3.access, cloud.aws.waf.logs, dns.aws.route53,
 * cloud.aws.guardduty.findings, cloud.aws.configlogs.events; CloudTrail, VPC Flow Logs and
 * CloudFront keep this collector's tags (the reference document's); the others are
 * cloud.aws.<service>.<log type>. Key layouts: the AWS user guides of each service.
 */
export const LOG_KINDS: readonly LogKind[] = [
  {
    name: 'config_check',
    format: 'aws_config',
    defaultTag: 'cloud.aws.configlogs.events',
    key: awsLogs('Config/ConfigWritabilityCheckFile$'),
    skip: true,
  },
  {
    name: 'config',
    format: 'aws_config',
    defaultTag: 'cloud.aws.configlogs.events',
    key: awsLogs(String.raw`Config/${REGION}/${DATE}(?:ConfigHistory|ConfigSnapshot)/`),
  },
  {
    name: 'cloudtrail',
    format: 'cloudtrail',
    defaultTag: 'cloud.aws.cloudwatch.events',
    key: new RegExp(DEFAULT_CLOUDTRAIL_KEY_FILTER),
  },
  {
    name: 'vpcflowlogs',
    format: 'vpcflowlogs',
    defaultTag: 'cloud.aws.vpc.flowlogs',
    // Plain or Hive-compatible prefixes (aws-account-id=.../aws-service=vpcflowlogs/).
    key: /(?:^|\/)AWSLogs\/(?:aws-account-id=)?\d{12}\/(?:aws-service=)?vpcflowlogs\//,
  },
  { name: 'alb', format: 'elb', defaultTag: 'web.aws.alb.access', key: elb(String.raw`app\.`) },
  { name: 'nlb', format: 'elb', defaultTag: 'cloud.aws.nlb.access', key: elb(String.raw`net\.`) },
  {
    name: 'alb_connection',
    format: 'elb',
    defaultTag: 'cloud.aws.alb.connection',
    key: elb(String.raw`conn_log\.`),
  },
  { name: 'elb', format: 'elb', defaultTag: 'web.aws.elb.access', key: elb('') },
  {
    name: 's3_access',
    format: 's3_access',
    defaultTag: 'web.aws.s3.access',
    // [prefix]YYYY-mm-DD-HH-MM-SS-UniqueString, also under a date-partitioned prefix.
    key: /(?:^|\/)\d{4}-\d{2}-\d{2}-\d{2}-\d{2}-\d{2}-[0-9A-F]{16}$/,
  },
  { name: 'waf', format: 'waf', defaultTag: 'cloud.aws.waf.logs', key: awsLogs('WAFLogs/') },
  {
    name: 'route53_resolver',
    format: 'route53_resolver',
    defaultTag: 'dns.aws.route53',
    key: awsLogs('vpcdnsquerylogs/'),
  },
  ...(['alert', 'flow', 'tls'] as const).map((type) => ({
    name: `network_firewall_${type}`,
    format: 'network_firewall' as const,
    defaultTag: `cloud.aws.networkfirewall.${type}`,
    key: awsLogs(`network-firewall/${type}/`),
  })),
  {
    name: 'guardduty',
    format: 'guardduty',
    defaultTag: 'cloud.aws.guardduty.findings',
    key: awsLogs(String.raw`GuardDuty/${REGION}/${DATE}[^/]+\.jsonl\.gz$`),
  },
  {
    name: 'cloudfront',
    format: 'cloudfront',
    defaultTag: 'cloud.aws.cloudfront',
    // [prefix/]<distribution id>.YYYY-MM-DD-HH.<unique id>.gz
    key: /(?:^|\/)E[A-Z0-9]{6,}\.\d{4}-\d{2}-\d{2}-\d{2}\.[0-9A-Za-z]+\.gz$/,
  },
  // Recognised by content (see sniffFormat), tagged cloud.aws.s3.<format>.
  { name: 'json', format: 'json', defaultTag: 'cloud.aws.s3.json' },
  { name: 'ndjson', format: 'ndjson', defaultTag: 'cloud.aws.s3.ndjson' },
  { name: 'lines', format: 'lines', defaultTag: 'cloud.aws.s3.lines' },
];

/** The kind `auto` gives a key, if its layout is one AWS documents. */
export function kindOfKey(key: string): LogKind | undefined {
  return LOG_KINDS.find((k) => k.key?.test(key));
}

/** The kind of an explicit format: the kind the key shows if of that format, else its first row. */
export function kindOfFormat(format: ContentFormat, key: string): LogKind {
  const byKey = kindOfKey(key);
  if (byKey?.format === format) return byKey;
  return LOG_KINDS.find((k) => k.format === format)!;
}

/** VPC Flow Logs header: `version account-id ...` or a custom format's field names. */
const VPC_HEADER =
  /^(?:version|account-id|interface-id|srcaddr|dstaddr|vpc-id|subnet-id|instance-id)(?: [a-z][a-z0-9-]*)+\r?$/;

/**
 * The format of content whose key says nothing, from its first line (`head`, decompressed, as much
 * as was read: at least one whole line unless the object is shorter): CloudTrail, a VPC Flow Logs
 * header, a CloudFront `#Version:` line, a JSON object on one line (ndjson), a JSON document, else
 * lines of text.
 */
export function sniffFormat(head: string): ContentFormat {
  const text = head.trimStart();
  const newline = text.indexOf('\n');
  const firstLine = newline < 0 ? text : text.slice(0, newline);
  if (/^\{\s*"Records"\s*:\s*\[/.test(text)) return 'cloudtrail';
  if (VPC_HEADER.test(firstLine)) return 'vpcflowlogs';
  if (firstLine.startsWith('#Version:')) return 'cloudfront';
  if (text.startsWith('[')) return 'json';
  if (text.startsWith('{')) return isJsonObject(firstLine) ? 'ndjson' : 'json';
  return 'lines';
}

function isJsonObject(line: string): boolean {
  try {
    const value: unknown = JSON.parse(line);
    return typeof value === 'object' && value !== null && !Array.isArray(value);
  } catch {
    return false;
  }
}
