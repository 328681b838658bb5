import { definition as auditEvents } from './audit-events-all/index.js';
import { definition as cloudwatchLogs } from './cloudwatch-logs/index.js';
import { definition as metrics } from './metrics-all/index.js';
import { definition as nonCloudwatchLogs } from './non-cloudwatch-logs/index.js';
import { definition as securityHub } from './sqs-cloudwatch-consumer/index.js';
import { definition as serviceEvents } from './service-events-all/index.js';
import type { ServiceDefinition } from './definition.js';

/**
 * Every predefined service name → its definition. The config schema, JSON Schema, docs,
 * auto-setup and iam-policy are built from this list: adding a service is its folder and one line.
 */
export const serviceDefinitions = {
  'service-events-all': serviceEvents,
  'sqs-cloudwatch-consumer': securityHub,
  'audit-events-all': auditEvents,
  'metrics-all': metrics,
  'non-cloudwatch-logs': nonCloudwatchLogs,
} as const;

export type PredefinedService = keyof typeof serviceDefinitions;
export const PREDEFINED_SERVICES = Object.keys(serviceDefinitions) as PredefinedService[];

/** Any other service name: a CloudWatch Logs group (`types: [logs]`). */
export const customServiceDefinition = cloudwatchLogs;

/** The definition for a service entry: a predefined one, or a CloudWatch Logs group for any other name. */
export function definitionFor(serviceName: string): ServiceDefinition {
  return (serviceDefinitions as Record<string, ServiceDefinition>)[serviceName] ?? customServiceDefinition;
}
