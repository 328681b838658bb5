import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { KEYS } from './clients.js';

const MAIN = fileURLToPath(new URL('../../sandbox/fake-aws/main.ts', import.meta.url));

test('the CLI prints its endpoint, serves requests with the given roles and stops on SIGTERM', async () => {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', MAIN, '--port', '0', '--quiet', '--role', 'arn:aws:iam::111122223333:role/demo,ext'],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  try {
    const [line] = (await once(createInterface({ input: child.stdout }), 'line')) as [string];
    assert.match(line, /^http:\/\/127\.0\.0\.1:\d+$/);
    const sts = new STSClient({ region: 'eu-west-1', endpoint: line, credentials: KEYS, maxAttempts: 1 });
    const out = await sts.send(
      new AssumeRoleCommand({
        RoleArn: 'arn:aws:iam::111122223333:role/demo',
        RoleSessionName: 'cli',
        ExternalId: 'ext',
      }),
    );
    assert.equal(out.AssumedRoleUser?.Arn, 'arn:aws:sts::111122223333:assumed-role/demo/cli');
    sts.destroy();
    child.kill('SIGTERM');
    const [code] = (await once(child, 'exit')) as [number | null];
    assert.equal(code, 0);
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
  }
});

test('the CLI refuses a bad port', async () => {
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN, '--port', 'abc'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const [code] = (await once(child, 'exit')) as [number | null];
  assert.notEqual(code, 0);
  assert.match(stderr, /port number/);
});
