import type { ServiceDefinition } from '../definition.js';
import { metricsSchema } from './schema.js';
import { MetricsWorker } from './worker.js';

export { MetricsWorker, TAG_CLOUDWATCH_METRICS, type MetricsCheckpoint } from './worker.js';

/** `metrics-all`: every CloudWatch metric of each region (ListMetrics + GetMetricData). */
export const definition: ServiceDefinition<typeof metricsSchema> = {
  schema: metricsSchema,
  // ListMetrics and GetMetricData have no resource-level permissions.
  grants: () => [
    {
      sid: 'ReadCloudWatchMetrics',
      actions: ['cloudwatch:ListMetrics', 'cloudwatch:GetMetricData'],
      resources: ['*'],
    },
  ],
  createWorkers: (config, ctx) => [new MetricsWorker(config, ctx)],
};
