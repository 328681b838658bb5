import { predefinedServiceSchemas } from '../../config/schema.js';
import { createCloudTrailApiWorker } from './audits-api.js';
import { createAuditS3Worker } from './audits-s3.js';
import type { ServiceDefinition } from '../definition.js';

/**
 * `audit-events-all`: one worker per entry of `types` in each region — audits_api (CloudTrail
 * LookupEvents) and/or audits_s3 (trail files in S3 announced on SQS).
 */
export const definition: ServiceDefinition<(typeof predefinedServiceSchemas)['audit-events-all']> = {
  schema: predefinedServiceSchemas['audit-events-all'],
  createWorkers: (config, ctx) =>
    config.types.map((type) =>
      type === 'audits_s3' ? createAuditS3Worker(config, ctx) : createCloudTrailApiWorker(config, ctx),
    ),
};
