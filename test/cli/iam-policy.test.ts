import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { accountsIamPolicy, iamPolicy, type IamStatement } from '../../src/cli/iam-policy.js';
import { parseConfigText } from '../../src/config/loader.js';
import type { CollectorConfig } from '../../src/config/schema.js';
import { runCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/paths.js';

function parse(aws: string, env: NodeJS.ProcessEnv = {}): CollectorConfig {
  const { config, problems } = parseConfigText(
    `outputs:\n  out: { type: console }\ninputs:\n  aws:\n${aws}`,
    {
      env,
    },
  );
  assert.deepEqual(problems, []);
  return config!;
}

const statement = (statements: IamStatement[], sid: string): IamStatement | undefined =>
  statements.find((s) => s.Sid === sid);

const EVERY_SERVICE = `    id: c1
    credentials:
      base_assume_role: arn:aws:iam::111111111111:role/hop
      target_assume_role: arn:aws:iam::222222222222:role/collector
    services:
      service-events-all:
        cloudwatch_sqs_queue_name: events-<account_id>.fifo
        regions: [eu-west-1, us-east-1]
      sqs-cloudwatch-consumer:
        cloudwatch_sqs_queue_name: findings
        regions: [eu-west-1]
      audit-events-all:
        types: [audits_api, audits_s3]
        audit_sqs_queue_name: trails
        regions: [eu-west-1]
      metrics-all:
        regions: [eu-west-1]
      non-cloudwatch-logs:
        cloudfrontlogs_sqs_queue_name: cf
        regions: [cn-north-1]
      cwl_1:
        types: [logs]
        log_group: /aws/lambda/payments
        regions: [eu-west-1, us-east-1]
`;

describe('iam-policy', () => {
  test('every service: exactly the actions the workers call, on the configured resources', () => {
    const policy = iamPolicy(parse(EVERY_SERVICE));
    assert.equal(policy.Version, '2012-10-17');
    assert.deepEqual(policy.Statement, [
      {
        Sid: 'ReadQueues',
        Effect: 'Allow',
        Action: [
          'sqs:GetQueueUrl',
          'sqs:GetQueueAttributes',
          'sqs:ReceiveMessage',
          'sqs:DeleteMessage',
          'sqs:ChangeMessageVisibility',
        ],
        Resource: [
          'arn:aws-cn:sqs:cn-north-1:222222222222:cf',
          'arn:aws-cn:sqs:cn-north-1:222222222222:devo-ncwl-vpcfl-c1',
          'arn:aws:sqs:eu-west-1:222222222222:events-222222222222.fifo',
          'arn:aws:sqs:eu-west-1:222222222222:findings',
          'arn:aws:sqs:eu-west-1:222222222222:trails',
          'arn:aws:sqs:us-east-1:222222222222:events-222222222222.fifo',
        ],
      },
      {
        Sid: 'ReadS3Objects',
        Effect: 'Allow',
        Action: ['s3:GetObject'],
        Resource: ['arn:aws-cn:s3:::*/*', 'arn:aws:s3:::*/*'],
      },
      {
        Sid: 'LookupCloudTrailEvents',
        Effect: 'Allow',
        Action: ['cloudtrail:LookupEvents'],
        Resource: ['*'],
      },
      {
        Sid: 'ReadCloudWatchMetrics',
        Effect: 'Allow',
        Action: ['cloudwatch:ListMetrics', 'cloudwatch:GetMetricData'],
        Resource: ['*'],
      },
      {
        Sid: 'ReadLogGroups',
        Effect: 'Allow',
        Action: ['logs:FilterLogEvents'],
        Resource: [
          'arn:aws:logs:eu-west-1:222222222222:log-group:/aws/lambda/payments',
          'arn:aws:logs:eu-west-1:222222222222:log-group:/aws/lambda/payments:*',
          'arn:aws:logs:us-east-1:222222222222:log-group:/aws/lambda/payments',
          'arn:aws:logs:us-east-1:222222222222:log-group:/aws/lambda/payments:*',
        ],
      },
      { Sid: 'ReadCallerIdentity', Effect: 'Allow', Action: ['sts:GetCallerIdentity'], Resource: ['*'] },
      {
        Sid: 'AssumeRoles',
        Effect: 'Allow',
        Action: ['sts:AssumeRole'],
        Resource: ['arn:aws:iam::111111111111:role/hop', 'arn:aws:iam::222222222222:role/collector'],
      },
    ]);
  });

  test('no role: the account is a wildcard, also inside <account_id> queue names; no AssumeRole', () => {
    const { Statement } = iamPolicy(
      parse(`    id: c2
    services:
      service-events-all:
        cloudwatch_sqs_queue_name: events-<account_id>
        regions: [eu-west-1]
`),
    );
    assert.deepEqual(statement(Statement, 'ReadQueues')?.Resource, ['arn:aws:sqs:eu-west-1:*:events-*']);
    assert.equal(statement(Statement, 'AssumeRoles'), undefined);
    assert.equal(statement(Statement, 'ReadS3Objects'), undefined);
    assert.deepEqual(
      Statement.map((s) => s.Sid),
      ['ReadQueues', 'ReadCallerIdentity'],
    );
  });

  test('log groups by prefix, pattern and linked ARN: FilterLogEvents on what they read, DescribeLogGroups when groups are discovered', () => {
    const { Statement } = iamPolicy(
      parse(`    id: c5
    services:
      cwl_prefix:
        types: [logs]
        log_group_prefix: /aws/lambda/
        regions: [eu-west-1]
      cwl_pattern:
        types: [logs]
        log_group_pattern: '^/app/(web|api)$'
        regions: [us-east-1]
      cwl_linked:
        types: [logs]
        log_group_identifier: arn:aws:logs:eu-west-1:333333333333:log-group:/shared/app
        regions: [eu-west-1]
`),
    );
    assert.deepEqual(statement(Statement, 'ReadLogGroups')?.Action, ['logs:FilterLogEvents']);
    assert.deepEqual(statement(Statement, 'ReadLogGroups')?.Resource, [
      'arn:aws:logs:eu-west-1:*:log-group:/aws/lambda/*',
      'arn:aws:logs:eu-west-1:*:log-group:/aws/lambda/*:*',
      'arn:aws:logs:eu-west-1:333333333333:log-group:/shared/app',
      'arn:aws:logs:eu-west-1:333333333333:log-group:/shared/app:*',
      'arn:aws:logs:us-east-1:*:log-group:*',
      'arn:aws:logs:us-east-1:*:log-group:*:*',
    ]);
    assert.deepEqual(statement(Statement, 'ListLogGroups'), {
      Sid: 'ListLogGroups',
      Effect: 'Allow',
      Action: ['logs:DescribeLogGroups'],
      Resource: ['arn:aws:logs:eu-west-1:*:log-group:*', 'arn:aws:logs:us-east-1:*:log-group:*'],
    });
  });

  test('only what is configured: audits_api alone needs no queue and no S3', () => {
    const { Statement } = iamPolicy(
      parse(`    id: c3
    services:
      audit-events-all:
        regions: [us-east-2]
`),
    );
    assert.deepEqual(
      Statement.map((s) => s.Sid),
      ['LookupCloudTrailEvents', 'ReadCallerIdentity'],
    );
  });

  test('auto_setup adds the queue and rule actions auto-setup calls, on the same queues and its rules', () => {
    const { Statement } = iamPolicy(
      parse(`    id: c4
    auto_setup: true
    credentials: { target_assume_role: 'arn:aws:iam::333333333333:role/collector' }
    services:
      service-events-all:
        cloudwatch_sqs_queue_name: events.fifo
        regions: [eu-west-1]
      sqs-cloudwatch-consumer:
        cloudwatch_sqs_queue_name: findings
        regions: [eu-west-1]
      non-cloudwatch-logs:
        regions: [eu-west-1]
`),
    );
    assert.deepEqual(statement(Statement, 'AutoSetupQueues'), {
      Sid: 'AutoSetupQueues',
      Effect: 'Allow',
      Action: ['sqs:GetQueueUrl', 'sqs:CreateQueue', 'sqs:GetQueueAttributes', 'sqs:SetQueueAttributes'],
      // The queues read, and the dead-letter queue auto_setup creates beside each (max_receive_count 5).
      Resource: [
        ...statement(Statement, 'ReadQueues')!.Resource,
        ...statement(Statement, 'ReadQueues')!.Resource.map((arn) => arn.replace(/(\.fifo)?$/, '-dlq$1')),
      ].sort(),
    });
    assert.equal(statement(Statement, 'AutoSetupQueues')!.Resource.length, 8);
    assert.deepEqual(statement(Statement, 'AutoSetupRules'), {
      Sid: 'AutoSetupRules',
      Effect: 'Allow',
      Action: ['events:DescribeRule', 'events:PutRule', 'events:ListTargetsByRule', 'events:PutTargets'],
      Resource: [
        'arn:aws:events:eu-west-1:333333333333:rule/devo-securityhub-findings-c4',
        'arn:aws:events:eu-west-1:333333333333:rule/devo-service-events-c4',
      ],
    });
  });

  test('auto_setup with only S3-fed queues needs no EventBridge action', () => {
    const { Statement } = iamPolicy(
      parse(`    id: c5
    auto_setup: true
    services:
      non-cloudwatch-logs:
        regions: [eu-west-1]
`),
    );
    assert.ok(statement(Statement, 'AutoSetupQueues'));
    assert.equal(statement(Statement, 'AutoSetupRules'), undefined);
  });

  test('the iam-policy command prints the policy of a configuration file as JSON', async () => {
    const { dir, cleanup } = tempDir('dac-iam-');
    try {
      const file = join(dir, 'c.yaml');
      writeFileSync(file, `outputs:\n  out: { type: console }\ninputs:\n  aws:\n${EVERY_SERVICE}`);
      const run = runCli(['iam-policy', '--config', file]);
      assert.equal(await run.exited, 0, run.stderr());
      const parsed = JSON.parse(run.stdout()) as unknown;
      assert.deepEqual(parsed, iamPolicy(parse(EVERY_SERVICE)));
    } finally {
      cleanup();
    }
  });

  const ACCOUNTS = `    id: m1
    auto_setup: true
    credentials:
      base_assume_role: arn:aws:iam::999999999999:role/hub
    accounts:
      - id: 111111111111
        target_assume_role: arn:aws:iam::111111111111:role/devo
        assume_role_external_id: \${EXT}
      - id: 222222222222
        target_assume_role: arn:aws:iam::222222222222:role/devo
        regions: [us-east-1]
    services:
      service-events-all:
        cloudwatch_sqs_queue_name: events-<account_id>
        regions: [eu-west-1]
      cwl_1:
        types: [logs]
        log_group: /app
        regions: [eu-west-1]
`;
  const EXT = { EXT: 'external-id-never-printed' };

  test('accounts: each role gets the policy of its account and regions, the base identity only AssumeRole', () => {
    const policy = accountsIamPolicy(parse(ACCOUNTS, EXT));
    assert.deepEqual(policy.base.Statement, [
      {
        Sid: 'AssumeRoles',
        Effect: 'Allow',
        Action: ['sts:AssumeRole'],
        Resource: [
          'arn:aws:iam::111111111111:role/devo',
          'arn:aws:iam::222222222222:role/devo',
          'arn:aws:iam::999999999999:role/hub',
        ],
      },
    ]);
    assert.deepEqual(
      policy.accounts.map((a) => [a.id, a.role]),
      [
        ['111111111111', 'arn:aws:iam::111111111111:role/devo'],
        ['222222222222', 'arn:aws:iam::222222222222:role/devo'],
      ],
    );
    // Account 1's role needs what one input with that role needs, less assuming roles itself.
    const single = iamPolicy(
      parse(
        ACCOUNTS.replace(/ {4}accounts:[\s\S]*?(?= {4}services:)/, '').replace(
          'role/hub',
          'role/hub\n      target_assume_role: arn:aws:iam::111111111111:role/devo',
        ),
      ),
    );
    assert.deepEqual(
      policy.accounts[0]!.policy.Statement,
      single.Statement.filter((s) => s.Sid !== 'AssumeRoles'),
    );
    // Account 2 runs in its own regions only.
    assert.deepEqual(statement(policy.accounts[1]!.policy.Statement, 'ReadQueues')?.Resource, [
      'arn:aws:sqs:us-east-1:222222222222:events-222222222222',
    ]);
    assert.deepEqual(statement(policy.accounts[1]!.policy.Statement, 'ReadLogGroups')?.Resource, [
      'arn:aws:logs:us-east-1:222222222222:log-group:/app',
      'arn:aws:logs:us-east-1:222222222222:log-group:/app:*',
    ]);
    assert.deepEqual(policy.accounts[0]!.trust.Statement, [
      {
        Effect: 'Allow',
        Principal: { AWS: 'arn:aws:iam::999999999999:role/hub' },
        Action: 'sts:AssumeRole',
        Condition: { StringEquals: { 'sts:ExternalId': '<inputs.aws.accounts[0].assume_role_external_id>' } },
      },
    ]);
    assert.equal(policy.accounts[1]!.trust.Statement[0]!.Condition, undefined);
  });

  test('the iam-policy command prints the policies of every account, never the external id', async () => {
    const { dir, cleanup } = tempDir('dac-iam-');
    try {
      const file = join(dir, 'c.yaml');
      writeFileSync(file, `outputs:\n  out: { type: console }\ninputs:\n  aws:\n${ACCOUNTS}`);
      const run = runCli(['iam-policy', '--config', file], { env: EXT });
      assert.equal(await run.exited, 0, run.stderr());
      assert.deepEqual(JSON.parse(run.stdout()) as unknown, accountsIamPolicy(parse(ACCOUNTS, EXT)));
      assert.doesNotMatch(run.stdout(), /external-id-never-printed/);
    } finally {
      cleanup();
    }
  });
});
