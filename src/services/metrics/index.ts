import { predefinedServiceSchemas } from '../../config/schema.js';
import type { ServiceDefinition } from '../service.js';
import { MetricsWorker } from './worker.js';

export { MetricsWorker, type MetricsCheckpoint } from './worker.js';

const schema = predefinedServiceSchemas['metrics-all'];

/** `metrics-all`: every CloudWatch metric of each region (ListMetrics + GetMetricData). */
export const definition: ServiceDefinition<typeof schema> = {
  schema,
  createWorkers: (config, ctx) => [new MetricsWorker(config, ctx)],
};
