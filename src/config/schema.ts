import { z } from 'zod';
import { outputDefinitions } from '../outputs/registry.js';
import { regionSchema } from '../services/shared/config-fields.js';
import {
  customServiceDefinitions,
  PREDEFINED_SERVICES,
  serviceDefinitions,
  type PredefinedService,
} from '../services/registry.js';

/**
 * The configuration schema: the single source of truth for validation, defaults, the JSON Schema
 * (`print-schema`) and docs/configuration.md (`print-docs`), assembled from the service and output
 * registries (each service and output owns the schema of its block). The shape is Devo's collector
 * configuration (globals / outputs / inputs.aws), so a Devo user's file validates as it is.
 */

/** Predefined service names and their schemas (from the service registry); any other name is a CloudWatch Logs entry. */
export const predefinedServiceSchemas = Object.fromEntries(
  Object.entries(serviceDefinitions).map(([name, definition]) => [name, definition.schema]),
) as { [K in PredefinedService]: (typeof serviceDefinitions)[K]['schema'] };
export const logsSchema = customServiceDefinitions.logs.schema;
export const s3LogsSchema = customServiceDefinitions.s3.schema;
/** Any other service name: told apart by `types` (the loader reports the problems of the one named). */
export const customServiceSchema = z.union([logsSchema, s3LogsSchema]);

const secretString = (description: string) => z.string().min(1).optional().describe(description);

const ROLE_ARN = /^arn:aws[\w-]*:iam::(\d{12}):role\/.+/;
const roleArnSchema = z.string().regex(ROLE_ARN, 'must be an IAM role ARN');

const credentialsSchema = z
  .strictObject({
    access_key: secretString(
      'Access key id. Omit both keys to use the SDK default chain (environment, profile, instance/container role).',
    ),
    access_secret: secretString(
      'Secret access key. Write ${ENV_VAR} or ${file:/path}, not the value itself.',
    ),
    base_assume_role: roleArnSchema.optional().describe('Role assumed first.'),
    target_assume_role: roleArnSchema
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

const accountSchema = z
  .strictObject({
    id: z
      .union([z.string(), z.number().int().nonnegative()])
      .transform(String)
      .refine((id) => /^\d{12}$/.test(id), {
        message: 'must be a 12-digit AWS account id (quote an id that starts with 0)',
      })
      .describe('The AWS account id (12 digits).'),
    target_assume_role: roleArnSchema.describe(
      "Role in this account that the base credentials assume: every data call of this account's workers is signed with it.",
    ),
    assume_role_external_id: secretString(
      "External id passed when assuming this account's target_assume_role (the trust policy's sts:ExternalId).",
    ),
    regions: z
      .array(regionSchema)
      .min(1, { message: 'at least one region is required' })
      .optional()
      .describe(
        "Regions of this account: when given, every service runs in these instead of the service's own regions.",
      ),
  })
  .superRefine((a, ctx) => {
    const roleAccount = ROLE_ARN.exec(a.target_assume_role)?.[1];
    if (roleAccount && /^\d{12}$/.test(a.id) && roleAccount !== a.id)
      ctx.addIssue({
        code: 'custom',
        path: ['target_assume_role'],
        message: `is a role of account ${roleAccount}, not of this entry's id ${a.id}`,
      });
  });

const accountsSchema = z
  .array(accountSchema)
  .min(1, { message: 'list at least one account, or remove accounts' })
  .superRefine((accounts, ctx) => {
    const seen = new Set<string>();
    for (const [i, a] of accounts.entries()) {
      if (seen.has(a.id))
        ctx.addIssue({ code: 'custom', path: [i, 'id'], message: `${a.id} is listed twice` });
      seen.add(a.id);
    }
  })
  .optional()
  .describe(
    "Accounts to collect from with the input's credentials: each assumes its target_assume_role (after base_assume_role, when set) and runs every service, with its own checkpoints, rate limits and failures. Queue names with <account_id> and tags with {account_id} take each account's id.",
  );

const servicesSchema = z
  .object(
    Object.fromEntries(
      PREDEFINED_SERVICES.map((name) => [name, predefinedServiceSchemas[name].optional()]),
    ) as {
      [K in keyof typeof predefinedServiceSchemas]: z.ZodOptional<(typeof predefinedServiceSchemas)[K]>;
    },
  )
  .catchall(customServiceSchema)
  .refine((services) => Object.keys(services).length > 0, { message: 'at least one service is required' })
  .describe(
    'Services to collect, by name: the predefined ones, or any other name for a CloudWatch Logs group (types: [logs]) or logs in S3 announced on SQS (types: [s3]).',
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
    accounts: accountsSchema,
    services: servicesSchema,
  })
  .superRefine((input, ctx) => {
    if (input.accounts && input.credentials.target_assume_role)
      ctx.addIssue({
        code: 'custom',
        path: ['credentials', 'target_assume_role'],
        message: 'not used with accounts: each account has its own target_assume_role',
      });
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
    lease_ttl_seconds: z
      .number()
      .min(1)
      .max(3600)
      .default(30)
      .describe(
        "Replicas on one Redis share the pull tasks (CloudTrail API, metrics, CloudWatch Logs per region) through leases of this length, renewed every third of it; a dead replica's tasks are taken over once its leases expire.",
      ),
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
        'Where checkpoints are kept: filesystem (default, ./state; one process per folder) or redis (several replicas of one configuration share the pull tasks through leases).',
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
export type { ServiceEventsConfig } from '../services/service-events-all/schema.js';
export type { SecurityHubConfig } from '../services/sqs-cloudwatch-consumer/schema.js';
export type { AuditEventsConfig } from '../services/audit-events-all/schema.js';
export type { MetricsConfig } from '../services/metrics-all/schema.js';
export type { LogsConfig } from '../services/cloudwatch-logs/schema.js';
export type { NonCloudwatchLogsConfig } from '../services/non-cloudwatch-logs/schema.js';
export { PREDEFINED_SERVICES };
export type OutputConfig = CollectorConfig['outputs'][string];
