import { logsSchema } from '../../config/schema.js';
import type { ServiceDefinition } from '../definition.js';
import { LogsWorker } from './worker.js';

export { LogsWorker, logMessage, FILTER_LOG_EVENTS_PER_SECOND, type LogsWorkerOptions } from './worker.js';

/** Any service name other than the predefined ones, with `types: [logs]`: one CloudWatch Logs group. */
export const definition: ServiceDefinition<typeof logsSchema> = {
  schema: logsSchema,
  createWorkers: (config, ctx) => [new LogsWorker(config, ctx)],
};
