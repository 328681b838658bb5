import { z } from 'zod';
import { DEFAULT_CLOUDTRAIL_KEY_FILTER } from '../../formats/cloudtrail.js';
import {
  autoEventTypeField,
  commonServiceFields,
  regexField,
  s3ObjectFields,
  sqsFields,
  startTimeField,
  tagField,
} from '../shared/config-fields.js';

export const AUDIT_TYPES = ['audits_api', 'audits_s3'] as const;

export const auditEventsSchema = z
  .strictObject({
    ...commonServiceFields,
    tag: tagField,
    types: z
      .array(z.enum(AUDIT_TYPES))
      .min(1)
      .optional()
      .describe(
        'Which ways to read audit events: audits_api (CloudTrail LookupEvents) and/or audits_s3 (trail files in S3 announced on SQS). Default: audits_s3 when audit_sqs_queue_name is set, otherwise audits_api.',
      ),
    auto_event_type: autoEventTypeField.describe(
      'Tag each event cloud.aws.cloudtrail.<service>, the service being the first label of eventSource (ec2.amazonaws.com → ec2).',
    ),
    start_time: startTimeField.describe(
      'audits_api only (refused with audits_s3 alone): ISO-8601 date-time to start reading from on the first run, at most 90 days back. Without it, the first run starts at the first pull; that start is saved at once, so restarts neither skip nor move it.',
    ),
    drop_event_names: z
      .array(z.string().min(1))
      .default([])
      .describe('Events whose eventName is in this list are not sent.'),
    audit_sqs_queue_name: z
      .string()
      .min(1)
      .optional()
      .describe('SQS queue announcing new trail files in S3 (required for audits_s3).'),
    s3_file_type_filter: regexField(
      'Regular expression on the S3 key: only matching objects are read. Default: CloudTrail log files, not digest files.',
    ).prefault(DEFAULT_CLOUDTRAIL_KEY_FILTER),
    settle_delay_seconds: z
      .number()
      .int()
      .min(0)
      .max(86_400)
      .default(300)
      .describe(
        'audits_api: how far behind now each LookupEvents window ends. CloudTrail makes events available about 5 minutes (at most about 15) after they happen; an event that becomes available after its window was read is not read. The first events arrive settle_delay_seconds after the start (5 minutes by default), at the next pull.',
      ),
    use_region_and_account_id_from_event: z
      .boolean()
      .default(false)
      .describe(
        'Take {region} and {account_id} from each event (awsRegion, recipientAccountId) instead of the queue region and the credentials account.',
      ),
    ...sqsFields,
    ...s3ObjectFields,
  })
  .transform((service, ctx) => {
    const types =
      service.types ?? (service.audit_sqs_queue_name ? ['audits_s3' as const] : ['audits_api' as const]);
    if (types.includes('audits_s3') && !service.audit_sqs_queue_name) {
      ctx.addIssue({
        code: 'custom',
        path: ['audit_sqs_queue_name'],
        message: 'required when types includes audits_s3',
      });
    }
    if (!types.includes('audits_api') && service.start_time !== undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['start_time'],
        message:
          'only used by audits_api (CloudTrail LookupEvents): audits_s3 reads trail files as they are announced; remove it or add audits_api to types',
      });
    }
    if (!types.includes('audits_s3') && service.audit_sqs_queue_name !== undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['audit_sqs_queue_name'],
        message: 'only used by audits_s3: add audits_s3 to types, or remove it',
      });
    }
    return { ...service, types };
  })
  .describe('All audit events from CloudTrail, through the API and/or trail files in S3.');

export type AuditEventsConfig = z.output<typeof auditEventsSchema>;
