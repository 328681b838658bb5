import assert from 'node:assert/strict';
import { readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { DescribeRuleCommand, ListTargetsByRuleCommand, PutRuleCommand } from '@aws-sdk/client-eventbridge';
import { PutBucketNotificationConfigurationCommand } from '@aws-sdk/client-s3';
import { GetQueueAttributesCommand, GetQueueUrlCommand, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { startFakeAws, type FakeAws } from '../../sandbox/fake-aws/index.js';
import { runAutoSetup, type AutoSetupReport, type SetupStep } from '../../src/aws/auto-setup.js';
import { AwsClients } from '../../src/aws/clients.js';
import { planAutoSetup } from '../../src/services/plans.js';
import { parseConfigText } from '../../src/config/loader.js';
import type { AwsInputConfig, CollectorConfig } from '../../src/config/schema.js';
import { Collector } from '../../src/runtime/collector.js';
import { tempDir } from '../helpers/paths.js';
import { capturingLogger } from '../helpers/harness.js';
import { Secrets } from '../../src/telemetry/secrets.js';

const ACCOUNT = '123456789012';
const EU = 'eu-west-1';
const US = 'us-east-1';

function parse(services: string, extra = '', id = 't1'): CollectorConfig {
  const { config, problems } = parseConfigText(
    `outputs:
  out: { type: console }
inputs:
  aws:
    id: ${id}
    auto_setup: true
${extra}    services:
${services}`,
  );
  assert.deepEqual(problems, []);
  return config!;
}

const ALL_SERVICES = `      service-events-all:
        cloudwatch_sqs_queue_name: devo-events-<account_id>.fifo
        regions: [${EU}, ${US}]
      sqs-cloudwatch-consumer:
        cloudwatch_sqs_queue_name: devo-securityhub
        regions: [${EU}]
      audit-events-all:
        types: [audits_s3]
        audit_sqs_queue_name: devo-trails
        regions: [${EU}]
      non-cloudwatch-logs:
        regions: [${EU}]
      metrics-all:
        regions: [${EU}]
`;

/** A logger whose JSON lines are kept for assertions. */
interface Stack {
  add(
    mw: (
      next: (args: { input: Record<string, unknown> }) => Promise<unknown>,
      context: { commandName?: string },
    ) => (args: { input: Record<string, unknown> }) => Promise<unknown>,
    options: { step: 'deserialize'; priority: 'low'; name: string },
  ): void;
}

/**
 * Makes one SDK client answer `operation` (when `when` holds) with an AWS JSON error instead of
 * calling the fake, below the SDK's deserialiser so the real error parsing runs: the fake has no
 * IAM, so this is how a missing permission is played.
 */
function answerWithError(
  client: { middlewareStack: unknown },
  operation: string,
  error: { type: string; message: string; queryError?: string },
  when: (input: Record<string, unknown>) => boolean = () => true,
  times = Infinity,
): void {
  let left = times;
  (client.middlewareStack as Stack).add(
    (next, context) => async (args) => {
      if (context.commandName !== `${operation}Command` || !when(args.input) || left <= 0) return next(args);
      left -= 1;
      return {
        output: undefined,
        response: {
          statusCode: 400,
          headers: {
            'content-type': 'application/x-amz-json-1.1',
            ...(error.queryError ? { 'x-amzn-query-error': error.queryError } : {}),
          },
          body: Buffer.from(JSON.stringify({ __type: error.type, message: error.message })),
        },
      };
    },
    { step: 'deserialize', priority: 'low', name: `testError${operation}` },
  );
}

const byStatus = (report: AutoSetupReport, status: SetupStep['status']) =>
  report.steps.filter((s) => s.status === status);

describe('auto_setup against the fake AWS', () => {
  let fake: FakeAws;
  const clients: AwsClients[] = [];
  const newClients = (): AwsClients => {
    const aws = new AwsClients({
      credentials: { access_key: 'AKIAAUTOSETUP', access_secret: 'auto-setup-secret-0000' },
      secrets: new Secrets(),
      endpoint: fake.endpoint,
      stsRegion: EU,
    });
    clients.push(aws);
    return aws;
  };
  const queueAttributes = async (aws: AwsClients, region: string, name: string) => {
    const sqs = aws.sqs(region);
    const { QueueUrl } = await sqs.send(new GetQueueUrlCommand({ QueueName: name }));
    return (await sqs.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['All'] }))).Attributes!;
  };

  before(async () => {
    fake = await startFakeAws();
  });
  after(async () => {
    for (const c of clients) c.destroy();
    await fake.stop();
  });

  describe('a fresh account', () => {
    const eventsQueue = `devo-events-${ACCOUNT}.fifo`;
    let aws: AwsClients;
    let first: AutoSetupReport;
    let firstLog: Record<string, unknown>[];
    const input = (): AwsInputConfig => parse(ALL_SERVICES).inputs.aws;

    before(async () => {
      aws = newClients();
      const { logger, lines } = capturingLogger();
      first = await runAutoSetup({ plans: planAutoSetup(input()), aws, logger });
      firstLog = lines();
    });

    test('creates every queue, its policy, and the rules with their targets', async () => {
      assert.deepEqual(byStatus(first, 'failed'), []);
      assert.deepEqual(first.incomplete, []);
      const created = byStatus(first, 'created').map(
        (s) => `${s.service} ${s.region} ${s.resource} ${s.name}`,
      );
      assert.deepEqual(created.sort(), [
        `audit-events-all ${EU} SQS dead-letter queue devo-trails-dlq`,
        `audit-events-all ${EU} SQS queue devo-trails`,
        `audit-events-all ${EU} SQS queue policy devo-trails`,
        `non-cloudwatch-logs ${EU} SQS dead-letter queue devo-ncwl-cfl-t1-dlq`,
        `non-cloudwatch-logs ${EU} SQS dead-letter queue devo-ncwl-vpcfl-t1-dlq`,
        `non-cloudwatch-logs ${EU} SQS queue devo-ncwl-cfl-t1`,
        `non-cloudwatch-logs ${EU} SQS queue devo-ncwl-vpcfl-t1`,
        `non-cloudwatch-logs ${EU} SQS queue policy devo-ncwl-cfl-t1`,
        `non-cloudwatch-logs ${EU} SQS queue policy devo-ncwl-vpcfl-t1`,
        `service-events-all ${EU} EventBridge rule devo-service-events-t1`,
        `service-events-all ${EU} EventBridge target devo-service-events-t1 → ${eventsQueue}`,
        `service-events-all ${EU} SQS dead-letter queue devo-events-${ACCOUNT}-dlq.fifo`,
        `service-events-all ${EU} SQS queue ${eventsQueue}`,
        `service-events-all ${EU} SQS queue policy ${eventsQueue}`,
        `service-events-all ${US} EventBridge rule devo-service-events-t1`,
        `service-events-all ${US} EventBridge target devo-service-events-t1 → ${eventsQueue}`,
        `service-events-all ${US} SQS dead-letter queue devo-events-${ACCOUNT}-dlq.fifo`,
        `service-events-all ${US} SQS queue ${eventsQueue}`,
        `service-events-all ${US} SQS queue policy ${eventsQueue}`,
        `sqs-cloudwatch-consumer ${EU} EventBridge rule devo-securityhub-findings-t1`,
        `sqs-cloudwatch-consumer ${EU} EventBridge target devo-securityhub-findings-t1 → devo-securityhub`,
        `sqs-cloudwatch-consumer ${EU} SQS dead-letter queue devo-securityhub-dlq`,
        `sqs-cloudwatch-consumer ${EU} SQS queue devo-securityhub`,
        `sqs-cloudwatch-consumer ${EU} SQS queue policy devo-securityhub`,
      ]);

      const fifo = await queueAttributes(aws, EU, eventsQueue);
      assert.equal(fifo.FifoQueue, 'true');
      assert.equal(fifo.ContentBasedDeduplication, 'true');
      assert.deepEqual(JSON.parse(fifo.RedrivePolicy!), {
        deadLetterTargetArn: `arn:aws:sqs:${EU}:${ACCOUNT}:devo-events-${ACCOUNT}-dlq.fifo`,
        maxReceiveCount: 5,
      });
      assert.equal((await queueAttributes(aws, EU, `devo-events-${ACCOUNT}-dlq.fifo`)).FifoQueue, 'true');
      const policy = JSON.parse(fifo.Policy!) as { Statement: Record<string, unknown>[] };
      assert.deepEqual(policy.Statement, [
        {
          Sid: 'DevoCollectordevoserviceeventst1',
          Effect: 'Allow',
          Principal: { Service: 'events.amazonaws.com' },
          Action: 'sqs:SendMessage',
          Resource: `arn:aws:sqs:${EU}:${ACCOUNT}:${eventsQueue}`,
          Condition: {
            ArnEquals: { 'aws:SourceArn': `arn:aws:events:${EU}:${ACCOUNT}:rule/devo-service-events-t1` },
          },
        },
      ]);
      const standard = await queueAttributes(aws, EU, 'devo-ncwl-vpcfl-t1');
      assert.equal(standard.FifoQueue, undefined);
      assert.deepEqual((JSON.parse(standard.Policy!) as { Statement: unknown[] }).Statement, [
        {
          Sid: 'DevoCollectorS3Notifications',
          Effect: 'Allow',
          Principal: { Service: 's3.amazonaws.com' },
          Action: 'sqs:SendMessage',
          Resource: `arn:aws:sqs:${EU}:${ACCOUNT}:devo-ncwl-vpcfl-t1`,
          Condition: { StringEquals: { 'aws:SourceAccount': ACCOUNT } },
        },
      ]);

      const events = aws.eventbridge(US);
      const rule = await events.send(new DescribeRuleCommand({ Name: 'devo-service-events-t1' }));
      assert.equal(rule.State, 'ENABLED');
      const { Targets } = await events.send(new ListTargetsByRuleCommand({ Rule: 'devo-service-events-t1' }));
      assert.deepEqual(Targets, [
        {
          Id: eventsQueue,
          Arn: `arn:aws:sqs:${US}:${ACCOUNT}:${eventsQueue}`,
          SqsParameters: { MessageGroupId: 'devo-service-events-t1' },
        },
      ]);
    });

    test('logs what was created, and the exact bucket notification still to set for S3-fed queues', () => {
      const created = firstLog.filter((l) => l.status === 'created');
      assert.equal(created.length, 24);
      assert.ok(created.every((l) => l.level === 'info' && l.event === 'auto_setup_step'));
      const manual = firstLog.filter((l) => l.status === 'manual');
      assert.deepEqual(manual.map((l) => l.name).sort(), [
        'devo-ncwl-cfl-t1',
        'devo-ncwl-vpcfl-t1',
        'devo-trails',
      ]);
      assert.ok(manual.every((l) => l.level === 'warn'));
      const vpc = manual.find((l) => l.name === 'devo-ncwl-vpcfl-t1')!;
      assert.equal(vpc.resource, 'S3 notification');
      assert.equal(vpc.region, EU);
      assert.equal(vpc.service, 'non-cloudwatch-logs');
      assert.deepEqual(vpc.notification, {
        QueueConfigurations: [
          {
            Id: 'devo-aws-collector-devo-ncwl-vpcfl-t1',
            QueueArn: `arn:aws:sqs:${EU}:${ACCOUNT}:devo-ncwl-vpcfl-t1`,
            Events: ['s3:ObjectCreated:*'],
          },
        ],
      });
      const summary = firstLog.at(-1)!;
      assert.equal(summary.event, 'auto_setup_done');
      assert.equal(summary.queues, 6);
      assert.deepEqual(summary.incomplete, []);
      assert.equal(summary.created, 24);
    });

    test('EventBridge events reach the created queues, each service getting only its own', () => {
      fake.eventbridge.putEvents(EU, [
        { source: 'aws.guardduty', 'detail-type': 'GuardDuty Finding', detail: { id: 'g1' } },
        {
          source: 'aws.securityhub',
          'detail-type': 'Security Hub Findings - Imported',
          detail: { findings: [{ Id: 'f1' }] },
        },
        { source: 'aws.securityhub', 'detail-type': 'Security Hub Insight Results', detail: {} },
        { source: 'com.example.app', 'detail-type': 'Order Placed', detail: {} },
      ]);
      fake.eventbridge.putEvents(US, [
        { source: 'aws.ec2', 'detail-type': 'EC2 Instance State-change Notification', detail: {} },
      ]);
      const sources = (region: string, queue: string) =>
        fake.sqs.messages(region, queue).map((m) => {
          const e = JSON.parse(m.body) as { source: string; 'detail-type': string };
          return `${e.source}: ${e['detail-type']}`;
        });
      assert.deepEqual(sources(EU, eventsQueue), ['aws.guardduty: GuardDuty Finding']);
      assert.deepEqual(sources(US, eventsQueue), ['aws.ec2: EC2 Instance State-change Notification']);
      assert.deepEqual(sources(EU, 'devo-securityhub'), [
        'aws.securityhub: Security Hub Findings - Imported',
      ]);
      assert.deepEqual(fake.eventbridge.deliveryFailures(), []);
    });

    test('the logged bucket notification is accepted by S3 and brings new objects to the queue', async () => {
      const json = JSON.stringify(
        firstLog.find((l) => l.status === 'manual' && l.name === 'devo-ncwl-vpcfl-t1')!.notification,
      );
      fake.s3.createBucket(EU, 'flow-logs');
      await aws.s3(EU).send(
        new PutBucketNotificationConfigurationCommand({
          Bucket: 'flow-logs',
          NotificationConfiguration: JSON.parse(json) as never,
        }),
      );
      fake.s3.putObject('flow-logs', 'AWSLogs/123456789012/vpcflowlogs/eu-west-1/f.log.gz', 'x');
      const bodies = fake.sqs.messages(EU, 'devo-ncwl-vpcfl-t1').map((m) => m.body);
      assert.equal(bodies.length, 2); // S3's test event, then the object
      assert.match(bodies[1]!, /"eventName":"ObjectCreated:Put"/);
    });

    test('running again changes nothing', async () => {
      const since = Date.now();
      fake.clearRequests();
      const second = await runAutoSetup({
        plans: planAutoSetup(input()),
        aws,
        logger: capturingLogger().logger,
      });
      assert.deepEqual(
        [...new Set(second.steps.map((s) => s.status))].sort(),
        ['manual', 'unchanged'],
        JSON.stringify(second.steps.filter((s) => s.status !== 'unchanged' && s.status !== 'manual')),
      );
      assert.equal(second.steps.length, first.steps.length);
      const writes = fake
        .requestsFor({ since })
        .filter((r) => /^(Create|Set|Put)/.test(r.operation))
        .map((r) => r.operation);
      assert.deepEqual(writes, []);
    });
  });

  test('a created queue gets a dead-letter queue after max_receive_count receives; 0: none', async () => {
    const aws = newClients();
    const config = parse(
      `      sqs-cloudwatch-consumer:\n        cloudwatch_sqs_queue_name: poison\n        max_receive_count: 2\n        regions: [${EU}]\n`,
      '',
      't6',
    );
    const report = await runAutoSetup({
      plans: planAutoSetup(config.inputs.aws),
      aws,
      logger: capturingLogger().logger,
    });
    assert.deepEqual(byStatus(report, 'failed'), []);
    assert.deepEqual(JSON.parse((await queueAttributes(aws, EU, 'poison')).RedrivePolicy!), {
      deadLetterTargetArn: `arn:aws:sqs:${EU}:${ACCOUNT}:poison-dlq`,
      maxReceiveCount: 2,
    });
    // A message never deleted (undeliverable): SQS moves it on the receive after the second.
    fake.sqs.send(EU, 'poison', 'cannot be delivered');
    const sqs = aws.sqs(EU);
    const { QueueUrl } = await sqs.send(new GetQueueUrlCommand({ QueueName: 'poison' }));
    const receives: number[] = [];
    for (let i = 0; i < 3; i++) {
      const out = await sqs.send(new ReceiveMessageCommand({ QueueUrl, VisibilityTimeout: 0 }));
      receives.push(out.Messages?.length ?? 0);
    }
    assert.deepEqual(receives, [1, 1, 0]);
    assert.deepEqual(
      fake.sqs.messages(EU, 'poison-dlq').map((m) => m.body),
      ['cannot be delivered'],
    );

    const none = parse(
      `      sqs-cloudwatch-consumer:\n        cloudwatch_sqs_queue_name: no-dlq\n        max_receive_count: 0\n        regions: [${EU}]\n`,
      '',
      't7',
    );
    await runAutoSetup({ plans: planAutoSetup(none.inputs.aws), aws, logger: capturingLogger().logger });
    assert.equal((await queueAttributes(aws, EU, 'no-dlq')).RedrivePolicy, undefined);
    assert.equal(fake.sqs.queueArn(EU, 'no-dlq-dlq'), undefined);
  });

  test('existing structures are kept as they are; only this collector statement is added to a queue policy', async () => {
    const aws = newClients();
    const queue = 'user-made.fifo';
    fake.sqs.createQueue(US, queue, {
      FifoQueue: 'true',
      Policy: JSON.stringify({
        Version: '2012-10-17',
        Statement: {
          Sid: 'Ops',
          Effect: 'Allow',
          Principal: { AWS: ACCOUNT },
          Action: 'sqs:*',
          Resource: '*',
        },
      }),
    });
    const userPattern = JSON.stringify({ source: ['aws.guardduty'] });
    await aws
      .eventbridge(US)
      .send(new PutRuleCommand({ Name: 'devo-service-events-t2', EventPattern: userPattern }));
    const { logger, lines } = capturingLogger();
    const config = parse(
      `      service-events-all:\n        cloudwatch_sqs_queue_name: ${queue}\n        regions: [${US}]\n`,
    );
    const report = await runAutoSetup({
      plans: planAutoSetup({ ...config.inputs.aws, id: 't2' }),
      aws,
      logger,
    });

    assert.deepEqual(
      report.steps.map((s) => `${s.resource}: ${s.status}`),
      [
        'SQS queue: kept',
        'SQS dead-letter queue: kept',
        'EventBridge rule: kept',
        'SQS queue policy: updated',
        'EventBridge target: created',
      ],
    );
    const kept = lines().filter((l) => l.status === 'kept');
    assert.deepEqual(
      kept.map((l) => [l.resource, l.name, l.found, l.wanted]),
      [
        [
          'SQS queue',
          'user-made.fifo',
          { ContentBasedDeduplication: 'false' },
          { ContentBasedDeduplication: 'true' },
        ],
        [
          'SQS dead-letter queue',
          'user-made-dlq.fifo',
          { RedrivePolicy: null },
          { deadLetterQueue: 'user-made-dlq.fifo', maxReceiveCount: 5 },
        ],
        [
          'EventBridge rule',
          'devo-service-events-t2',
          { State: 'ENABLED', EventPattern: userPattern },
          { State: 'ENABLED', EventPattern: (kept[2]!.wanted as { EventPattern: string }).EventPattern },
        ],
      ],
    );
    assert.notEqual((kept[2]!.wanted as { EventPattern: string }).EventPattern, userPattern);
    assert.ok(kept.every((l) => l.level === 'warn' && l.event === 'auto_setup_step' && l.region === US));
    const rule = await aws.eventbridge(US).send(new DescribeRuleCommand({ Name: 'devo-service-events-t2' }));
    assert.equal(rule.EventPattern, userPattern);
    const attrs = await queueAttributes(aws, US, queue);
    assert.equal(attrs.ContentBasedDeduplication, 'false');
    const statements = (JSON.parse(attrs.Policy!) as { Statement: { Sid: string }[] }).Statement;
    assert.deepEqual(
      statements.map((s) => s.Sid),
      ['Ops', 'DevoCollectordevoserviceeventst2'],
    );
  });

  test('a queue policy that is not JSON is left alone: that step fails, and no target is added', async () => {
    const aws = newClients();
    fake.sqs.createQueue(EU, 'odd-policy', { Policy: 'not json' });
    const { logger, lines } = capturingLogger();
    const config = parse(
      `      sqs-cloudwatch-consumer:\n        cloudwatch_sqs_queue_name: odd-policy\n        regions: [${EU}]\n`,
      '',
      't5',
    );
    const report = await runAutoSetup({ plans: planAutoSetup(config.inputs.aws), aws, logger });
    assert.deepEqual(
      report.steps.map((s) => `${s.resource}: ${s.status}`),
      [
        'SQS queue: unchanged',
        'SQS dead-letter queue: kept',
        'EventBridge rule: created',
        'SQS queue policy: failed',
      ],
    );
    assert.deepEqual(report.incomplete, [{ service: 'sqs-cloudwatch-consumer', region: EU }]);
    const failed = lines().find((l) => l.level === 'error')!;
    assert.deepEqual(
      [
        failed.event,
        failed.status,
        failed.resource,
        failed.name,
        failed.service,
        failed.region,
        failed.denied,
      ],
      ['auto_setup_step', 'failed', 'SQS queue policy', 'odd-policy', 'sqs-cloudwatch-consumer', EU, false],
    );
    assert.equal((await queueAttributes(aws, EU, 'odd-policy')).Policy, 'not json');
  });

  test('a queue created meanwhile with other attributes (QueueNameExists) is used as it is', async () => {
    const aws = newClients();
    fake.sqs.createQueue(EU, 'raced.fifo', { FifoQueue: 'true', ContentBasedDeduplication: 'false' });
    // The first lookup misses it, as when another replica creates it between our two calls.
    answerWithError(
      aws.sqs(EU),
      'GetQueueUrl',
      {
        type: 'com.amazonaws.sqs#QueueDoesNotExist',
        message: 'The specified queue does not exist.',
        queryError: 'AWS.SimpleQueueService.NonExistentQueue;Sender',
      },
      () => true,
      1,
    );
    const config = parse(
      `      sqs-cloudwatch-consumer:\n        cloudwatch_sqs_queue_name: raced.fifo\n        regions: [${EU}]\n`,
    );
    const report = await runAutoSetup({
      plans: planAutoSetup({ ...config.inputs.aws, id: 't3' }),
      aws,
      logger: capturingLogger().logger,
    });
    const queueStep = report.steps.find((s) => s.resource === 'SQS queue')!;
    assert.equal(queueStep.status, 'kept');
    assert.match(queueStep.message, /raced\.fifo \(eu-west-1\) exists with ContentBasedDeduplication=false/);
    assert.deepEqual(report.incomplete, []);
    assert.equal(fake.requestsFor({ operation: 'CreateQueue', status: 400 }).length, 1);
  });

  test('a missing permission is logged with the IAM action; the other services still start and collect', async () => {
    const { dir, cleanup } = tempDir('dac-auto-setup-');
    const { logger, lines } = capturingLogger();
    const config = parse(
      `      service-events-all:
        cloudwatch_sqs_queue_name: denied-events
        regions: [${EU}]
      sqs-cloudwatch-consumer:
        cloudwatch_sqs_queue_name: allowed-findings
        regions: [${EU}]
`,
      `    endpoint: ${fake.endpoint}\n    credentials: { access_key: AKIACOLLECTOR, access_secret: collector-secret-0000 }\n`,
      't4',
    );
    const withFileOutput = {
      ...config,
      globals: {
        ...config.globals,
        persistence: { type: 'filesystem' as const, config: { directory_name: 'state' } },
      },
      outputs: { out: { type: 'file', config: { path: 'events.jsonl' } } },
    } as CollectorConfig;
    const collector = new Collector(
      { config: withFileOutput, file: join(dir, 'c.yaml'), dir, inlineSecrets: [] },
      {
        logger,
        secrets: new Secrets(),
        cwd: dir,
      },
    );
    try {
      answerWithError(
        collector.aws.eventbridge(EU),
        'PutRule',
        {
          type: 'AccessDeniedException',
          message: `User: arn:aws:iam::${ACCOUNT}:user/collector is not authorized to perform: events:PutRule`,
        },
        (input) => input.Name === 'devo-service-events-t4',
      );
      await collector.start();

      const failure = lines().find((l) => l.level === 'error' && l.action === 'events:PutRule')!;
      assert.ok(failure, 'the failure is logged');
      assert.equal(failure.service, 'service-events-all');
      assert.equal(failure.region, EU);
      assert.equal(failure.event, 'auto_setup_step');
      assert.equal(failure.status, 'failed');
      assert.equal(failure.resource, 'EventBridge rule');
      assert.equal(failure.name, 'devo-service-events-t4');
      assert.equal(failure.denied, true, 'told apart as a missing IAM permission');
      assert.equal((failure.err as { type: string }).type, 'AccessDeniedException');
      const summary = lines().find((l) => l.event === 'auto_setup_done')!;
      assert.deepEqual(summary.incomplete, [`service-events-all/${EU}`]);
      const started = lines().find((l) => l.event === 'collector_started')!;
      assert.equal((started.workers as string[]).length, 2);

      // The Security Hub rule was made and its worker delivers.
      fake.eventbridge.putEvents(EU, [
        {
          source: 'aws.securityhub',
          'detail-type': 'Security Hub Findings - Imported',
          detail: { findings: [{ Id: 'finding-1' }] },
        },
      ]);
      const file = join(dir, 'events.jsonl');
      const deadline = Date.now() + 10_000;
      while (!(existsSync(file) && readFileSync(file, 'utf8').includes('finding-1'))) {
        assert.ok(Date.now() < deadline, 'the finding was not delivered');
        await new Promise((r) => setTimeout(r, 20));
      }
      assert.match(readFileSync(file, 'utf8'), /"tag":"cloud\.aws\.securityhub\.findings"/);
    } finally {
      await collector.stop(1_000);
      cleanup();
    }
  });

  test('with accounts, each account gets its own queue and rule, made with its role, and collects', async () => {
    const { dir, cleanup } = tempDir('dac-auto-setup-');
    const { logger, lines } = capturingLogger();
    const accounts = ['444444444444', '555555555555'];
    for (const a of accounts) fake.sts.addRole(`arn:aws:iam::${a}:role/devo`);
    const config = parse(
      `      service-events-all:\n        cloudwatch_sqs_queue_name: devo-events-<account_id>\n        regions: [${EU}]\n`,
      `    endpoint: ${fake.endpoint}
    credentials: { access_key: AKIACOLLECTOR, access_secret: collector-secret-0000 }
    accounts:
${accounts.map((a) => `      - { id: ${a}, target_assume_role: 'arn:aws:iam::${a}:role/devo' }\n`).join('')}`,
      't9',
    );
    const collector = new Collector(
      {
        config: { ...config, outputs: { out: { type: 'file', config: { path: 'events.jsonl' } } } },
        file: join(dir, 'c.yaml'),
        dir,
        inlineSecrets: [],
      },
      { logger, secrets: new Secrets(), cwd: dir },
    );
    try {
      await collector.start();
      for (const a of accounts) {
        assert.ok(fake.sqs.queueArn(EU, `devo-events-${a}`, a), `the queue of ${a}, in ${a}`);
        const summary = lines().find((l) => String(l.msg).startsWith('auto_setup done') && l.account === a);
        assert.deepEqual(summary?.incomplete, [], `auto_setup of ${a} complete`);
        fake.eventbridge.putEvents(
          EU,
          [
            {
              source: 'aws.guardduty',
              'detail-type': 'GuardDuty Finding',
              detail: { of: `finding-of-${a}` },
            },
          ],
          a,
        );
      }
      const file = join(dir, 'events.jsonl');
      const deadline = Date.now() + 10_000;
      while (
        !accounts.every((a) => existsSync(file) && readFileSync(file, 'utf8').includes(`finding-of-${a}`))
      ) {
        assert.ok(Date.now() < deadline, 'the events of every account were not delivered');
        await new Promise((r) => setTimeout(r, 20));
      }
      for (const a of accounts)
        assert.ok(fake.requestsFor({ operation: 'CreateQueue', accountId: a, status: 200 }).length > 0);
    } finally {
      await collector.stop(1_000);
      cleanup();
    }
  });
});
