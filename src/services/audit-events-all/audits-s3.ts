import type { AuditEventsConfig } from './schema.js';
import { CollectorError, ErrorCodes } from '../../core/errors.js';
import type { ServiceWorker, WorkerContext } from '../definition.js';
import { auditEventsTagRule, TAG_AUDIT_EVENTS } from './tags.js';
import { cloudTrailFormat } from '../shared/s3-objects/cloudtrail-format.js';
import { workerTagger } from '../shared/tagging/worker-tagger.js';
import { queueOptions, s3ObjectsWorker, type S3ObjectsTuning } from '../shared/s3-objects/worker.js';

/**
 * `audit-events-all` with `types: [audits_s3]`: CloudTrail log files announced on
 * `audit_sqs_queue_name`; one event per record, keys filtered by `s3_file_type_filter`, records
 * dropped by `drop_event_names`, tagged per the audit events' tag rule (tags.ts) (default cloud.aws.cloudwatch.events,
 * auto_event_type → cloud.aws.cloudtrail.<service>, placeholders, use_region_and_account_id_from_event).
 */
export function createAuditS3Worker(
  config: AuditEventsConfig,
  ctx: WorkerContext,
  tuning: S3ObjectsTuning = {},
): ServiceWorker {
  const queueName = config.audit_sqs_queue_name;
  if (!queueName) {
    // The schema requires it with audits_s3; this guards callers that skip validation.
    throw new CollectorError(
      ErrorCodes.CONFIG_INVALID,
      `inputs.aws.services.${ctx.serviceName}.audit_sqs_queue_name is required for audits_s3`,
      { details: { configKey: `inputs.aws.services.${ctx.serviceName}.audit_sqs_queue_name` } },
    );
  }
  return s3ObjectsWorker(ctx, {
    ...tuning,
    name: `${ctx.serviceName}:audits_s3/${ctx.region}`,
    queueName,
    ...queueOptions(config),
    format: async () =>
      cloudTrailFormat({
        tagger: await workerTagger(ctx, {
          rule: auditEventsTagRule,
          defaultTag: TAG_AUDIT_EVENTS,
          tag: config.tag,
          autoEventType: config.auto_event_type,
          regionAndAccountFromEvent: config.use_region_and_account_id_from_event,
        }),
        keyFilter: config.s3_file_type_filter,
        dropEventNames: config.drop_event_names,
      }),
  });
}
