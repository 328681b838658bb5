import { boundedName, type EventPattern } from '../../aws/auto-setup-plan.js';
import type { ServiceDefinition, ServiceWorker, WorkerContext } from '../definition.js';
import { ruleQueue, ruleQueueWorker, type SqsEventsTuning } from '../shared/sqs-events/worker.js';
import { securityHubFindings } from './findings.js';
import { securityHubSchema, type SecurityHubConfig } from './schema.js';

/** Default tag (Devo table) of Security Hub findings. */
export const TAG_SECURITYHUB_FINDINGS = 'cloud.aws.securityhub.findings';

export const SECURITY_HUB_PATTERN: EventPattern = {
  source: ['aws.securityhub'],
  'detail-type': ['Security Hub Findings - Imported'],
};

export const securityHubRuleName = (inputId: string): string =>
  boundedName(`devo-securityhub-findings-${inputId}`);

/**
 * `sqs-cloudwatch-consumer`: Security Hub findings, one Devo event per finding. Every finding
 * goes to one table, so auto_event_type does not change the tag; {event_type} is `securityhub`.
 */
export function createSecurityHubWorker(
  config: SecurityHubConfig,
  ctx: WorkerContext,
  tuning: SqsEventsTuning = {},
): ServiceWorker {
  return ruleQueueWorker(config, ctx, {
    tagging: { rule: { fixed: 'securityhub' }, defaultTag: TAG_SECURITYHUB_FINDINGS, tag: config.tag },
    convert: securityHubFindings,
    expected: 'a Security Hub event with findings',
    tuning,
  });
}

export const definition: ServiceDefinition<typeof securityHubSchema> = {
  schema: securityHubSchema,
  queues: (config, inputId) =>
    ruleQueue(config, inputId, {
      name: securityHubRuleName,
      pattern: SECURITY_HUB_PATTERN,
      description: 'devo-aws-collector: Security Hub findings, to SQS',
    }),
  createWorkers: (config, ctx) => [createSecurityHubWorker(config, ctx)],
};
