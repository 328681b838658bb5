import { z } from 'zod';
import { commonServiceFields, startTimeField, tagField } from '../shared/config-fields.js';

export const METRIC_STATISTICS = ['Average', 'Sum', 'Minimum', 'Maximum', 'SampleCount'] as const;

export const metricsSchema = z
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

export type MetricsConfig = z.output<typeof metricsSchema>;
