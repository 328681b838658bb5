import assert from 'node:assert/strict';
import { after, before, describe, mock, test } from 'node:test';
import { createHash, createHmac } from 'node:crypto';
import {
  CreateQueueCommand,
  DeleteMessageBatchCommand,
  GetQueueUrlCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  type ServiceInputTypes,
  type ServiceOutputTypes,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { SignatureV4 } from '@smithy/signature-v4';
import type { FinalizeRequestMiddleware, HttpRequest } from '@smithy/types';
import { AwsClients } from '../../src/aws/clients.js';
import { Secrets } from '../../src/telemetry/secrets.js';
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
    const secrets = new Secrets();
    const aws = new AwsClients({
      secrets,
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
        secrets.scrub('user-secret-access-key-0001'),
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
    const secrets = new Secrets();
    const aws = new AwsClients({
      secrets,
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
      const scrubbed = issued.map((s) => secrets.scrub(s) === '[REDACTED]');
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

  test('session credentials AWS rejects before their stated expiry are re-assumed at once (rate-limited) and the call retried', async () => {
    const role = 'arn:aws:iam::555555555555:role/devo-revoked';
    fake.sts.addRole(role);
    let now = 1_000_000;
    const secrets = new Secrets();
    const aws = new AwsClients({
      secrets,
      credentials: {
        access_key: 'AKIAUSERUSERUSER0005',
        access_secret: 'user-secret-access-key-0005',
        target_assume_role: role,
      },
      endpoint: fake.endpoint,
      stsRegion: 'us-east-1',
      now: () => now,
    });
    try {
      const sqs = aws.sqsCached('us-east-1');
      const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: 'revoked-test' }));
      for (let i = 0; i < 3; i++) await sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: `m${i}` }));
      const { Messages = [] } = await aws
        .sqs('us-east-1')
        .send(new ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: 10 }));
      assert.equal(Messages.length, 3);
      const assumes = () => fake.requestsFor({ service: 'sts', operation: 'AssumeRole' }).length;
      const before = assumes();
      assert.ok(fake.sts.revokeSessions() >= 1);

      // Several calls fail together: one AssumeRole serves them all.
      const deletes = await Promise.all(
        Messages.map((m, i) =>
          sqs.send(
            new DeleteMessageBatchCommand({
              QueueUrl,
              Entries: [{ Id: `${i}`, ReceiptHandle: m.ReceiptHandle }],
            }),
          ),
        ),
      );
      for (const d of deletes) assert.deepEqual(d.Failed ?? [], []);
      assert.equal(assumes(), before + 1, 'AssumeRole called again, once');
      const rejected = fake.requestsFor({ service: 'sqs', operation: 'DeleteMessageBatch' });
      assert.ok(
        rejected.some((r) => r.status === 403),
        'the first deletes were refused',
      );

      // Revoked again within the rate limit: no new AssumeRole, the call fails with the AWS error.
      fake.sts.revokeSessions();
      await assert.rejects(sqs.send(new GetQueueUrlCommand({ QueueName: 'revoked-test' })), {
        name: 'ExpiredToken',
      });
      assert.equal(assumes(), before + 1);
      // Past the limit, it renews again.
      now += 5_000;
      await sqs.send(new GetQueueUrlCommand({ QueueName: 'revoked-test' }));
      assert.equal(assumes(), before + 2);
    } finally {
      aws.destroy();
    }
  });

  test('a wrong external id is refused by STS and surfaces as an error on the data call', async () => {
    const target = 'arn:aws:iam::333333333333:role/devo-strict';
    fake.sts.addRole(target, { externalId: 'right-id' });
    const secrets = new Secrets();
    const aws = new AwsClients({
      secrets,
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

  test('SQS clients reuse one signer, and each request carries the signature a fresh SigV4 signer computes', async () => {
    const credentials = {
      accessKeyId: 'AKIAUSERUSERUSER0003',
      secretAccessKey: 'user-secret-access-key-0003',
    };
    const secrets = new Secrets();
    const aws = new AwsClients({
      secrets,
      credentials: { access_key: credentials.accessKeyId, access_secret: credentials.secretAccessKey },
      endpoint: fake.endpoint,
      stsRegion: 'eu-west-1',
    });
    const fresh = new SignatureV4({ credentials, region: 'eu-west-1', service: 'sqs', sha256: NodeSha256 });
    try {
      for (const client of [aws.sqs('eu-west-1'), aws.sqsCached('eu-west-1')]) {
        const signed = captureSigned(client);
        for (const name of ['signer-a', 'signer-b', 'signer-c']) {
          await client.send(new CreateQueueCommand({ QueueName: name }));
          await client.send(new GetQueueUrlCommand({ QueueName: name }));
        }
        assert.equal(signed.length, 6);
        for (const request of signed) {
          const { authorization, ...headers } = request.headers;
          const date = headers['x-amz-date']!;
          const signingDate = new Date(
            `${date.slice(0, 4)}-${date.slice(4, 6)}-${date.slice(6, 11)}:${date.slice(11, 13)}:${date.slice(13)}`,
          );
          const expected = await fresh.sign({ ...request, headers }, { signingDate });
          assert.equal(authorization, expected.headers.authorization);
        }
        assert.equal(await client.config.signer(), await client.config.signer(), 'one signer per client');
      }
    } finally {
      aws.destroy();
    }
  });
});

/** Node's SHA-256 (HMAC with a secret) in the SDK's Checksum shape. */
class NodeSha256 {
  private readonly hash;
  constructor(secret?: string | ArrayBuffer | ArrayBufferView) {
    this.hash =
      secret === undefined
        ? createHash('sha256')
        : createHmac('sha256', typeof secret === 'string' ? secret : Buffer.from(secret as ArrayBuffer));
  }
  update(data: string | ArrayBuffer | ArrayBufferView): void {
    this.hash.update(typeof data === 'string' ? data : Buffer.from(data as ArrayBuffer));
  }
  digest(): Promise<Uint8Array> {
    return Promise.resolve(new Uint8Array(this.hash.digest()));
  }
  reset(): void {}
}

/** The requests `client` sends, as signed. */
function captureSigned(client: SQSClient): HttpRequest[] {
  const signed: HttpRequest[] = [];
  const capture: FinalizeRequestMiddleware<ServiceInputTypes, ServiceOutputTypes> = (next) => (args) => {
    signed.push(args.request as HttpRequest);
    return next(args);
  };
  client.middlewareStack.addRelativeTo(capture, {
    name: 'captureSigned',
    relation: 'after',
    toMiddleware: 'httpSigningMiddleware',
  });
  return signed;
}
