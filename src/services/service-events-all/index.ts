import { boundedName, type EventPattern } from '../../aws/auto-setup-plan.js';
import type { ServiceDefinition, ServiceWorker, WorkerContext } from '../definition.js';
import { ruleQueue, ruleQueueWorker, type SqsEventsTuning } from '../shared/sqs-events/worker.js';
import { eventBridgeEvent, serviceEventsTagRule, TAG_CLOUDWATCH_EVENTS } from './events.js';
import { serviceEventsSchema, type ServiceEventsConfig } from './schema.js';

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

export const serviceEventsRuleName = (inputId: string): string =>
  boundedName(`devo-service-events-${inputId}`);

/** `service-events-all`: every EventBridge event of the queue, one Devo event each. */
export function createServiceEventsWorker(
  config: ServiceEventsConfig,
  ctx: WorkerContext,
  tuning: SqsEventsTuning = {},
): ServiceWorker {
  return ruleQueueWorker(config, ctx, {
    tagging: {
      rule: serviceEventsTagRule,
      defaultTag: TAG_CLOUDWATCH_EVENTS,
      tag: config.tag,
      autoEventType: config.auto_event_type,
    },
    convert: eventBridgeEvent,
    expected: 'an EventBridge event',
    tuning,
  });
}

export const definition: ServiceDefinition<typeof serviceEventsSchema> = {
  schema: serviceEventsSchema,
  queues: (config, inputId) =>
    ruleQueue(config, inputId, {
      name: serviceEventsRuleName,
      pattern: SERVICE_EVENTS_PATTERN,
      description: 'devo-aws-collector: every AWS service event except Security Hub, to SQS',
    }),
  createWorkers: (config, ctx) => [createServiceEventsWorker(config, ctx)],
};
