import {
  predefinedServiceSchemas,
  type SecurityHubConfig,
  type ServiceEventsConfig,
} from '../../config/schema.js';
import { TAG_CLOUDWATCH_EVENTS, TAG_SECURITYHUB_FINDINGS, type TaggerOptions } from '../../tagging/tags.js';
import { workerTagger } from '../s3-objects/tagger.js';
import type { WorkerPosition } from '../../telemetry/health.js';
import type { ServiceDefinition, ServiceWorker, WorkerContext } from '../service.js';
import { SqsConsumer, type MessageHandler } from '../sqs/consumer.js';
import { eventBridgeEvent, securityHubFindings, type ConvertedMessage, type EventTags } from './events.js';

export {
  eventBridgeEvent,
  securityHubFindings,
  type ConvertedMessage,
  type EventTags,
  type MalformedKind,
} from './events.js';

/** Settings not in the configuration, for tests and benchmarks. */
export interface SqsEventsTuning {
  /** SQS long-poll wait (default 20 s). */
  waitTimeSeconds?: number;
  maxMessagesInFlight?: number;
}

interface SqsEventsWorkerOptions {
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
 * One queue of EventBridge events in one region: the shared SQS consumer, one message → its
 * events, every message deleted once its events were delivered. A body that is not what the
 * service expects is delivered as-is (one line) and counted in collector_malformed_total.
 */
class SqsEventsWorker implements ServiceWorker {
  readonly name: string;
  private consumer: SqsConsumer | undefined;
  private stopped = false;

  constructor(
    private readonly ctx: WorkerContext,
    private readonly options: SqsEventsWorkerOptions,
  ) {
    this.name = `${ctx.serviceName}/${ctx.region}`;
  }

  async pull(): Promise<void> {
    if (this.stopped) return;
    // Built at the first pull: a tag with {account_id} needs STS, and a failure there is retried.
    this.consumer ??= await this.createConsumer();
    if (this.stopped) return;
    await this.consumer.pull();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.consumer?.stop();
  }

  position(): WorkerPosition {
    return this.consumer?.position() ?? {};
  }

  private async createConsumer(): Promise<SqsConsumer> {
    const { ctx, options } = this;
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
          { messageId: message.messageId, queue: message.queueName, kind: malformed },
          `message ${message.messageId} of SQS queue ${message.queueName} (${message.region}) is not ${options.expected} (${malformed}); delivered as-is to ${tags.fallback}`,
        );
      }
      await sink.emit(events);
      return 'delete';
    };
    return new SqsConsumer(
      ctx,
      {
        queueName: options.queueName,
        receivers: options.receivers,
        visibilityTimeoutSeconds: options.visibilityTimeoutSeconds,
        ...options.tuning,
      },
      handler,
    );
  }
}

/** `service-events-all`: every EventBridge event of the queue, one Devo event each. */
export function createServiceEventsWorker(
  config: ServiceEventsConfig,
  ctx: WorkerContext,
  tuning: SqsEventsTuning = {},
): ServiceWorker {
  return new SqsEventsWorker(ctx, {
    queueName: config.cloudwatch_sqs_queue_name,
    receivers: config.concurrent_receivers,
    visibilityTimeoutSeconds: config.visibility_timeout_seconds,
    tagging: {
      rule: 'service-events',
      defaultTag: TAG_CLOUDWATCH_EVENTS,
      tag: config.tag,
      autoEventType: config.auto_event_type,
    },
    convert: eventBridgeEvent,
    expected: 'an EventBridge event',
    tuning,
  });
}

/**
 * `sqs-cloudwatch-consumer`: Security Hub findings, one Devo event per finding. Every finding
 * goes to one table, so auto_event_type does not change the tag; {event_type} is `securityhub`.
 */
export function createSecurityHubWorker(
  config: SecurityHubConfig,
  ctx: WorkerContext,
  tuning: SqsEventsTuning = {},
): ServiceWorker {
  return new SqsEventsWorker(ctx, {
    queueName: config.cloudwatch_sqs_queue_name,
    receivers: config.concurrent_receivers,
    visibilityTimeoutSeconds: config.visibility_timeout_seconds,
    tagging: {
      rule: 'fixed',
      eventType: 'securityhub',
      defaultTag: TAG_SECURITYHUB_FINDINGS,
      tag: config.tag,
    },
    convert: securityHubFindings,
    expected: 'a Security Hub event with findings',
    tuning,
  });
}

export const serviceEventsDefinition: ServiceDefinition<
  (typeof predefinedServiceSchemas)['service-events-all']
> = {
  schema: predefinedServiceSchemas['service-events-all'],
  createWorkers: (config, ctx) => [createServiceEventsWorker(config, ctx)],
};

export const securityHubDefinition: ServiceDefinition<
  (typeof predefinedServiceSchemas)['sqs-cloudwatch-consumer']
> = {
  schema: predefinedServiceSchemas['sqs-cloudwatch-consumer'],
  createWorkers: (config, ctx) => [createSecurityHubWorker(config, ctx)],
};
