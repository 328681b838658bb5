import {
  AUTO_SETUP_EVENTS_ACTIONS,
  AUTO_SETUP_SQS_ACTIONS,
  deadLetterQueueName,
  partitionOf,
  type QueuePlan,
} from '../aws/auto-setup-plan.js';
import { accountKey, accountsOf, servicesOf, type AccountConfig } from '../config/accounts.js';
import type { CollectorConfig } from '../config/schema.js';
import { planAutoSetup, serviceGrants } from '../services/plans.js';

/**
 * The least-privilege IAM policy for a configuration (`iam-policy --config F`): exactly the
 * calls the configured services make, on the configured resources where IAM allows it. Reading
 * the queues (and their S3 objects) comes from the auto-setup plan; each service declares the
 * grants of its other calls (ServiceDefinition.grants).
 *
 * - SQS batch calls (DeleteMessageBatch, ChangeMessageVisibilityBatch) are authorised by
 *   sqs:DeleteMessage and sqs:ChangeMessageVisibility; the batch names are not IAM actions.
 * - Workers call GetQueueUrl and GetQueueAttributes (the queue depth for /metrics) on a queue.
 * - S3 buckets are not in the configuration, so GetObject is on every object.
 * - The account in ARNs is the one of the assumed role when a role is configured (the
 *   credentials every data call is signed with), otherwise `*`.
 * - With inputs.aws.accounts, each account's role gets that policy for its account (and regions),
 *   and the base identity only sts:AssumeRole on the roles (accountsIamPolicy).
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
  const { credentials } = input;
  const roles = [credentials.base_assume_role, credentials.target_assume_role].filter(
    (r): r is string => r !== undefined,
  );
  const account = ROLE_ACCOUNT.exec(roles.at(-1) ?? '')?.[1] ?? '*';
  return rolePolicy(input, input.services, account, roles);
}

/** With inputs.aws.accounts: what the base identity needs, and what each account's role needs. */
export interface AccountsIamPolicy {
  /** For the identity of inputs.aws.credentials (the base_assume_role, when set): assuming the roles. */
  base: IamPolicyDocument;
  accounts: {
    id: string;
    role: string;
    /** The permissions policy of the account's target_assume_role. */
    policy: IamPolicyDocument;
    /** The role's trust relationship: the base identity may assume it (with the external id). */
    trust: TrustPolicyDocument;
  }[];
}

export interface TrustPolicyDocument {
  Version: '2012-10-17';
  Statement: {
    Effect: 'Allow';
    Principal: { AWS: string };
    Action: 'sts:AssumeRole';
    Condition?: { StringEquals: { 'sts:ExternalId': string } };
  }[];
}

/**
 * The policies of a configuration with inputs.aws.accounts. The external id is a secret, so the
 * trust policy names the key holding it rather than printing it; without base_assume_role the base
 * identity (the access keys' user, or the default chain's role) is not in the configuration either.
 */
export function accountsIamPolicy(config: Pick<CollectorConfig, 'inputs'>): AccountsIamPolicy {
  const input = config.inputs.aws;
  const accounts = accountsOf(input).filter((a): a is AccountConfig => a !== undefined);
  const base = input.credentials.base_assume_role;
  const roles = [...(base ? [base] : []), ...accounts.map((a) => a.target_assume_role)];
  return {
    base: {
      Version: '2012-10-17',
      Statement: [
        { Sid: 'AssumeRoles', Effect: 'Allow', Action: ['sts:AssumeRole'], Resource: sorted(roles) },
      ],
    },
    accounts: accounts.map((a) => ({
      id: a.id,
      role: a.target_assume_role,
      policy: rolePolicy(input, servicesOf(input, a), a.id, []),
      trust: {
        Version: '2012-10-17',
        Statement: [
          {
            Effect: 'Allow',
            Principal: { AWS: base ?? '<ARN of the IAM user or role of inputs.aws.credentials>' },
            Action: 'sts:AssumeRole',
            ...(a.assume_role_external_id
              ? {
                  Condition: {
                    StringEquals: { 'sts:ExternalId': `<${accountKey(a, 'assume_role_external_id')}>` },
                  },
                }
              : {}),
          },
        ],
      },
    })),
  };
}

/** The policy of the identity the services' calls are signed with, in `account` (or `*`), assuming `roles`. */
function rolePolicy(
  input: CollectorConfig['inputs']['aws'],
  services: CollectorConfig['inputs']['aws']['services'],
  account: string,
  roles: readonly string[],
): IamPolicyDocument {
  const statements: IamStatement[] = [];
  const add = (Sid: string, actions: readonly string[], resources: Iterable<string>): void => {
    const Resource = sorted(resources);
    if (Resource.length > 0) statements.push({ Sid, Effect: 'Allow', Action: [...actions], Resource });
  };

  const plans = planAutoSetup({ id: input.id, services });
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

  for (const grant of serviceGrants(services, account)) add(grant.sid, grant.actions, grant.resources);

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
