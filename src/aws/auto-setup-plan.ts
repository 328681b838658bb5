import { createHash } from 'node:crypto';
import { AWS_REGIONS } from './regions.js';

/**
 * What `inputs.aws.auto_setup` builds, as data: one entry per SQS queue a configured service
 * reads in one region, with what feeds the queue. Pure, so `iam-policy` derives the exact
 * resources auto-setup touches from the same plan. Each service declares its queues
 * (ServiceDefinition.queues); services/plans.ts gathers them.
 */

/** An EventBridge event pattern. */
export type EventPattern = Record<string, unknown>;

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

export type QueueFeed = RuleFeed | S3Feed;

export interface QueuePlan {
  /** The service's key in inputs.aws.services. */
  service: string;
  region: string;
  /** As configured: may hold `<account_id>`. */
  queueName: string;
  feed: QueueFeed;
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

/** Partition of a region's ARNs (aws, aws-cn, aws-us-gov...). */
export const partitionOf = (region: string): string => AWS_REGIONS[region]?.partition ?? 'aws';

/** A queue fed by an EventBridge rule of `pattern`. */
export const ruleFeed = (ruleName: string, pattern: EventPattern, description: string): RuleFeed => ({
  kind: 'rule',
  ruleName,
  pattern,
  description,
  // Policy Sids are safest alphanumeric; the rule name keeps inputs sharing a queue apart.
  statementId: `DevoCollector${ruleName.replace(/[^A-Za-z0-9]/g, '')}`,
});
