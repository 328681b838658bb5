#!/usr/bin/env node
/**
 * Runs the fake AWS by hand: `node --import tsx sandbox/fake-aws/main.ts --port 4566`, then point
 * the collector's `endpoint` (or AWS_ENDPOINT_URL) at the printed address.
 */
import { Command, InvalidArgumentError } from 'commander';
import { startFakeAws } from './index.js';

const program = new Command('fake-aws')
  .description(
    'A local AWS (SQS, S3, STS, CloudTrail, CloudWatch, CloudWatch Logs, EventBridge) for trying the collector.',
  )
  .option('-p, --port <port>', 'port on 127.0.0.1 (0: any free port)', parsePort, 4566)
  .option(
    '--role <arn[,externalId]>',
    'a role AssumeRole may assume (repeatable)',
    (v: string, all: string[]) => [...all, v],
    [] as string[],
  )
  .option('-q, --quiet', 'do not log each request on stderr')
  .parse();

const options = program.opts<{ port: number; role: string[]; quiet?: boolean }>();
const fake = await startFakeAws({ port: options.port, logRequests: !options.quiet });
for (const spec of options.role) {
  const [arn = '', externalId] = spec.split(',');
  try {
    fake.sts.addRole(arn, externalId ? { externalId } : {});
  } catch (err) {
    process.stderr.write(`fake-aws: --role ${spec}: ${(err as Error).message}\n`);
    await fake.stop();
    process.exit(2);
  }
}
process.stdout.write(`${fake.endpoint}\n`);

const stop = (): void => {
  void fake.stop().then(() => process.exit(0));
};
process.once('SIGINT', stop);
process.once('SIGTERM', stop);

function parsePort(value: string): number {
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new InvalidArgumentError('must be a port number (0-65535).');
  return port;
}
