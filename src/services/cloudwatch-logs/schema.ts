import { z } from 'zod';
import { commonServiceFields, startTimeField, tagField } from '../shared/config-fields.js';

export const logsSchema = z
  .strictObject({
    ...commonServiceFields,
    tag: tagField,
    types: z
      .array(z.literal('logs'))
      .min(1)
      .describe('Must be [logs]: marks this entry as a CloudWatch Logs group to collect.'),
    log_group: z.string().min(1).describe('Name of the log group; every stream of the group is read.'),
    start_time: startTimeField,
    settle_delay_seconds: z
      .number()
      .int()
      .min(0)
      .max(86_400)
      .default(60)
      .describe(
        'How far behind now each FilterLogEvents window ends. Raise it for sources that deliver late (VPC Flow Logs to CloudWatch Logs can lag 10 minutes): an event ingested after its window was read is not read. The first events arrive settle_delay_seconds after the start (1 minute by default), at the next pull.',
      ),
  })
  .describe(
    'One CloudWatch Logs group (FilterLogEvents over all its streams). Any service name other than the predefined ones.',
  );

export type LogsConfig = z.output<typeof logsSchema>;
