import { z } from 'zod';
import {
  commonServiceFields,
  noAutoEventTypeField,
  parquetFields,
  s3ObjectFields,
  sqsFields,
  tagField,
} from '../shared/config-fields.js';

export const nonCloudwatchLogsSchema = z
  .strictObject({
    ...commonServiceFields,
    tag: tagField,
    vpcflowlogs_sqs_queue_name: z
      .string()
      .min(1)
      .optional()
      .describe(
        'SQS queue announcing VPC Flow Logs files. Default devo-ncwl-vpcfl-<id>, <id> being inputs.aws.id.',
      ),
    cloudfront_sqs_queue_name: z
      .string()
      .min(1)
      .optional()
      .describe('SQS queue announcing CloudFront log files. Default devo-ncwl-cfl-<id>.'),
    cloudfrontlogs_sqs_queue_name: z
      .string()
      .min(1)
      .optional()
      .describe('Same as cloudfront_sqs_queue_name (the name the reference document also uses).'),
    auto_event_type: noAutoEventTypeField(
      'VPC Flow Logs go to cloud.aws.vpc.flowlogs and CloudFront logs to cloud.aws.cloudfront',
    ),
    ...sqsFields,
    ...s3ObjectFields,
    ...parquetFields,
  })
  .superRefine((s, ctx) => {
    if (
      s.cloudfront_sqs_queue_name &&
      s.cloudfrontlogs_sqs_queue_name &&
      s.cloudfront_sqs_queue_name !== s.cloudfrontlogs_sqs_queue_name
    ) {
      ctx.addIssue({
        code: 'custom',
        path: ['cloudfrontlogs_sqs_queue_name'],
        message: 'differs from cloudfront_sqs_queue_name; set only one',
      });
    }
  })
  .describe('VPC Flow Logs and CloudFront logs written to S3 and announced on SQS.');

export type NonCloudwatchLogsConfig = z.output<typeof nonCloudwatchLogsSchema>;
