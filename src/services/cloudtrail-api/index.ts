import type { AuditEventsConfig } from '../../config/schema.js';
import type { ServiceWorker, WorkerContext } from '../service.js';
import { CloudTrailApiWorker, type CloudTrailApiOptions } from './worker.js';

export { CloudTrailApiWorker, type CloudTrailApiOptions } from './worker.js';
export type { TimeCheckpoint } from '../shared/time-cursor.js';

/**
 * The `audits_api` way of `audit-events-all`: CloudTrail LookupEvents for one region. The
 * audit-events definition combines it with the S3 way.
 */
export function createCloudTrailApiWorker(
  config: AuditEventsConfig,
  ctx: WorkerContext,
  options: CloudTrailApiOptions = {},
): ServiceWorker {
  return new CloudTrailApiWorker(config, ctx, options);
}
