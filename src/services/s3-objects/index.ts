import { predefinedServiceSchemas, type NonCloudwatchLogsConfig } from '../../config/schema.js';
import { TAG_CLOUDFRONT, TAG_VPC_FLOWLOGS } from '../../tagging/tags.js';
import type { ServiceDefinition, ServiceWorker, WorkerContext } from '../service.js';
import { cloudFrontFormat, vpcFlowLogsFormat } from './formats.js';
import { workerTagger } from './tagger.js';
import { S3ObjectsWorker, type S3ObjectsTuning } from './worker.js';

export { createAuditS3Worker } from './cloudtrail.js';

/** Default queue names of non-cloudwatch-logs (reference document); `<id>` is inputs.aws.id. */
export const vpcFlowLogsQueueName = (inputId: string): string => `devo-ncwl-vpcfl-${inputId}`;
export const cloudFrontQueueName = (inputId: string): string => `devo-ncwl-cfl-${inputId}`;

/**
 * `non-cloudwatch-logs`: VPC Flow Logs and CloudFront logs written to S3 and announced on SQS —
 * two workers per region, one per queue (`vpcflowlogs_sqs_queue_name`, default
 * devo-ncwl-vpcfl-<id>; `cloudfront_sqs_queue_name` or `cloudfrontlogs_sqs_queue_name`, default
 * devo-ncwl-cfl-<id>). Tags: cloud.aws.vpc.flowlogs and cloud.aws.cloudfront, or the user's tag.
 */
export function createNonCloudwatchLogsWorkers(
  config: NonCloudwatchLogsConfig,
  ctx: WorkerContext,
  tuning: S3ObjectsTuning = {},
): ServiceWorker[] {
  const kinds = [
    {
      kind: 'vpcflowlogs',
      queueName: config.vpcflowlogs_sqs_queue_name ?? vpcFlowLogsQueueName(ctx.inputId),
      defaultTag: TAG_VPC_FLOWLOGS,
      format: vpcFlowLogsFormat,
    },
    {
      kind: 'cloudfront',
      queueName:
        config.cloudfront_sqs_queue_name ??
        config.cloudfrontlogs_sqs_queue_name ??
        cloudFrontQueueName(ctx.inputId),
      defaultTag: TAG_CLOUDFRONT,
      format: cloudFrontFormat,
    },
  ];
  return kinds.map(
    ({ kind, queueName, defaultTag, format }) =>
      new S3ObjectsWorker(ctx, {
        ...tuning,
        name: `${ctx.serviceName}:${kind}/${ctx.region}`,
        queueName,
        receivers: config.concurrent_receivers,
        visibilityTimeoutSeconds: config.visibility_timeout_seconds,
        maxObjectsInFlight: config.max_objects_in_flight,
        maxBytesInFlight: config.max_bytes_in_flight,
        format: async () => {
          const tagger = await workerTagger(ctx, {
            rule: 'fixed',
            eventType: kind,
            defaultTag,
            tag: config.tag,
          });
          return format(tagger.tagFor({}));
        },
      }),
  );
}

export const definition: ServiceDefinition<(typeof predefinedServiceSchemas)['non-cloudwatch-logs']> = {
  schema: predefinedServiceSchemas['non-cloudwatch-logs'],
  createWorkers: (config, ctx) => createNonCloudwatchLogsWorkers(config, ctx),
};
