import { definition as auditEvents } from './audit-events-all/index.js';
import { definition as cloudwatchLogs } from './cloudwatch-logs/index.js';
import { definition as metrics } from './metrics-all/index.js';
import { definition as nonCloudwatchLogs } from './non-cloudwatch-logs/index.js';
import { securityHubDefinition, serviceEventsDefinition } from './shared/sqs-events/worker.js';
import type { ServiceDefinition } from './definition.js';
import type { PREDEFINED_SERVICES } from '../config/schema.js';

/** Every predefined service name → its definition (the config schema lists the same names). */
const predefined: Record<(typeof PREDEFINED_SERVICES)[number], ServiceDefinition> = {
  'service-events-all': serviceEventsDefinition,
  'sqs-cloudwatch-consumer': securityHubDefinition,
  'audit-events-all': auditEvents,
  'metrics-all': metrics,
  'non-cloudwatch-logs': nonCloudwatchLogs,
};

/** The definition for a service entry: a predefined one, or a CloudWatch Logs group for any other name. */
export function definitionFor(serviceName: string): ServiceDefinition {
  return (predefined as Record<string, ServiceDefinition>)[serviceName] ?? cloudwatchLogs;
}
