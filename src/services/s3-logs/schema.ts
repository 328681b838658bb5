import { z } from 'zod';
import {
  commonServiceFields,
  parquetFields,
  regexField,
  s3ObjectFields,
  sqsFields,
  tagField,
} from '../shared/config-fields.js';
import { FORMAT_NAMES } from './kinds.js';

const formatField = z
  .enum(FORMAT_NAMES)
  .describe(
    'How objects are read: auto (recognise AWS log layouts by key, else by content), lines, ndjson, json, or an AWS log format: cloudtrail, vpcflowlogs, cloudfront, elb, s3_access, waf, route53_resolver, network_firewall, guardduty, aws_config.',
  );

const expandField = z
  .string()
  .min(1)
  .optional()
  .describe(
    'json: the top-level array field whose elements are the events (as Elastic’s expand_event_list_from_field); without it an array document gives one event per element, an object one event.',
  );

export const s3LogsSchema = z
  .strictObject({
    ...commonServiceFields,
    tag: tagField.describe(
      'Devo tag for every object (a selector’s tag takes precedence); default: the Devo table of the log kind (see the README). May hold {region}, {account_id}, {event_type}, {service} (the kind, e.g. alb).',
    ),
    types: z
      .array(z.literal('s3'))
      .min(1)
      .describe('Must be [s3]: marks this entry as objects in S3 announced on an SQS queue.'),
    sqs_queue_name: z
      .string()
      .min(1)
      .describe(
        'SQS queue announcing the objects (native S3, SNS or EventBridge notifications); <account_id> is replaced.',
      ),
    format: formatField.default('auto'),
    expand_event_list_from_field: expandField,
    s3_file_type_filter: regexField(
      'Regular expression on the S3 key: only matching objects are read (the others are counted as filtered).',
    ).optional(),
    file_selectors: z
      .array(
        z.strictObject({
          regex: regexField('Regular expression on the S3 key; the first selector that matches applies.'),
          format: formatField
            .optional()
            .describe('Format of the matching objects; default: the service’s format.'),
          tag: tagField.describe('Tag of the matching objects; default: the service’s tag, else the kind’s.'),
          expand_event_list_from_field: expandField,
        }),
      )
      .default([])
      .describe('Per-key choices, first match wins; keys no selector matches use format and tag.'),
    ...sqsFields,
    ...s3ObjectFields,
    ...parquetFields,
  })
  .describe(
    'Any log in S3 announced on SQS: AWS log formats recognised by key or content, or generic lines/NDJSON/JSON. Any service name other than the predefined ones, with types: [s3].',
  );

export type S3LogsConfig = z.output<typeof s3LogsSchema>;
