import { z } from 'zod';
import type { BackoffOptions } from '../core/backoff.js';

/** `reconnect` / `retry` settings of the network outputs, for the backoff of core/backoff.ts. */
export const backoffSchema = z
  .strictObject({
    initial_delay_seconds: z
      .number()
      .positive()
      .default(0.5)
      .describe('Ceiling of the first retry delay; it doubles with each further retry.'),
    max_delay_seconds: z.number().positive().default(30).describe('Highest ceiling of a retry delay.'),
  })
  .describe(
    'Exponential backoff with full jitter between retries: each delay is drawn between 0 and its ceiling. Retries go on until the output is stopped.',
  );

export type BackoffConfig = z.output<typeof backoffSchema>;

export function backoffOptions(config: BackoffConfig): BackoffOptions {
  return { baseMs: config.initial_delay_seconds * 1000, maxMs: config.max_delay_seconds * 1000 };
}
