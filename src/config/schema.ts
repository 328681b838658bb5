import { z } from 'zod';
import { autoEventTypeField, commonServiceFields, isoDateTimeSchema } from './common.js';
import { outputDefinitions } from '../outputs/registry.js';
import { validateTagTemplate } from '../tagging/template.js';
import { DEFAULT_CLOUDTRAIL_KEY_FILTER } from '../formats/cloudtrail.js';

/**
 * The configuration schema: the single source of truth for validation, defaults, the JSON Schema
 * (`print-schema`) and docs/configuration.md (`print-docs`). The shape is Devo's collector
 * configuration (globals / outputs / inputs.aws), so a Devo user's file validates as it is.
 */

const tagField = commonServiceFields.tag.superRefine((tag, ctx) => {
  if (tag === undefined) return;
  const problem = validateTagTemplate(tag);
  if (problem) ctx.addIssue({ code: 'custom', message: problem });
});

const regexField = (description: string) =>
  z
    .string()
    .transform((source, ctx) => {
      try {
        return new RegExp(source);
      } catch (err) {
        ctx.addIssue({
          code: 'custom',
          message: `not a valid regular expression: ${(err as Error).message}`,
        });
        return z.NEVER;
      }
    })
    .describe(description);

const startTimeField = isoDateTimeSchema
  .optional()
  .describe(
    'ISO-8601 date-time to start reading from on the first run. Without it, the first run starts at the first pull; that start is saved at once, so restarts neither skip nor move it.',
  );

/**
 * `auto_event_type` on a service whose events all go to one table: the reference configuration
 * lists it, so `false` is accepted; `true` would do nothing, so it is refused, saying why.
 */
const noAutoEventTypeField = (why: string) =>
  autoEventTypeField
    .refine((v) => !v, { message: `has no effect here: ${why}; remove it or set it to false` })
    .describe(`Accepted as false only (listed by the reference configuration): ${why}.`);

/** Options of every SQS-fed service (our additions to Devo's fields; all optional). */
const sqsFields = {
  concurrent_receivers: z
    .number()
    .int()
    .min(1)
    .max(100)
    .default(4)
    .describe('Concurrent long-polling ReceiveMessage calls per queue.'),
  visibility_timeout_seconds: z
    .number()
    .int()
    .min(10)
    .max(43_200)
    .default(120)
    .describe(
      'Visibility timeout set on received messages; extended while a message is being delivered, so slow outputs cause no redelivery.',
    ),
  max_receive_count: z
    .number()
    .int()
    .min(0)
    .max(1000)
    .default(5)
    .describe(
      "Receives after which SQS moves a message that could not be processed to the queue's dead-letter queue (SQS maxReceiveCount; as Elastic's sqs.max_receive_count). Used by auto_setup when it creates a queue: it creates `<queue>-dlq` (FIFO: `<queue>-dlq.fifo`) and the redrive policy too. 0: no dead-letter queue.",
    ),
};

/** Options of the services reading S3 objects announced on SQS (our additions; optional). */
const s3ObjectFields = {
  max_objects_in_flight: z
    .number()
    .int()
    .min(1)
    .max(64)
    .default(4)
    .describe(
      'S3 objects read at the same time per queue and region. Memory stays bounded whatever the object sizes: each object in flight holds about one batch and up to 2 MiB of decompressed data (a few MB in all).',
    ),
  max_bytes_in_flight: z
    .number()
    .int()
    .min(1024 * 1024)
    .default(8 * 1024 * 1024)
    .describe(
      'Bytes of events read from S3 objects and not yet accepted by every output, per queue and region, at most: when reached, reading pauses (bounds memory; globals.max_in_flight_bytes still applies collector-wide).',
    ),
};

const serviceEventsSchema = z
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

const securityHubSchema = z
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

export const AUDIT_TYPES = ['audits_api', 'audits_s3'] as const;

const auditEventsSchema = z
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

export const METRIC_STATISTICS = ['Average', 'Sum', 'Minimum', 'Maximum', 'SampleCount'] as const;

const metricsSchema = z
  .strictObject({
    ...commonServiceFields,
    tag: tagField,
    statistics: z
      .array(z.enum(METRIC_STATISTICS))
      .min(1)
      .default([...METRIC_STATISTICS])
      .describe('Statistics requested for every metric.'),
    period_in_seconds: z
      .number()
      .int()
      .refine((p) => p === 1 || p === 5 || p === 10 || p === 30 || p % 60 === 0, {
        message: 'must be 1, 5, 10, 30 or a multiple of 60 (CloudWatch periods)',
      })
      .default(60)
      .describe('Datapoint period in seconds.'),
    namespaces: z
      .array(z.string().min(1))
      .optional()
      .describe('Only these metric namespaces (default: every namespace).'),
    start_time: startTimeField,
    delay_seconds: z
      .number()
      .int()
      .min(0)
      .default(300)
      .describe(
        'How far behind now a window ends, so late datapoints are in before a window is read. The first datapoints arrive one period_in_seconds plus delay_seconds after the start (6 minutes by default), at the next pull.',
      ),
  })
  .describe('All CloudWatch metrics, every namespace (ListMetrics + GetMetricData).');

const logsSchema = z
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

const nonCloudwatchLogsSchema = z
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

/** Predefined service names and their schemas; any other name is a CloudWatch Logs entry. */
export const predefinedServiceSchemas = {
  'service-events-all': serviceEventsSchema,
  'sqs-cloudwatch-consumer': securityHubSchema,
  'audit-events-all': auditEventsSchema,
  'metrics-all': metricsSchema,
  'non-cloudwatch-logs': nonCloudwatchLogsSchema,
} as const;
export const PREDEFINED_SERVICES = Object.keys(
  predefinedServiceSchemas,
) as (keyof typeof predefinedServiceSchemas)[];
export { logsSchema };

const secretString = (description: string) => z.string().min(1).optional().describe(description);

const credentialsSchema = z
  .strictObject({
    access_key: secretString(
      'Access key id. Omit both keys to use the SDK default chain (environment, profile, instance/container role).',
    ),
    access_secret: secretString(
      'Secret access key. Write ${ENV_VAR} or ${file:/path}, not the value itself.',
    ),
    base_assume_role: z
      .string()
      .regex(/^arn:aws[\w-]*:iam::\d{12}:role\/.+/, 'must be an IAM role ARN')
      .optional()
      .describe('Role assumed first.'),
    target_assume_role: z
      .string()
      .regex(/^arn:aws[\w-]*:iam::\d{12}:role\/.+/, 'must be an IAM role ARN')
      .optional()
      .describe(
        'Role assumed with the base role (or the keys): the credentials every data call is signed with.',
      ),
    assume_role_external_id: secretString('External id passed when assuming target_assume_role.'),
  })
  .superRefine((c, ctx) => {
    if (Boolean(c.access_key) !== Boolean(c.access_secret)) {
      ctx.addIssue({
        code: 'custom',
        path: [c.access_key ? 'access_secret' : 'access_key'],
        message: 'access_key and access_secret go together',
      });
    }
    if (c.assume_role_external_id && !c.target_assume_role) {
      ctx.addIssue({
        code: 'custom',
        path: ['assume_role_external_id'],
        message: 'only used with target_assume_role',
      });
    }
  });

const servicesSchema = z
  .object(
    Object.fromEntries(
      PREDEFINED_SERVICES.map((name) => [name, predefinedServiceSchemas[name].optional()]),
    ) as {
      [K in keyof typeof predefinedServiceSchemas]: z.ZodOptional<(typeof predefinedServiceSchemas)[K]>;
    },
  )
  .catchall(logsSchema)
  .refine((services) => Object.keys(services).length > 0, { message: 'at least one service is required' })
  .describe(
    'Services to collect, by name: the predefined ones, or any other name for a CloudWatch Logs group.',
  );

const awsInputSchema = z
  .strictObject({
    id: z
      .union([z.string().min(1), z.number().int().nonnegative()])
      .transform(String)
      .refine((id) => /^[A-Za-z0-9_-]+$/.test(id), { message: 'only letters, digits, _ and -' })
      .describe('Short unique identifier of this input (used in default queue names and state keys).'),
    enabled: z.boolean().default(true).describe('Set false to keep the block but collect nothing.'),
    credentials: credentialsSchema.default({}).describe('AWS credentials; see the README for the options.'),
    auto_setup: z
      .boolean()
      .default(false)
      .describe(
        'Create the SQS queues and EventBridge rules the services need, when the credentials allow it.',
      ),
    ack_messages: z
      .boolean()
      .default(true)
      .describe(
        'Delete SQS messages once delivered. false: nothing is ever deleted (dry runs; messages are redelivered).',
      ),
    endpoint: z
      .url({ protocol: /^https?$/ })
      .optional()
      .describe(
        'Endpoint override for every AWS service (emulators). AWS_ENDPOINT_URL and AWS_ENDPOINT_URL_<SERVICE> also work.',
      ),
    services: servicesSchema,
  })
  .describe('The AWS input.');

const filesystemPersistence = z.strictObject({
  type: z.literal('filesystem'),
  config: z
    .strictObject({
      directory_name: z
        .string()
        .min(1)
        .default('state')
        .describe('Folder for state files, relative to the working directory.'),
    })
    .default({ directory_name: 'state' }),
});

const redisPersistence = z.strictObject({
  type: z.literal('redis'),
  config: z.strictObject({
    host: z.string().min(1).default('127.0.0.1').describe('Redis host.'),
    port: z.number().int().min(1).max(65535).default(6379).describe('Redis port.'),
    password: secretString('Redis password (${ENV_VAR} or ${file:/path}).'),
    db: z.number().int().min(0).default(0).describe('Redis database number.'),
    tls: z.boolean().default(false).describe('Connect with TLS.'),
    key_prefix: z
      .string()
      .default('devo-aws-collector:')
      .describe('Prefix of every key, so several collectors can share a Redis.'),
  }),
});

const globalsSchema = z
  .strictObject({
    debug: z.boolean().default(false).describe('Log at debug level.'),
    id: z
      .union([z.string(), z.number()])
      .transform(String)
      .optional()
      .describe('Collector id (informative, as in Devo configuration files; not used).'),
    name: z
      .string()
      .optional()
      .describe('Collector name (informative, as in Devo configuration files; not used).'),
    persistence: z
      .discriminatedUnion('type', [filesystemPersistence, redisPersistence])
      .default({ type: 'filesystem', config: { directory_name: 'state' } })
      .describe(
        'Where checkpoints are kept: filesystem (default, ./state) or redis. One collector per configuration: several replicas would each pull every CloudTrail API, metrics and CloudWatch Logs window.',
      ),
    shutdown_grace_seconds: z
      .number()
      .min(0)
      .default(30)
      .describe(
        'On SIGINT/SIGTERM, how long in-flight events may take to be delivered before they are released.',
      ),
    max_in_flight_events: z
      .number()
      .int()
      .min(1)
      .default(200_000)
      .describe(
        'Events admitted but not yet accepted by every output, at most. Batches accepted and awaiting confirmation (see resend_window_seconds) hold no events; at most a tenth of this many wait at once.',
      ),
    max_in_flight_bytes: z
      .number()
      .int()
      .min(1024)
      .default(256 * 1024 * 1024)
      .describe('Bytes admitted but not yet accepted by every output, at most (bounds memory).'),
    status_port: z
      .number()
      .int()
      .min(0)
      .max(65535)
      .optional()
      .describe(
        'Serve /healthz, /readyz, /status (JSON, read by `top`) and /metrics (Prometheus) at this port, on globals.status_address.',
      ),
    status_address: z
      .string()
      .min(1)
      .default('127.0.0.1')
      .describe(
        'Address the status server listens on: 127.0.0.1 (default, this machine only), or 0.0.0.0 / a pod IP to be probed and scraped from elsewhere.',
      ),
  })
  .prefault({})
  .describe('Collector-wide settings.');

const outputSchemas = Object.entries(outputDefinitions).map(([type, def]) =>
  z.strictObject({ type: z.literal(type), config: def.schema }),
);

const outputsSchema = z
  .record(
    z.string().min(1),
    z.discriminatedUnion('type', outputSchemas as unknown as [z.ZodObject, ...z.ZodObject[]]),
  )
  .refine((o) => Object.keys(o).length > 0, { message: 'at least one output is required' })
  .describe('Where events go, by name. Every event goes to every output.');

export const configSchema = z
  .strictObject({
    globals: globalsSchema,
    outputs: outputsSchema,
    inputs: z.strictObject({ aws: awsInputSchema }).describe('Inputs; this collector has one: aws.'),
  })
  .describe('devo-aws-collector configuration (the shape of Devo collector configuration files).');

export type CollectorConfig = z.output<typeof configSchema>;
export type AwsInputConfig = CollectorConfig['inputs']['aws'];
export type ServiceEventsConfig = z.output<typeof serviceEventsSchema>;
export type SecurityHubConfig = z.output<typeof securityHubSchema>;
export type AuditEventsConfig = z.output<typeof auditEventsSchema>;
export type MetricsConfig = z.output<typeof metricsSchema>;
export type LogsConfig = z.output<typeof logsSchema>;
export type NonCloudwatchLogsConfig = z.output<typeof nonCloudwatchLogsSchema>;
export type OutputConfig = CollectorConfig['outputs'][string];
