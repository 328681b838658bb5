import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { ListQueuesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { fastClientConfig, reuseSigner } from '../../src/aws/sdk-fast-paths.js';

// Guards the tricks on SDK internals: these fail when an SDK release changes what they lean on
// (the tricks then do nothing, and the collector runs as the plain SDK does, slower).

const client = () =>
  new SQSClient({
    region: 'eu-west-1',
    endpoint: 'http://127.0.0.1:9',
    credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret-for-the-test' },
  });

class Signed extends Error {}

/** Sends a request that ends right after it is signed, before any network. */
async function signOne(c: SQSClient): Promise<void> {
  const command = new ListQueuesCommand({});
  command.middlewareStack.addRelativeTo(
    () => async () => {
      throw new Signed();
    },
    { relation: 'after', toMiddleware: 'httpSigningMiddleware', name: 'stopAfterSigning' },
  );
  await assert.rejects(c.send(command), Signed);
}

describe('SDK fast paths', () => {
  test('the SDK still asks config.signer for a signer on every request; reuseSigner makes one', async () => {
    const c = client();
    const config = c.config as unknown as { signer: (...args: unknown[]) => Promise<unknown> };
    assert.equal(typeof config.signer, 'function');
    let made = 0;
    const make = config.signer;
    config.signer = (...args) => (made++, make(...args));
    reuseSigner(c);
    let asked = 0;
    const reused = config.signer;
    config.signer = (...args) => (asked++, reused(...args));
    await signOne(c);
    await signOne(c);
    assert.equal(asked, 2, 'the SDK asks for a signer per request');
    assert.equal(made, 1, 'one signer is made');
  });

  test("the SDK leaves a client's config in dictionary mode; fastClientConfig fixes it", () => {
    setFlagsFromString('--allow-natives-syntax');
    const hasFastProperties = new Function('o', 'return %HasFastProperties(o)') as (o: object) => boolean;
    const c = client();
    assert.equal(hasFastProperties(c.config), false, 'the SDK config is slow: the trick is still needed');
    fastClientConfig(c);
    assert.equal(hasFastProperties(c.config), true);
  });
});
