import { z } from 'zod';
import { autoEventTypeField, commonServiceFields, sqsFields, tagField } from '../shared/config-fields.js';

export const serviceEventsSchema = z
  .strictObject({
    ...commonServiceFields,
    tag: tagField,
    cloudwatch_sqs_queue_name: z
      .string()
      .min(1)
      .describe('SQS queue fed by the EventBridge rule. `<account_id>` is replaced by the real account id.'),
    auto_event_type: autoEventTypeField.describe(
      'Tag each event cloud.aws.cloudwatch.<event type>, the event type taken from its `source` (aws.guardduty → guardduty).',
    ),
    ...sqsFields,
  })
  .describe('All service events (EventBridge/CloudWatch Events → SQS), except Security Hub.');

export type ServiceEventsConfig = z.output<typeof serviceEventsSchema>;
