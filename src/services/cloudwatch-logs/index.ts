import { partitionOf } from '../../aws/auto-setup-plan.js';
import type { IamGrant, ServiceDefinition } from '../definition.js';
import { parseLogGroupArn, logsSchema, type LogsConfig } from './schema.js';
import { LogsWorker } from './worker.js';

export {
  LogsWorker,
  FILTER_LOG_EVENTS_PER_SECOND,
  DISCOVERY_REFRESH_MS,
  TAG_CLOUDWATCH_LOGS,
  readIntervalSeconds,
  type LogsWorkerOptions,
} from './worker.js';
export { groupStateKey, logMessage } from './group-reader.js';

/**
 * Any service name other than the predefined ones, with `types: [logs]`: one CloudWatch Logs
 * group, a linked account's group by ARN, or the groups matching a prefix or pattern.
 */
export const definition: ServiceDefinition<typeof logsSchema> = {
  schema: logsSchema,
  grants: (config, account) => {
    const grants: IamGrant[] = [
      { sid: 'ReadLogGroups', actions: ['logs:FilterLogEvents'], resources: readResources(config, account) },
    ];
    if (config.log_group_prefix !== undefined || config.log_group_pattern !== undefined)
      grants.push({
        sid: 'ListLogGroups',
        actions: ['logs:DescribeLogGroups'],
        resources: config.regions.map((region) => groupArn(region, account, '*')),
      });
    return grants;
  },
  createWorkers: (config, ctx) => [new LogsWorker(config, ctx)],
};

const groupArn = (region: string, account: string, name: string): string =>
  `arn:${partitionOf(region)}:logs:${region}:${account}:log-group:${name}`;

/**
 * The groups FilterLogEvents reads, as IAM resources: one name, a prefix, any (a regex has no IAM
 * form), or a linked account's group by its ARN. IAM documents log-group ARNs both with and
 * without the trailing `:*`.
 */
function readResources(config: LogsConfig, account: string): string[] {
  const linked = config.log_group_identifier && parseLogGroupArn(config.log_group_identifier);
  const arns = linked
    ? [groupArn(linked.region, linked.account, linked.name)]
    : config.regions.map((region) =>
        groupArn(
          region,
          account,
          config.log_group ?? (config.log_group_prefix !== undefined ? `${config.log_group_prefix}*` : '*'),
        ),
      );
  return arns.flatMap((arn) => [arn, `${arn}:*`]);
}
