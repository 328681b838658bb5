import type { ServiceDefinition } from '../definition.js';
import { createCloudTrailApiWorker } from './audits-api.js';
import { createAuditS3Worker } from './audits-s3.js';
import { auditEventsSchema } from './schema.js';

/**
 * `audit-events-all`: one worker per entry of `types` in each region — audits_api (CloudTrail
 * LookupEvents) and/or audits_s3 (trail files in S3 announced on SQS).
 */
export const definition: ServiceDefinition<typeof auditEventsSchema> = {
  schema: auditEventsSchema,
  queues: (config) =>
    config.types.includes('audits_s3') && config.audit_sqs_queue_name
      ? [
          {
            queueName: config.audit_sqs_queue_name,
            maxReceiveCount: config.max_receive_count,
            feed: { kind: 's3', content: 'CloudTrail trail files' },
          },
        ]
      : [],
  // LookupEvents has no resource-level permissions.
  grants: (config) =>
    config.types.includes('audits_api')
      ? [{ sid: 'LookupCloudTrailEvents', actions: ['cloudtrail:LookupEvents'], resources: ['*'] }]
      : [],
  createWorkers: (config, ctx) =>
    config.types.map((type) =>
      type === 'audits_s3' ? createAuditS3Worker(config, ctx) : createCloudTrailApiWorker(config, ctx),
    ),
};
