import { createHash } from 'node:crypto';
import type { AwsInputConfig } from '../config/schema.js';
import { AWS_REGIONS } from '../config/regions.js';
import { nonCloudwatchLogsQueues } from '../services/s3-objects/index.js';

/**
 * What `inputs.aws.auto_setup` builds, as data: one entry per SQS queue a configured service
 * reads in one region, with what feeds the queue. Pure, so `iam-policy` derives the exact
 * resources auto-setup touches from the same plan.
 */

/** An EventBridge event pattern. */
export type EventPattern = Record<string, unknown>;

/**
 * Every AWS service event except Security Hub's (those belong to sqs-cloudwatch-consumer).
 * EventBridge cannot AND two conditions on one field, so the exclusion is on `detail-type`:
 * every Security Hub event type starts with "Security Hub" (Findings - Imported, Findings -
 * Custom Action, Insight Results).
 */
export const SERVICE_EVENTS_PATTERN: EventPattern = {
  source: [{ prefix: 'aws.' }],
  'detail-type': [{ 'anything-but': { prefix: 'Security Hub' } }],
};

export const SECURITY_HUB_PATTERN: EventPattern = {
  source: ['aws.securityhub'],
  'detail-type': ['Security Hub Findings - Imported'],
};

/** IAM actions auto-setup calls, by service (also what `iam-policy` grants when auto_setup is on). */
export const AUTO_SETUP_SQS_ACTIONS = [
  'sqs:GetQueueUrl',
  'sqs:CreateQueue',
  'sqs:GetQueueAttributes',
  'sqs:SetQueueAttributes',
] as const;
export const AUTO_SETUP_EVENTS_ACTIONS = [
  'events:DescribeRule',
  'events:PutRule',
  'events:ListTargetsByRule',
  'events:PutTargets',
] as const;

export interface RuleFeed {
  kind: 'rule';
  ruleName: string;
  pattern: EventPattern;
  description: string;
  /** Sid of the queue-policy statement letting this rule send to the queue. */
  statementId: string;
}

export interface S3Feed {
  kind: 's3';
  /** What the bucket holds, for the instructions logged to the user. */
  content: string;
}

export interface QueuePlan {
  /** The service's key in inputs.aws.services. */
  service: string;
  region: string;
  /** As configured: may hold `<account_id>`. */
  queueName: string;
  feed: RuleFeed | S3Feed;
  /** The service's max_receive_count: receives before SQS moves a message to the dead-letter queue; 0 = none. */
  maxReceiveCount: number;
}

/** SQS queue names: at most 80 characters. */
const QUEUE_NAME_MAX = 80;

/** `<queue>-dlq` (FIFO: `<queue>-dlq.fifo`, a FIFO queue's dead-letter queue is FIFO too), bounded to 80. */
export function deadLetterQueueName(queueName: string): string {
  const suffix = queueName.endsWith('.fifo') ? '.fifo' : '';
  const stem = queueName.slice(0, queueName.length - suffix.length);
  return `${boundedName(`${stem}-dlq`, QUEUE_NAME_MAX - suffix.length)}${suffix}`;
}

/** EventBridge rule names and target ids: at most 64 of [.-_A-Za-z0-9]. */
const NAME_MAX = 64;

/** `name`, or its first characters plus a hash of the whole when it is longer than `max`. */
export function boundedName(name: string, max = NAME_MAX): string {
  if (name.length <= max) return name;
  const hash = createHash('sha256').update(name).digest('hex').slice(0, 12);
  return `${name.slice(0, max - hash.length - 1)}-${hash}`;
}

export const serviceEventsRuleName = (inputId: string): string =>
  boundedName(`devo-service-events-${inputId}`);
export const securityHubRuleName = (inputId: string): string =>
  boundedName(`devo-securityhub-findings-${inputId}`);

/** Partition of a region's ARNs (aws, aws-cn, aws-us-gov...). */
export const partitionOf = (region: string): string => AWS_REGIONS[region]?.partition ?? 'aws';

const ruleFeed = (ruleName: string, pattern: EventPattern, description: string): RuleFeed => ({
  kind: 'rule',
  ruleName,
  pattern,
  description,
  // Policy Sids are safest alphanumeric; the rule name keeps inputs sharing a queue apart.
  statementId: `DevoCollector${ruleName.replace(/[^A-Za-z0-9]/g, '')}`,
});

/** The queues the configured services read, per region, and what feeds each. */
export function planAutoSetup(input: Pick<AwsInputConfig, 'id' | 'services'>): QueuePlan[] {
  const s = input.services;
  const plans: QueuePlan[] = [];
  const add = (
    service: string,
    config: { regions: readonly string[]; max_receive_count: number },
    queueName: string,
    feed: QueuePlan['feed'],
  ) => {
    for (const region of config.regions)
      plans.push({ service, region, queueName, feed, maxReceiveCount: config.max_receive_count });
  };
  const events = s['service-events-all'];
  if (events) {
    add(
      'service-events-all',
      events,
      events.cloudwatch_sqs_queue_name,
      ruleFeed(
        serviceEventsRuleName(input.id),
        SERVICE_EVENTS_PATTERN,
        'devo-aws-collector: every AWS service event except Security Hub, to SQS',
      ),
    );
  }
  const hub = s['sqs-cloudwatch-consumer'];
  if (hub) {
    add(
      'sqs-cloudwatch-consumer',
      hub,
      hub.cloudwatch_sqs_queue_name,
      ruleFeed(
        securityHubRuleName(input.id),
        SECURITY_HUB_PATTERN,
        'devo-aws-collector: Security Hub findings, to SQS',
      ),
    );
  }
  const audit = s['audit-events-all'];
  if (audit?.types.includes('audits_s3') && audit.audit_sqs_queue_name) {
    add('audit-events-all', audit, audit.audit_sqs_queue_name, {
      kind: 's3',
      content: 'CloudTrail trail files',
    });
  }
  const ncwl = s['non-cloudwatch-logs'];
  if (ncwl) {
    const queues = nonCloudwatchLogsQueues(ncwl, input.id);
    add('non-cloudwatch-logs', ncwl, queues.vpcflowlogs, {
      kind: 's3',
      content: 'VPC Flow Logs files',
    });
    add('non-cloudwatch-logs', ncwl, queues.cloudfront, {
      kind: 's3',
      content: 'CloudFront log files',
    });
  }
  return plans;
}
