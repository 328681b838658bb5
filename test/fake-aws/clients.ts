import { CloudTrailClient } from '@aws-sdk/client-cloudtrail';
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { S3Client } from '@aws-sdk/client-s3';
import { SQSClient } from '@aws-sdk/client-sqs';
import { STSClient } from '@aws-sdk/client-sts';
import type { AwsCredentialIdentity } from '@smithy/types';
import type { FakeAws } from '../../sandbox/fake-aws/index.js';

export const KEYS: AwsCredentialIdentity = {
  accessKeyId: 'AKIAFAKETEST0000001',
  secretAccessKey: 'not-a-real-secret',
};

export interface ClientOptions {
  region?: string;
  credentials?: AwsCredentialIdentity;
  maxAttempts?: number;
}

/** SDK v3 clients pointed at the fake, with test keys; retries off unless asked for. */
export function clients(fake: FakeAws, options: ClientOptions = {}) {
  const config = {
    region: options.region ?? 'eu-west-1',
    endpoint: fake.endpoint,
    credentials: options.credentials ?? KEYS,
    maxAttempts: options.maxAttempts ?? 1,
  };
  const made = {
    sts: new STSClient(config),
    sqs: new SQSClient(config),
    s3: new S3Client({ ...config, forcePathStyle: true, followRegionRedirects: true }),
    cloudtrail: new CloudTrailClient(config),
    cloudwatch: new CloudWatchClient(config),
    logs: new CloudWatchLogsClient(config),
    eventbridge: new EventBridgeClient(config),
  };
  return {
    ...made,
    destroy(): void {
      for (const c of Object.values(made)) c.destroy();
    },
  };
}

/** The error a promise rejects with (fails the test if it resolves). */
export async function rejection(promise: Promise<unknown>): Promise<Error & Record<string, unknown>> {
  try {
    await promise;
  } catch (err) {
    return err as Error & Record<string, unknown>;
  }
  throw new Error('expected the call to fail');
}
