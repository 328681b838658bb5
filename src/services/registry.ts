import { definition as auditEvents } from './audit-events-all/index.js';
import { definition as cloudwatchLogs } from './cloudwatch-logs/index.js';
import { definition as metrics } from './metrics-all/index.js';
import { definition as nonCloudwatchLogs } from './non-cloudwatch-logs/index.js';
import { definition as s3Logs } from './s3-logs/index.js';
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

/** Any other service name, by its `types`: a CloudWatch Logs group (`[logs]`) or logs in S3 (`[s3]`). */
export const customServiceDefinitions = { logs: cloudwatchLogs, s3: s3Logs } as const;

/** The definition for a service entry: a predefined one, or a custom one by its `types`. */
export function definitionFor(serviceName: string, config: unknown): ServiceDefinition {
  const predefined = (serviceDefinitions as Record<string, ServiceDefinition>)[serviceName];
  if (predefined) return predefined;
  const types = (config as { types?: unknown } | undefined)?.types;
  return Array.isArray(types) && types.includes('s3') ? s3Logs : cloudwatchLogs;
}
