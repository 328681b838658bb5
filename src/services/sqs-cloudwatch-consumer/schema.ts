import { z } from 'zod';
import { commonServiceFields, noAutoEventTypeField, sqsFields, tagField } from '../shared/config-fields.js';

export const securityHubSchema = z
  .strictObject({
    ...commonServiceFields,
    tag: tagField,
    cloudwatch_sqs_queue_name: z
      .string()
      .min(1)
      .describe('SQS queue fed by the Security Hub EventBridge rule (required).'),
    auto_event_type: noAutoEventTypeField(
      'every finding goes to cloud.aws.securityhub.findings (use tag with {region}/{account_id} to split)',
    ),
    ...sqsFields,
  })
  .describe('Security Hub findings (EventBridge → SQS); one Devo event per finding.');

export type SecurityHubConfig = z.output<typeof securityHubSchema>;
