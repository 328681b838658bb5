import assert from 'node:assert/strict';
import { after, before, describe, mock, test } from 'node:test';
import { CreateQueueCommand } from '@aws-sdk/client-sqs';
import { AwsClients } from '../../src/aws/clients.js';
import { scrub } from '../../src/telemetry/secrets.js';
import { startFakeAws, type FakeAws } from '../../sandbox/fake-aws/index.js';

describe('AwsClients', () => {
  let fake: FakeAws;
  before(async () => {
    fake = await startFakeAws();
  });
  after(() => fake.stop());

  test('assume-role chain: base role, then target role with the external id; data calls are signed by the target credentials', async () => {
    const base = 'arn:aws:iam::111111111111:role/devo-base';
    const target = 'arn:aws:iam::222222222222:role/devo-target';
    fake.sts.addRole(base);
    fake.sts.addRole(target, { externalId: 'ext-7731' });
    fake.clearRequests();
    const aws = new AwsClients({
      credentials: {
        access_key: 'AKIAUSERUSERUSER0001',
        access_secret: 'user-secret-access-key-0001',
        base_assume_role: base,
        target_assume_role: target,
        assume_role_external_id: 'ext-7731',
      },
      endpoint: fake.endpoint,
      stsRegion: 'eu-west-1',
    });
    try {
      await aws.sqs('eu-west-1').send(new CreateQueueCommand({ QueueName: 'chain-test' }));
      await aws.sqs('us-east-1').send(new CreateQueueCommand({ QueueName: 'chain-test' }));
      assert.equal(
        await aws.accountId('eu-west-1'),
        '222222222222',
        "the effective account is the target role's",
      );

      const assumes = fake.requestsFor({ service: 'sts', operation: 'AssumeRole' });
      assert.equal(assumes.length, 2, 'one AssumeRole per role, shared by every region');
      assert.equal(assumes[0]!.params.RoleArn, base);
      assert.equal(
        assumes[0]!.accessKeyId,
        'AKIAUSERUSERUSER0001',
        'the base role is assumed with the static keys',
      );
      assert.equal(assumes[0]!.params.ExternalId, undefined);
      assert.equal(assumes[1]!.params.RoleArn, target);
      assert.equal(assumes[1]!.params.ExternalId, 'ext-7731');
      assert.notEqual(
        assumes[1]!.accessKeyId,
        'AKIAUSERUSERUSER0001',
        'the target role is assumed with the base role credentials',
      );

      const dataCalls = fake.requestsFor({ service: 'sqs', operation: 'CreateQueue' });
      assert.equal(dataCalls.length, 2);
      for (const call of dataCalls) {
        assert.equal(
          call.accountId,
          '222222222222',
          'data calls are signed with the target role credentials',
        );
        assert.notEqual(call.accessKeyId, assumes[1]!.accessKeyId);
        assert.notEqual(call.accessKeyId, 'AKIAUSERUSERUSER0001');
      }
      assert.equal(
        scrub('user-secret-access-key-0001'),
        '[REDACTED]',
        'the static secret is registered for scrubbing',
      );
    } finally {
      aws.destroy();
    }
  });

  test('refreshed temporary credentials do not pile up in the secret registry', async () => {
    const role = 'arn:aws:iam::444444444444:role/devo-refresh';
    fake.sts.addRole(role);
    const aws = new AwsClients({
      credentials: {
        access_key: 'AKIAUSERUSERUSER0003',
        access_secret: 'user-secret-access-key-0003',
        target_assume_role: role,
      },
      endpoint: fake.endpoint,
      stsRegion: 'us-east-1',
    });
    const start = Date.now();
    mock.timers.enable({ apis: ['Date'], now: start });
    try {
      const issued: string[] = [];
      for (let i = 0; i < 4; i++) {
        // Sessions last an hour and are renewed in their last 5 minutes.
        mock.timers.setTime(start + i * 56 * 60_000);
        const identity = await aws.credentials!();
        issued.push(identity.secretAccessKey, identity.sessionToken!);
      }
      assert.equal(new Set(issued).size, 8, 'each refresh issued new credentials');
      const scrubbed = issued.map((s) => scrub(s) === '[REDACTED]');
      assert.deepEqual(
        scrubbed,
        [false, false, false, false, true, true, true, true],
        'the current and the previous session stay registered; long-expired ones are forgotten',
      );
    } finally {
      mock.timers.reset();
      aws.destroy();
    }
  });

  test('a wrong external id is refused by STS and surfaces as an error on the data call', async () => {
    const target = 'arn:aws:iam::333333333333:role/devo-strict';
    fake.sts.addRole(target, { externalId: 'right-id' });
    const aws = new AwsClients({
      credentials: {
        access_key: 'AKIAUSERUSERUSER0002',
        access_secret: 'user-secret-access-key-0002',
        target_assume_role: target,
        assume_role_external_id: 'wrong-id',
      },
      endpoint: fake.endpoint,
      stsRegion: 'us-east-1',
    });
    try {
      await assert.rejects(
        aws.sqs('us-east-1').send(new CreateQueueCommand({ QueueName: 'chain-test' })),
        /AccessDenied|not authorized/i,
      );
    } finally {
      aws.destroy();
    }
  });
});
