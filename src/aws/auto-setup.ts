import { isDeepStrictEqual } from 'node:util';
import {
  DescribeRuleCommand,
  ListTargetsByRuleCommand,
  PutRuleCommand,
  PutTargetsCommand,
  ResourceNotFoundException,
  type Target,
} from '@aws-sdk/client-eventbridge';
import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  QueueDoesNotExist,
  QueueNameExists,
  SetQueueAttributesCommand,
  type QueueAttributeName,
} from '@aws-sdk/client-sqs';
import { describeError } from '../core/errors.js';
import type { Logger } from '../telemetry/logger.js';
import {
  boundedName,
  deadLetterQueueName,
  partitionOf,
  type QueuePlan,
  type RuleFeed,
} from './auto-setup-plan.js';
import type { AwsClients } from './clients.js';

/**
 * `inputs.aws.auto_setup`: creates what the SQS-fed services read from — the queues, their access
 * policies and, for service events and Security Hub, the EventBridge rule and its target. It
 * is idempotent and conservative: what exists is kept as it is (differences are reported, never
 * "fixed"); nothing is deleted or recreated; the only change made to an existing resource is
 * adding or updating this collector's own statement (by Sid) in a queue policy, which the
 * queue needs to receive events. A failed step is logged with the IAM action it needs and
 * stops only that queue's remaining steps; its worker keeps retrying as usual.
 */

export type SetupResource =
  | 'SQS queue'
  | 'SQS dead-letter queue'
  | 'SQS queue policy'
  | 'EventBridge rule'
  | 'EventBridge target'
  | 'S3 notification';

/**
 * created/updated: changed by this run; unchanged: already as needed; kept: exists but differs
 * from what auto-setup would make (left as it is); manual: the user still has to do it; failed.
 */
export type SetupStatus = 'created' | 'updated' | 'unchanged' | 'kept' | 'manual' | 'failed';

export interface SetupStep {
  service: string;
  region: string;
  resource: SetupResource;
  /** Queue or rule name (`<account_id>` resolved). */
  name: string;
  status: SetupStatus;
  message: string;
  /** For failed steps: the IAM action of the call that failed. */
  action?: string;
}

export interface AutoSetupReport {
  steps: SetupStep[];
  /** Service × region pairs left without everything they need (their workers keep retrying). */
  incomplete: { service: string; region: string }[];
}

export interface AutoSetupOptions {
  /** What to set up: services/plans.ts planAutoSetup() of the configuration. */
  plans: readonly QueuePlan[];
  aws: AwsClients;
  logger: Logger;
  /** Aborts the remaining calls (collector shutdown). */
  signal?: AbortSignal;
}

/** Thrown inside one queue's setup once a step failed (already recorded); ends that queue's steps. */
class StepFailed extends Error {}

/**
 * Runs auto-setup for every service × region the configuration reads from SQS. Never throws:
 * failures are in the report and the log. Regions run in parallel; the queues of one region
 * run one after the other, so two services sharing a queue never race on its policy.
 */
export async function runAutoSetup(options: AutoSetupOptions): Promise<AutoSetupReport> {
  const { plans } = options;
  const report: AutoSetupReport = { steps: [], incomplete: [] };
  if (plans.length === 0) {
    options.logger.info(
      { event: 'auto_setup_done', queues: 0 },
      'auto_setup: no configured service reads from SQS; nothing to set up',
    );
    return report;
  }
  const byRegion = new Map<string, QueuePlan[]>();
  for (const plan of plans) byRegion.set(plan.region, [...(byRegion.get(plan.region) ?? []), plan]);
  await Promise.all(
    [...byRegion.values()].map(async (regionPlans) => {
      for (const plan of regionPlans) {
        if (options.signal?.aborted) return;
        const complete = await new QueueSetup(plan, options, report).run();
        const pair = report.incomplete.some((p) => p.service === plan.service && p.region === plan.region);
        if (!complete && !pair) report.incomplete.push({ service: plan.service, region: plan.region });
      }
    }),
  );
  const count = (status: SetupStatus) => report.steps.filter((s) => s.status === status).length;
  options.logger.info(
    {
      event: 'auto_setup_done',
      queues: plans.length,
      created: count('created'),
      updated: count('updated'),
      unchanged: count('unchanged'),
      kept: count('kept'),
      manual: count('manual'),
      failed: count('failed'),
      incomplete: report.incomplete.map((p) => `${p.service}/${p.region}`),
    },
    report.incomplete.length === 0
      ? `auto_setup done for ${plans.length} queue(s)`
      : `auto_setup done for ${plans.length} queue(s); incomplete for ${report.incomplete.length} service × region(s), whose workers start anyway and keep retrying`,
  );
  return report;
}

interface QueueInfo {
  name: string;
  url: string;
  arn: string;
  fifo: boolean;
  attributes: Record<string, string>;
}

/** The steps for one queue of one service in one region. */
class QueueSetup {
  private readonly region: string;

  constructor(
    private readonly plan: QueuePlan,
    private readonly options: AutoSetupOptions,
    private readonly report: AutoSetupReport,
  ) {
    this.region = plan.region;
  }

  /** True when every step succeeded (kept and manual steps included). */
  async run(): Promise<boolean> {
    try {
      const queue = await this.ensureQueue();
      if (this.plan.feed.kind === 'rule') {
        const ruleArn = await this.ensureRule(this.plan.feed);
        await this.ensurePolicy(queue, eventBridgeStatement(this.plan.feed.statementId, queue.arn, ruleArn));
        await this.ensureTarget(this.plan.feed, queue);
      } else {
        await this.ensurePolicy(queue, s3Statement(queue));
        this.instructS3(queue, this.plan.feed.content);
      }
      return true;
    } catch (err) {
      // StepFailed was logged by fail(); anything else is unexpected and still must not stop the start.
      if (!(err instanceof StepFailed)) {
        const { service, region } = this.plan;
        this.options.logger.error(
          { event: 'auto_setup_failed', service, region, err },
          `auto_setup: unexpected failure for ${service} in ${region}: ${describeError(err)}`,
        );
      }
      return false;
    }
  }

  // ---- queue ------------------------------------------------------------------------------------

  private async ensureQueue(): Promise<QueueInfo> {
    const name = await this.queueName();
    const fifo = name.endsWith('.fifo');
    const sqs = this.options.aws.sqs(this.region);
    const getUrl = (): Promise<string | undefined> => this.queueUrl(name);
    // Looked up first, so queues made by hand need no sqs:CreateQueue permission.
    const found = await this.call('SQS queue', name, 'sqs:GetQueueUrl', getUrl);
    // A new queue gets its dead-letter queue first, so a message that can never be processed stops cycling.
    const redrive = found === undefined ? await this.ensureDeadLetterQueue(name, fifo) : {};
    const { url, outcome } =
      found !== undefined
        ? { url: found, outcome: 'existed' as const }
        : await this.call('SQS queue', name, 'sqs:CreateQueue', () =>
            this.createQueue(name, { ...fifoAttributes(fifo), ...redrive }, getUrl),
          );
    if (!url) return this.fail('SQS queue', name, 'sqs:GetQueueUrl', new Error('no QueueUrl in the answer'));
    const queueUrl = url;
    const names: QueueAttributeName[] = ['QueueArn', 'Policy', 'RedrivePolicy'];
    if (fifo) names.push('ContentBasedDeduplication');
    const attributes = await this.call(
      'SQS queue',
      name,
      'sqs:GetQueueAttributes',
      async () =>
        (
          await sqs.send(
            new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: names }),
            this.http,
          )
        ).Attributes ?? {},
    );
    const arn = attributes.QueueArn;
    if (!arn)
      return this.fail('SQS queue', name, 'sqs:GetQueueAttributes', new Error('no QueueArn in the answer'));
    if (outcome === 'created') {
      this.record(
        'SQS queue',
        name,
        'created',
        `created SQS queue ${this.where(name)}${fifo ? ' (FIFO, content-based deduplication)' : ''}`,
      );
    } else if (fifo && attributes.ContentBasedDeduplication !== 'true') {
      this.record(
        'SQS queue',
        name,
        'kept',
        `SQS queue ${this.where(name)} exists with ContentBasedDeduplication=${attributes.ContentBasedDeduplication ?? 'unset'} (auto_setup would set true); left as it is`,
        {
          found: { ContentBasedDeduplication: attributes.ContentBasedDeduplication ?? null },
          wanted: { ContentBasedDeduplication: 'true' },
        },
      );
    } else if (outcome === 'raced') {
      this.record(
        'SQS queue',
        name,
        'kept',
        `SQS queue ${this.where(name)} was created meanwhile by someone else with other attributes than auto_setup sets; left as it is`,
      );
    } else {
      this.record('SQS queue', name, 'unchanged', `SQS queue ${this.where(name)} exists`);
    }
    if (outcome !== 'created' && this.plan.maxReceiveCount > 0) this.reportRedrive(name, attributes);
    return { name, url: queueUrl, arn, fifo, attributes };
  }

  /** An existing queue's redrive policy is never changed: only said, when there is none. */
  private reportRedrive(name: string, attributes: Record<string, string>): void {
    const dlq = deadLetterQueueName(name);
    if (attributes.RedrivePolicy)
      this.record(
        'SQS dead-letter queue',
        dlq,
        'unchanged',
        `SQS queue ${this.where(name)} has a redrive policy`,
      );
    else
      this.record(
        'SQS dead-letter queue',
        dlq,
        'kept',
        `SQS queue ${this.where(name)} exists without a redrive policy (auto_setup would move a message to ${dlq} after ${this.plan.maxReceiveCount} receives); left as it is`,
        {
          found: { RedrivePolicy: null },
          wanted: { deadLetterQueue: dlq, maxReceiveCount: this.plan.maxReceiveCount },
        },
      );
  }

  /** The queue's URL, or undefined when it does not exist. */
  private async queueUrl(name: string): Promise<string | undefined> {
    try {
      const sqs = this.options.aws.sqs(this.region);
      return (await sqs.send(new GetQueueUrlCommand({ QueueName: name }), this.http)).QueueUrl;
    } catch (err) {
      if (err instanceof QueueDoesNotExist || (err as Error).name === 'QueueDoesNotExist') return undefined;
      throw err;
    }
  }

  /**
   * The dead-letter queue of a queue about to be created, looked up or created (max_receive_count
   * 0: none); gives the RedrivePolicy attribute pointing at it.
   */
  private async ensureDeadLetterQueue(
    queueName: string,
    fifo: boolean,
  ): Promise<Partial<Record<QueueAttributeName, string>>> {
    const maxReceiveCount = this.plan.maxReceiveCount;
    if (maxReceiveCount === 0) return {};
    const name = deadLetterQueueName(queueName);
    const sqs = this.options.aws.sqs(this.region);
    const getUrl = (): Promise<string | undefined> => this.queueUrl(name);
    const found = await this.call('SQS dead-letter queue', name, 'sqs:GetQueueUrl', getUrl);
    const { url, outcome } =
      found !== undefined
        ? { url: found, outcome: 'existed' as const }
        : await this.call('SQS dead-letter queue', name, 'sqs:CreateQueue', () =>
            this.createQueue(name, fifoAttributes(fifo), getUrl),
          );
    const arn = url
      ? await this.call(
          'SQS dead-letter queue',
          name,
          'sqs:GetQueueAttributes',
          async () =>
            (
              await sqs.send(
                new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['QueueArn'] }),
                this.http,
              )
            ).Attributes?.QueueArn,
        )
      : undefined;
    if (!arn)
      return this.fail('SQS dead-letter queue', name, 'sqs:GetQueueAttributes', new Error('no QueueArn'));
    this.record(
      'SQS dead-letter queue',
      name,
      outcome === 'created' ? 'created' : 'unchanged',
      `${outcome === 'created' ? 'created' : 'using existing'} dead-letter queue ${this.where(name)} for ${queueName} (maxReceiveCount ${maxReceiveCount})`,
    );
    return { RedrivePolicy: JSON.stringify({ deadLetterTargetArn: arn, maxReceiveCount }) };
  }

  private async createQueue(
    name: string,
    wanted: Partial<Record<QueueAttributeName, string>>,
    getUrl: () => Promise<string | undefined>,
  ): Promise<{ url: string | undefined; outcome: 'created' | 'raced' }> {
    try {
      const created = await this.options.aws
        .sqs(this.region)
        .send(new CreateQueueCommand({ QueueName: name, Attributes: wanted }), this.http);
      return { url: created.QueueUrl, outcome: 'created' };
    } catch (err) {
      // Created meanwhile (e.g. by another replica starting) with other attributes: use it as it is.
      if (!(err instanceof QueueNameExists || (err as Error).name === 'QueueNameExists')) throw err;
      return { url: await getUrl(), outcome: 'raced' };
    }
  }

  private async queueName(): Promise<string> {
    const configured = this.plan.queueName;
    if (!configured.includes('<account_id>')) return configured;
    const accountId = await this.call('SQS queue', configured, 'sts:GetCallerIdentity', () =>
      this.options.aws.accountId(this.region),
    );
    return configured.replaceAll('<account_id>', accountId);
  }

  /** Adds or updates this collector's statement (by Sid) in the queue policy, keeping all others. */
  private async ensurePolicy(queue: QueueInfo, statement: PolicyStatement): Promise<void> {
    const resource = 'SQS queue policy';
    let policy: PolicyDocument;
    try {
      policy = queue.attributes.Policy
        ? parsePolicy(queue.attributes.Policy)
        : { Version: '2012-10-17', Statement: [] };
    } catch (err) {
      return this.fail(resource, queue.name, 'sqs:GetQueueAttributes', err);
    }
    const statements = policy.Statement;
    const index = statements.findIndex((s) => s.Sid === statement.Sid);
    if (index >= 0 && isDeepStrictEqual(statements[index], statement)) {
      this.record(
        resource,
        queue.name,
        'unchanged',
        `policy of SQS queue ${this.where(queue.name)} already lets ${principalOf(statement)} send`,
      );
      return;
    }
    const next = {
      ...policy,
      Statement:
        index >= 0 ? statements.map((s, i) => (i === index ? statement : s)) : [...statements, statement],
    };
    await this.call(resource, queue.name, 'sqs:SetQueueAttributes', () =>
      this.options.aws.sqs(this.region).send(
        new SetQueueAttributesCommand({
          QueueUrl: queue.url,
          Attributes: { Policy: JSON.stringify(next) },
        }),
        this.http,
      ),
    );
    this.record(
      resource,
      queue.name,
      index >= 0 || queue.attributes.Policy ? 'updated' : 'created',
      `${index >= 0 ? 'updated' : 'added'} statement ${statement.Sid} in the policy of SQS queue ${this.where(queue.name)}: ${principalOf(statement)} may send to it`,
    );
  }

  // ---- EventBridge ------------------------------------------------------------------------------

  /** The rule's ARN; an existing rule is kept as it is (a different pattern or state is reported). */
  private async ensureRule(feed: RuleFeed): Promise<string> {
    const events = this.options.aws.eventbridge(this.region);
    const name = feed.ruleName;
    const existing = await this.call('EventBridge rule', name, 'events:DescribeRule', async () => {
      try {
        return await events.send(new DescribeRuleCommand({ Name: name }), this.http);
      } catch (err) {
        if (err instanceof ResourceNotFoundException || (err as Error).name === 'ResourceNotFoundException')
          return undefined;
        throw err;
      }
    });
    const pattern = JSON.stringify(feed.pattern);
    if (existing?.Arn) {
      const samePattern =
        existing.EventPattern !== undefined &&
        isDeepStrictEqual(safeJson(existing.EventPattern), feed.pattern);
      if (samePattern && existing.State === 'ENABLED') {
        this.record('EventBridge rule', name, 'unchanged', `EventBridge rule ${this.where(name)} exists`);
      } else {
        this.record(
          'EventBridge rule',
          name,
          'kept',
          `EventBridge rule ${this.where(name)} exists with ${samePattern ? `state ${existing.State}` : `pattern ${existing.EventPattern ?? '(none)'}`}; left as it is (auto_setup would make it ENABLED with pattern ${pattern})`,
          {
            found: { State: existing.State ?? null, EventPattern: existing.EventPattern ?? null },
            wanted: { State: 'ENABLED', EventPattern: pattern },
          },
        );
      }
      return existing.Arn;
    }
    const created = await this.call('EventBridge rule', name, 'events:PutRule', () =>
      events.send(
        new PutRuleCommand({
          Name: name,
          EventPattern: pattern,
          State: 'ENABLED',
          Description: feed.description,
        }),
        this.http,
      ),
    );
    if (!created.RuleArn)
      return this.fail('EventBridge rule', name, 'events:PutRule', new Error('no RuleArn in the answer'));
    this.record(
      'EventBridge rule',
      name,
      'created',
      `created EventBridge rule ${this.where(name)} with pattern ${pattern}`,
    );
    return created.RuleArn;
  }

  private async ensureTarget(feed: RuleFeed, queue: QueueInfo): Promise<void> {
    const events = this.options.aws.eventbridge(this.region);
    const rule = feed.ruleName;
    const label = `${rule} → ${queue.name}`;
    const targets = await this.call('EventBridge target', label, 'events:ListTargetsByRule', async () => {
      const all: Target[] = [];
      let token: string | undefined;
      do {
        const page = await events.send(
          new ListTargetsByRuleCommand({ Rule: rule, NextToken: token }),
          this.http,
        );
        all.push(...(page.Targets ?? []));
        token = page.NextToken;
      } while (token);
      return all;
    });
    if (targets.some((t) => t.Arn === queue.arn)) {
      this.record(
        'EventBridge target',
        label,
        'unchanged',
        `EventBridge rule ${this.where(rule)} already targets SQS queue ${queue.name}`,
      );
      return;
    }
    const target: Target = {
      Id: boundedName(queue.name),
      Arn: queue.arn,
      // One group keeps EventBridge's order; FIFO targets must name one.
      ...(queue.fifo ? { SqsParameters: { MessageGroupId: rule } } : {}),
    };
    const out = await this.call('EventBridge target', label, 'events:PutTargets', () =>
      events.send(new PutTargetsCommand({ Rule: rule, Targets: [target] }), this.http),
    );
    const failure = out.FailedEntries?.[0];
    if ((out.FailedEntryCount ?? 0) > 0 || failure) {
      return this.fail(
        'EventBridge target',
        label,
        'events:PutTargets',
        Object.assign(new Error(failure?.ErrorMessage ?? 'target refused'), {
          name: failure?.ErrorCode ?? 'FailedEntry',
        }),
      );
    }
    this.record(
      'EventBridge target',
      label,
      'created',
      `EventBridge rule ${this.where(rule)} now targets SQS queue ${queue.name}`,
    );
  }

  // ---- S3 ---------------------------------------------------------------------------------------

  /** Buckets are the user's and not in the configuration: say exactly what they still have to set. */
  private instructS3(queue: QueueInfo, content: string): void {
    const where = `in ${this.region}`;
    const notification = queue.fifo
      ? { EventBridgeConfiguration: {} }
      : {
          QueueConfigurations: [
            { Id: `devo-aws-collector-${queue.name}`, QueueArn: queue.arn, Events: ['s3:ObjectCreated:*'] },
          ],
        };
    const message = queue.fifo
      ? `S3 cannot notify a FIFO queue directly. On each bucket holding ${content} ${where}, turn on EventBridge notifications ` +
        `(aws s3api put-bucket-notification-configuration --bucket <bucket> --notification-configuration '${JSON.stringify(notification)}', ` +
        `merged with the bucket's existing configuration), then create an EventBridge rule ${where} with pattern ` +
        `{"source":["aws.s3"],"detail-type":["Object Created"],"detail":{"bucket":{"name":["<bucket>"]}}} ` +
        `and target ${queue.arn} with SqsParameters {"MessageGroupId":"<bucket>"}`
      : `on each bucket holding ${content} ${where}, add this notification (aws s3api put-bucket-notification-configuration --bucket <bucket> ` +
        `--notification-configuration '${JSON.stringify(notification)}'; ` +
        `the call replaces the bucket's whole configuration, so merge it with what get-bucket-notification-configuration shows)`;
    this.record(
      'S3 notification',
      queue.name,
      'manual',
      `still to do by you for ${this.plan.service}: ${message}`,
      { notification },
    );
  }

  // ---- helpers ----------------------------------------------------------------------------------

  private get http(): { abortSignal?: AbortSignal } {
    return this.options.signal ? { abortSignal: this.options.signal } : {};
  }

  private where(name: string): string {
    return `${name} (${this.region})`;
  }

  private async call<T>(
    resource: SetupResource,
    name: string,
    action: string,
    fn: () => Promise<T>,
  ): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      // Shutting down: not a setup problem worth reporting.
      if (this.options.signal?.aborted) throw new StepFailed('aborted');
      return this.fail(resource, name, action, err);
    }
  }

  private fail(resource: SetupResource, name: string, action: string, err: unknown): never {
    const { service } = this.plan;
    const cause = describeError(err).replace(/\.+$/, '');
    const denied = isPermissionError(err);
    const why = denied
      ? `the credentials lack the IAM permission ${action} (${cause})`
      : `${action.split(':')[1]} failed (${cause})`;
    const remedy = denied
      ? `grant ${action} (\`iam-policy --config <file>\` prints every permission needed) or create it by hand`
      : 'auto_setup tries again at the next start, or create it by hand';
    const message =
      `auto_setup: could not set up ${resource} ${this.where(name)} for ${service}: ${why}. ` +
      `Other services are not affected; the ${service} worker for ${this.region} starts anyway and keeps retrying, ` +
      `and its events arrive once this exists: ${remedy}`;
    this.push({ service, region: this.region, resource, name, status: 'failed', message, action });
    this.options.logger.error(
      {
        event: 'auto_setup_step',
        status: 'failed',
        service,
        region: this.region,
        resource,
        name,
        action,
        denied,
        err,
      },
      message,
    );
    throw new StepFailed(message);
  }

  private record(
    resource: SetupResource,
    name: string,
    status: Exclude<SetupStatus, 'failed'>,
    message: string,
    /** What a kept or manual step found and would have made, for a reader of the log record. */
    details: Record<string, unknown> = {},
  ): void {
    const { service } = this.plan;
    this.push({ service, region: this.region, resource, name, status, message });
    const fields = {
      event: 'auto_setup_step',
      service,
      region: this.region,
      resource,
      name,
      status,
      ...details,
    };
    const text = `auto_setup: ${message}`;
    if (status === 'unchanged') this.options.logger.debug(fields, text);
    else if (status === 'kept' || status === 'manual') this.options.logger.warn(fields, text);
    else this.options.logger.info(fields, text);
  }

  private push(step: SetupStep): void {
    this.report.steps.push(step);
  }
}

function fifoAttributes(fifo: boolean): Partial<Record<QueueAttributeName, string>> {
  return fifo ? { FifoQueue: 'true', ContentBasedDeduplication: 'true' } : {};
}

// ---- policies -------------------------------------------------------------------------------------

interface PolicyStatement {
  Sid: string;
  Effect: 'Allow';
  Principal: { Service: string };
  Action: string;
  Resource: string;
  Condition: Record<string, Record<string, string>>;
}

interface PolicyDocument {
  Version?: string;
  Id?: string;
  Statement: (Partial<PolicyStatement> & Record<string, unknown>)[];
}

function parsePolicy(text: string): PolicyDocument {
  const policy = safeJson(text);
  if (typeof policy !== 'object' || policy === null)
    throw new Error('its current Policy attribute is not a JSON policy document; left as it is');
  const statement = (policy as { Statement?: unknown }).Statement;
  // A policy may hold one statement as an object; keep that meaning as a one-element list.
  const list = statement === undefined ? [] : Array.isArray(statement) ? statement : [statement];
  return { ...policy, Statement: list as PolicyDocument['Statement'] };
}

function eventBridgeStatement(sid: string, queueArn: string, ruleArn: string): PolicyStatement {
  return {
    Sid: sid,
    Effect: 'Allow',
    Principal: { Service: 'events.amazonaws.com' },
    Action: 'sqs:SendMessage',
    Resource: queueArn,
    Condition: { ArnEquals: { 'aws:SourceArn': ruleArn } },
  };
}

/**
 * S3 notifications (standard queues) or EventBridge rules forwarding S3 events (FIFO queues),
 * from the queue's own account: the buckets are not in the configuration.
 */
function s3Statement(queue: QueueInfo): PolicyStatement {
  const [, , , region = '', account = ''] = queue.arn.split(':');
  return {
    Sid: queue.fifo ? 'DevoCollectorS3EventBridge' : 'DevoCollectorS3Notifications',
    Effect: 'Allow',
    Principal: { Service: queue.fifo ? 'events.amazonaws.com' : 's3.amazonaws.com' },
    Action: 'sqs:SendMessage',
    Resource: queue.arn,
    Condition: queue.fifo
      ? { ArnLike: { 'aws:SourceArn': `arn:${partitionOf(region)}:events:${region}:${account}:rule/*` } }
      : { StringEquals: { 'aws:SourceAccount': account } },
  };
}

function principalOf(statement: PolicyStatement): string {
  const source =
    statement.Condition.ArnEquals?.['aws:SourceArn'] ?? statement.Condition.ArnLike?.['aws:SourceArn'];
  return `${statement.Principal.Service}${source ? ` (from ${source})` : ` (account ${statement.Condition.StringEquals?.['aws:SourceAccount']})`}`;
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** Permission errors as the services name them (SQS query-compatible, EventBridge, STS). */
const PERMISSION_ERRORS = new Set([
  'AccessDenied',
  'AccessDeniedException',
  'UnauthorizedOperation',
  'AuthorizationError',
]);

function isPermissionError(err: unknown): boolean {
  const e = err as { name?: unknown; Code?: unknown };
  return PERMISSION_ERRORS.has(String(e.name)) || PERMISSION_ERRORS.has(String(e.Code));
}
