import type { TaggerOptions } from '../tagging/tagger.js';
import { workerTagger } from '../tagging/worker-tagger.js';
import { ruleFeed, type EventPattern } from '../../../aws/auto-setup-plan.js';
import type { ServiceQueue, ServiceWorker, WorkerContext } from '../../definition.js';
import type { MessageHandler } from '../sqs/consumer.js';
import { SqsWorker } from '../sqs/worker.js';
import type { ConvertedMessage, EventTags } from './convert.js';

/** Settings not in the configuration, for tests and benchmarks. */
export interface SqsEventsTuning {
  /** SQS long-poll wait (default 20 s). */
  waitTimeSeconds?: number;
  maxMessagesInFlight?: number;
}

export interface SqsEventsWorkerOptions {
  queueName: string;
  receivers: number;
  visibilityTimeoutSeconds: number;
  tagging: Omit<TaggerOptions, 'region' | 'accountId' | 'tagConfigKey'>;
  convert: (body: string, tags: EventTags) => ConvertedMessage;
  /** What a body should be, for the log line when it is not. */
  expected: string;
  tuning: SqsEventsTuning;
}

/**
 * One queue of EventBridge events in one region: the shared SQS worker, one message → its
 * events, every message deleted once its events were delivered. A body that is not what the
 * service expects is delivered as-is (one line) and counted in collector_malformed_total.
 */
export function sqsEventsWorker(ctx: WorkerContext, options: SqsEventsWorkerOptions): ServiceWorker {
  const consumerOptions = {
    queueName: options.queueName,
    receivers: options.receivers,
    visibilityTimeoutSeconds: options.visibilityTimeoutSeconds,
    ...options.tuning,
  };
  return new SqsWorker(`${ctx.serviceName}/${ctx.region}`, ctx, consumerOptions, async () => {
    const tagger = await workerTagger(ctx, options.tagging);
    const tags: EventTags = {
      tagger,
      fallback: options.tagging.tag === undefined ? options.tagging.defaultTag : tagger.tagFor({}),
    };
    const labels = { service: ctx.serviceName, region: ctx.region };
    const handler: MessageHandler = async (message, sink) => {
      const { events, malformed } = options.convert(message.body, tags);
      if (malformed) {
        ctx.metrics.malformed.inc({ ...labels, kind: malformed });
        ctx.logger.warn(
          {
            event: 'sqs_body_malformed',
            messageId: message.messageId,
            queue: message.queueName,
            kind: malformed,
          },
          `message ${message.messageId} of SQS queue ${message.queueName} (${message.region}) is not ${options.expected} (${malformed}); delivered as-is to ${tags.fallback}`,
        );
      }
      await sink.emit(events);
      return 'delete';
    };
    return { handler };
  });
}

/** The fields of a queue fed by an EventBridge rule (service-events-all, sqs-cloudwatch-consumer). */
export interface RuleQueueConfig {
  readonly cloudwatch_sqs_queue_name: string;
  readonly concurrent_receivers: number;
  readonly visibility_timeout_seconds: number;
  readonly max_receive_count: number;
}

/** The rule auto-setup creates to feed such a queue. */
export interface QueueRule {
  name(inputId: string): string;
  readonly pattern: EventPattern;
  readonly description: string;
}

/** The queue of such a service, fed by `rule` (ServiceDefinition.queues). */
export function ruleQueue(config: RuleQueueConfig, inputId: string, rule: QueueRule): ServiceQueue[] {
  return [
    {
      queueName: config.cloudwatch_sqs_queue_name,
      maxReceiveCount: config.max_receive_count,
      feed: ruleFeed(rule.name(inputId), rule.pattern, rule.description),
    },
  ];
}

/** The worker of such a service: its queue read with `convert` (see sqsEventsWorker). */
export function ruleQueueWorker(
  config: RuleQueueConfig,
  ctx: WorkerContext,
  options: Pick<SqsEventsWorkerOptions, 'tagging' | 'convert' | 'expected' | 'tuning'>,
): ServiceWorker {
  return sqsEventsWorker(ctx, {
    queueName: config.cloudwatch_sqs_queue_name,
    receivers: config.concurrent_receivers,
    visibilityTimeoutSeconds: config.visibility_timeout_seconds,
    ...options,
  });
}
