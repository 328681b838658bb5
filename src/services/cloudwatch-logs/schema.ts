import { z } from 'zod';
import { commonServiceFields, regexField, startTimeField, tagField } from '../shared/config-fields.js';

/** The keys choosing the log groups of an entry: exactly one is given. */
export const GROUP_KEYS = [
  'log_group',
  'log_group_prefix',
  'log_group_pattern',
  'log_group_identifier',
] as const;

/** FilterLogEvents takes at most this many stream names (API reference). */
const MAX_STREAM_NAMES = 100;
/** Log group and stream names are at most 512 characters (API reference). */
const NAME = z.string().min(1).max(512);
/** A log group ARN as `logGroupIdentifier` takes it: the `logGroupArn` form, without a trailing `:*`. */
const LOG_GROUP_ARN = /^arn:aws[\w-]*:logs:([a-z0-9-]+):(\d{12}):log-group:([.\-_/#A-Za-z0-9]{1,512})$/;

/** The region, account and name of a `log_group_identifier`. */
export function parseLogGroupArn(arn: string): { region: string; account: string; name: string } | undefined {
  const m = LOG_GROUP_ARN.exec(arn);
  return m ? { region: m[1]!, account: m[2]!, name: m[3]! } : undefined;
}

export const logsSchema = z
  .strictObject({
    ...commonServiceFields,
    tag: tagField,
    types: z
      .array(z.literal('logs'))
      .min(1)
      .describe('Must be [logs]: marks this entry as a CloudWatch Logs entry to collect.'),
    log_group: NAME.optional().describe(
      'Name of one log group. Exactly one of log_group, log_group_prefix, log_group_pattern, log_group_identifier.',
    ),
    log_group_prefix: NAME.optional().describe(
      "Every log group whose name starts with this (e.g. /aws/lambda/), found with DescribeLogGroups and looked for again every 5 minutes: a new group is read from its creation, a deleted one dropped. Each group keeps its own checkpoint; all share FilterLogEvents' 5 requests/s of the account and region, in turns of one page.",
    ),
    log_group_pattern: regexField(
      'Regular expression on the log group name (at most 1024 characters): every matching group of the account and region, found and refreshed as with log_group_prefix (DescribeLogGroups lists every group, so prefer log_group_prefix when a prefix says it).',
    ).optional(),
    log_group_identifier: z
      .string()
      .regex(
        LOG_GROUP_ARN,
        'must be a log group ARN without the trailing :* (arn:aws:logs:REGION:ACCOUNT:log-group:NAME)',
      )
      .optional()
      .describe(
        "ARN of one log group, possibly of another account shared through CloudWatch cross-account observability (this account being the monitoring account); read with FilterLogEvents' logGroupIdentifier. regions must be the ARN's region. Events carry the ARN as logGroup.",
      ),
    log_stream_prefix: NAME.optional().describe(
      "Only the streams whose name starts with this (FilterLogEvents' logStreamNamePrefix). Not with log_stream_names.",
    ),
    log_stream_names: z
      .array(NAME)
      .min(1)
      .max(MAX_STREAM_NAMES)
      .optional()
      .describe(
        "Only these streams, at most 100 (FilterLogEvents' logStreamNames). Not with log_stream_prefix.",
      ),
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
  .superRefine((c, ctx) => {
    const given = GROUP_KEYS.filter((k) => c[k] !== undefined);
    if (given.length !== 1) {
      ctx.addIssue({
        code: 'custom',
        path: [given[1] ?? 'log_group'],
        message:
          given.length === 0
            ? `required: one of ${GROUP_KEYS.join(', ')}`
            : `${given.join(' and ')} exclude each other: give exactly one of ${GROUP_KEYS.join(', ')}`,
      });
    }
    if (c.log_stream_prefix !== undefined && c.log_stream_names !== undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['log_stream_names'],
        message: 'log_stream_prefix and log_stream_names exclude each other: give one',
      });
    }
    const arn = c.log_group_identifier === undefined ? undefined : parseLogGroupArn(c.log_group_identifier);
    if (arn && c.regions.some((r) => r !== arn.region)) {
      ctx.addIssue({
        code: 'custom',
        path: ['regions'],
        message: `log_group_identifier is a group of ${arn.region}: regions must be [${arn.region}]`,
      });
    }
  })
  .describe(
    'CloudWatch Logs (FilterLogEvents): one log group, or every group matching a prefix or a pattern, or a group shared from a linked account. Any service name other than the predefined ones.',
  );

export type LogsConfig = z.output<typeof logsSchema>;
