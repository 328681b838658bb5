import {
  AUTO_SETUP_EVENTS_ACTIONS,
  AUTO_SETUP_SQS_ACTIONS,
  deadLetterQueueName,
  partitionOf,
  planAutoSetup,
  type QueuePlan,
} from '../aws/auto-setup-plan.js';
import { PREDEFINED_SERVICES, type CollectorConfig, type LogsConfig } from '../config/schema.js';

/**
 * The least-privilege IAM policy for a configuration (`iam-policy --config F`): exactly the
 * calls the configured services make, on the configured resources where IAM allows it.
 *
 * - SQS batch calls (DeleteMessageBatch, ChangeMessageVisibilityBatch) are authorised by
 *   sqs:DeleteMessage and sqs:ChangeMessageVisibility; the batch names are not IAM actions.
 * - Workers call GetQueueUrl and GetQueueAttributes (the queue depth for /metrics) on a queue, and
 *   only FilterLogEvents on a log group (never DescribeLogGroups, so it is not granted for reading).
 * - LookupEvents, ListMetrics and GetMetricData have no resource-level permissions (`*`); S3
 *   buckets are not in the configuration, so GetObject is on every object.
 * - The account in ARNs is the one of the assumed role when a role is configured (the
 *   credentials every data call is signed with), otherwise `*`.
 */

export interface IamStatement {
  Sid: string;
  Effect: 'Allow';
  Action: string[];
  Resource: string[];
}

export interface IamPolicyDocument {
  Version: '2012-10-17';
  Statement: IamStatement[];
}

const ROLE_ACCOUNT = /^arn:[\w-]+:iam::(\d{12}):role\//;

const sorted = (values: Iterable<string>): string[] => [...new Set(values)].sort();

export function iamPolicy(config: Pick<CollectorConfig, 'inputs'>): IamPolicyDocument {
  const input = config.inputs.aws;
  const { credentials, services } = input;
  const roles = [credentials.base_assume_role, credentials.target_assume_role].filter(
    (r): r is string => r !== undefined,
  );
  const account = ROLE_ACCOUNT.exec(roles.at(-1) ?? '')?.[1] ?? '*';
  const statements: IamStatement[] = [];
  const add = (Sid: string, actions: readonly string[], resources: Iterable<string>): void => {
    const Resource = sorted(resources);
    if (Resource.length > 0) statements.push({ Sid, Effect: 'Allow', Action: [...actions], Resource });
  };

  const plans = planAutoSetup(input);
  const queueArn = (p: QueuePlan, name: string): string =>
    `arn:${partitionOf(p.region)}:sqs:${p.region}:${account}:${name.replaceAll('<account_id>', account)}`;
  const queueArns = plans.map((p) => queueArn(p, p.queueName));
  add(
    'ReadQueues',
    [
      'sqs:GetQueueUrl',
      'sqs:GetQueueAttributes',
      'sqs:ReceiveMessage',
      'sqs:DeleteMessage',
      'sqs:ChangeMessageVisibility',
    ],
    queueArns,
  );
  add(
    'ReadS3Objects',
    ['s3:GetObject'],
    plans.filter((p) => p.feed.kind === 's3').map((p) => `arn:${partitionOf(p.region)}:s3:::*/*`),
  );

  const audit = services['audit-events-all'];
  if (audit?.types.includes('audits_api')) add('LookupCloudTrailEvents', ['cloudtrail:LookupEvents'], ['*']);
  if (services['metrics-all'])
    add('ReadCloudWatchMetrics', ['cloudwatch:ListMetrics', 'cloudwatch:GetMetricData'], ['*']);

  const predefined: readonly string[] = PREDEFINED_SERVICES;
  const logGroupArns = Object.entries(services)
    .filter(([name, s]) => s !== undefined && !predefined.includes(name))
    .flatMap(([, s]) => {
      const logs = s as LogsConfig;
      return logs.regions.flatMap((region) => {
        const group = `arn:${partitionOf(region)}:logs:${region}:${account}:log-group:${logs.log_group}`;
        // IAM documents log-group ARNs both with and without the trailing `:*`.
        return [group, `${group}:*`];
      });
    });
  add('ReadLogGroups', ['logs:FilterLogEvents'], logGroupArns);

  // Resolves <account_id> in queue names and {account_id} in tags.
  add('ReadCallerIdentity', ['sts:GetCallerIdentity'], ['*']);
  add('AssumeRoles', ['sts:AssumeRole'], roles);

  if (input.auto_setup) {
    const deadLetterArns = plans
      .filter((p) => p.maxReceiveCount > 0)
      .map((p) => queueArn(p, deadLetterQueueName(p.queueName)));
    add('AutoSetupQueues', AUTO_SETUP_SQS_ACTIONS, [...queueArns, ...deadLetterArns]);
    add(
      'AutoSetupRules',
      AUTO_SETUP_EVENTS_ACTIONS,
      plans.flatMap((p) =>
        p.feed.kind === 'rule'
          ? [`arn:${partitionOf(p.region)}:events:${p.region}:${account}:rule/${p.feed.ruleName}`]
          : [],
      ),
    );
  }
  return { Version: '2012-10-17', Statement: statements };
}
