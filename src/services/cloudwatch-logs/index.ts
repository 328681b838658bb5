import { partitionOf } from '../../aws/auto-setup-plan.js';
import type { ServiceDefinition } from '../definition.js';
import { logsSchema } from './schema.js';
import { LogsWorker } from './worker.js';

export {
  LogsWorker,
  logMessage,
  FILTER_LOG_EVENTS_PER_SECOND,
  TAG_CLOUDWATCH_LOGS,
  type LogsWorkerOptions,
} from './worker.js';

/** Any service name other than the predefined ones, with `types: [logs]`: one CloudWatch Logs group. */
export const definition: ServiceDefinition<typeof logsSchema> = {
  schema: logsSchema,
  // Only FilterLogEvents on the group (never DescribeLogGroups).
  grants: (config, account) => [
    {
      sid: 'ReadLogGroups',
      actions: ['logs:FilterLogEvents'],
      resources: config.regions.flatMap((region) => {
        const group = `arn:${partitionOf(region)}:logs:${region}:${account}:log-group:${config.log_group}`;
        // IAM documents log-group ARNs both with and without the trailing `:*`.
        return [group, `${group}:*`];
      }),
    },
  ],
  createWorkers: (config, ctx) => [new LogsWorker(config, ctx)],
};
