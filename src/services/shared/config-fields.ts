import { z } from 'zod';
import { isAwsRegion } from '../../aws/regions.js';
import { validateTagTemplate } from './tagging/template.js';

/**
 * Building blocks shared by every service's schema. Every field carries a description: the
 * generated JSON Schema and docs/configuration.md are made from these.
 */
export const regionSchema = z
  .string()
  .refine(isAwsRegion, { message: 'not an AWS region name (e.g. us-east-1, eu-west-1)' })
  .describe('AWS region name');

/** ISO-8601 date or date-time, with `Z` or an offset when a time is given (no ambiguous local times). */
const ISO_8601 = /^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:?\d{2}))?$/;

export const isoDateTimeSchema = z
  .string()
  .refine((s) => ISO_8601.test(s) && !Number.isNaN(Date.parse(s)), {
    message: 'must be an ISO-8601 date-time with a time zone, e.g. 2024-05-01T00:00:00Z',
  })
  .meta({ format: 'date-time' });

/** Properties every service has (reference document, "common properties"). */
export const commonServiceFields = {
  regions: z
    .array(regionSchema)
    .min(1, { message: 'at least one region is required' })
    .describe('Regions to collect from; one independent worker per region.'),
  request_period_in_seconds: z.number().int().min(1).default(60).describe('Seconds between pulls.'),
  pull_retries: z
    .number()
    .int()
    .min(0)
    .default(3)
    .describe(
      'Retries of a failed pull, with exponential backoff and jitter, before waiting for the next period.',
    ),
  tag: z
    .string()
    .min(1)
    .optional()
    .describe(
      'Devo tag (table) to send to instead of the default. May hold {region}, {account_id}, {event_type}, {service}.',
    ),
};

export const autoEventTypeField = z
  .boolean()
  .default(false)
  .describe('Refine the tag per event from its type (see the tagging rules).');

/** `tag`, checked as a template (its placeholders) when the configuration is validated. */
export const tagField = commonServiceFields.tag.superRefine((tag, ctx) => {
  if (tag === undefined) return;
  const problem = validateTagTemplate(tag);
  if (problem) ctx.addIssue({ code: 'custom', message: problem });
});

/** Longest regular expression a configuration may hold: ample for a name or key filter, and bounded. */
const MAX_REGEX_LENGTH = 1024;

/** A regular expression, compiled once when the configuration is validated; the error names the key. */
export const regexField = (description: string) =>
  z
    .string()
    .max(MAX_REGEX_LENGTH)
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

export const startTimeField = isoDateTimeSchema
  .optional()
  .describe(
    'ISO-8601 date-time to start reading from on the first run. Without it, the first run starts at the first pull; that start is saved at once, so restarts neither skip nor move it.',
  );

/**
 * `auto_event_type` on a service whose events all go to one table: the reference configuration
 * lists it, so `false` is accepted; `true` would do nothing, so it is refused, saying why.
 */
export const noAutoEventTypeField = (why: string) =>
  autoEventTypeField
    .refine((v) => !v, { message: `has no effect here: ${why}; remove it or set it to false` })
    .describe(`Accepted as false only (listed by the reference configuration): ${why}.`);

/** Options of every SQS-fed service (our additions to Devo's fields; all optional). */
export const sqsFields = {
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
      "Receives after which a message that could not be processed is given up (as Elastic's sqs.max_receive_count): with a redrive policy on the queue SQS moves it to the dead-letter queue; without one, services reading S3 objects delete it after that many receives, logging every object it announced. A failing message is retried once its visibility timeout expires, not sooner. auto_setup, when it creates a queue, creates `<queue>-dlq` (FIFO: `<queue>-dlq.fifo`) and the redrive policy too. 0: never given up, no dead-letter queue.",
    ),
};

/** Options of the services reading S3 objects announced on SQS (our additions; optional). */
export const s3ObjectFields = {
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

/** Default max_parquet_row_group_bytes. */
export const DEFAULT_MAX_PARQUET_ROW_GROUP_BYTES = 128 * 1024 * 1024;

/** Fields of the services that read Parquet objects. */
export const parquetFields = {
  max_parquet_row_group_bytes: z
    .number()
    .int()
    .min(1024 * 1024)
    .default(DEFAULT_MAX_PARQUET_ROW_GROUP_BYTES)
    .describe(
      'Largest Parquet row group read (its uncompressed or compressed size, whichever is larger; the footer too). A Parquet object is read a row group at a time, with ranged GETs, so memory holds about one row group. An object with a larger one is not read: logged as OBJECT_LIMIT_EXCEEDED with its bucket, key and row group, its message left for redelivery (and the dead-letter queue).',
    ),
};
