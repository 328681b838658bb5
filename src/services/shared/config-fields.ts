import { z } from 'zod';
import { isAwsRegion } from '../../aws/regions.js';

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
