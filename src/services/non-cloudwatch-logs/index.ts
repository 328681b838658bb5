import type { ServiceDefinition, ServiceWorker, WorkerContext } from '../definition.js';
import { cloudFrontFormat, vpcFlowLogsFormat } from '../shared/s3-objects/log-formats.js';
import { nonCloudwatchLogsSchema, type NonCloudwatchLogsConfig } from './schema.js';
import { workerTagger } from '../shared/tagging/worker-tagger.js';
import { queueOptions, s3ObjectsWorker, type S3ObjectsTuning } from '../shared/s3-objects/worker.js';

/** Default tags (Devo tables). */
export const TAG_VPC_FLOWLOGS = 'cloud.aws.vpc.flowlogs';
export const TAG_CLOUDFRONT = 'cloud.aws.cloudfront';

/**
 * The two queues of non-cloudwatch-logs: the configured names, else the reference document's
 * defaults devo-ncwl-vpcfl-<id> and devo-ncwl-cfl-<id> (`<id>` is inputs.aws.id).
 */
export function nonCloudwatchLogsQueues(
  config: Pick<
    NonCloudwatchLogsConfig,
    'vpcflowlogs_sqs_queue_name' | 'cloudfront_sqs_queue_name' | 'cloudfrontlogs_sqs_queue_name'
  >,
  inputId: string,
): { vpcflowlogs: string; cloudfront: string } {
  return {
    vpcflowlogs: config.vpcflowlogs_sqs_queue_name ?? `devo-ncwl-vpcfl-${inputId}`,
    cloudfront:
      config.cloudfront_sqs_queue_name ?? config.cloudfrontlogs_sqs_queue_name ?? `devo-ncwl-cfl-${inputId}`,
  };
}

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
  const queues = nonCloudwatchLogsQueues(config, ctx.inputId);
  const kinds = [
    {
      kind: 'vpcflowlogs',
      queueName: queues.vpcflowlogs,
      defaultTag: TAG_VPC_FLOWLOGS,
      format: vpcFlowLogsFormat,
    },
    {
      kind: 'cloudfront',
      queueName: queues.cloudfront,
      defaultTag: TAG_CLOUDFRONT,
      format: cloudFrontFormat,
    },
  ];
  return kinds.map(({ kind, queueName, defaultTag, format }) =>
    s3ObjectsWorker(ctx, {
      ...tuning,
      name: `${ctx.serviceName}:${kind}/${ctx.region}`,
      queueName,
      ...queueOptions(config),
      format: async () => {
        const tagger = await workerTagger(ctx, {
          rule: { fixed: kind },
          defaultTag,
          tag: config.tag,
        });
        return format(tagger.tagFor({}), config.max_parquet_row_group_bytes);
      },
    }),
  );
}

export const definition: ServiceDefinition<typeof nonCloudwatchLogsSchema> = {
  schema: nonCloudwatchLogsSchema,
  queues: (config, inputId) => {
    const queues = nonCloudwatchLogsQueues(config, inputId);
    const maxReceiveCount = config.max_receive_count;
    return [
      {
        queueName: queues.vpcflowlogs,
        maxReceiveCount,
        feed: { kind: 's3', content: 'VPC Flow Logs files' },
      },
      {
        queueName: queues.cloudfront,
        maxReceiveCount,
        feed: { kind: 's3', content: 'CloudFront log files' },
      },
    ];
  },
  createWorkers: (config, ctx) => createNonCloudwatchLogsWorkers(config, ctx),
};
