import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { AssumeRoleCommand, GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { CreateQueueCommand } from '@aws-sdk/client-sqs';
import { fromTemporaryCredentials } from '@aws-sdk/credential-providers';
import { startFakeAws, type FakeAws } from '../../sandbox/fake-aws/index.js';
import { clients, KEYS, rejection } from './clients.js';

const ROLE = 'arn:aws:iam::210987654321:role/collector';
const GUARDED = 'arn:aws:iam::333333333333:role/path/guarded';

describe('fake STS', () => {
  let fake: FakeAws;
  let c: ReturnType<typeof clients>;
  before(async () => {
    fake = await startFakeAws({ accounts: { keys: { AKIAOTHERACCOUNT0001: '444444444444' } } });
    fake.sts.addRole(ROLE);
    fake.sts.addRole(GUARDED, { externalId: 'ext-123' });
    c = clients(fake);
  });
  after(async () => {
    c.destroy();
    await fake.stop();
  });

  test('GetCallerIdentity answers the account of the calling key', async () => {
    const me = await c.sts.send(new GetCallerIdentityCommand({}));
    assert.equal(me.Account, '123456789012');
    assert.match(me.Arn ?? '', /^arn:aws:iam::123456789012:user\//);
    const other = clients(fake, {
      credentials: { accessKeyId: 'AKIAOTHERACCOUNT0001', secretAccessKey: 'x' },
    });
    assert.equal((await other.sts.send(new GetCallerIdentityCommand({}))).Account, '444444444444');
    other.destroy();
  });

  test('AssumeRole issues temporary keys that act in the role account', async () => {
    const out = await c.sts.send(new AssumeRoleCommand({ RoleArn: ROLE, RoleSessionName: 'devo' }));
    const creds = out.Credentials!;
    assert.ok(creds.AccessKeyId?.startsWith('ASIA'));
    assert.ok(creds.SecretAccessKey && creds.SessionToken);
    const minutes = ((creds.Expiration?.getTime() ?? 0) - Date.now()) / 60_000;
    assert.ok(minutes > 59 && minutes <= 60, `expires in ${minutes} min`);
    assert.equal(out.AssumedRoleUser?.Arn, 'arn:aws:sts::210987654321:assumed-role/collector/devo');

    const temp = clients(fake, {
      credentials: {
        accessKeyId: creds.AccessKeyId!,
        secretAccessKey: creds.SecretAccessKey!,
        sessionToken: creds.SessionToken!,
      },
    });
    const me = await temp.sts.send(new GetCallerIdentityCommand({}));
    assert.equal(me.Account, '210987654321');
    assert.equal(me.Arn, 'arn:aws:sts::210987654321:assumed-role/collector/devo');
    // Data calls signed with the temporary keys are attributed to them and to the role's account.
    const { QueueUrl } = await temp.sqs.send(new CreateQueueCommand({ QueueName: 'in-role-account' }));
    assert.match(QueueUrl ?? '', /\/210987654321\/in-role-account$/);
    const logged = fake.requestsFor({ service: 'sqs', operation: 'CreateQueue' }).at(-1);
    assert.equal(logged?.accessKeyId, creds.AccessKeyId);
    assert.equal(logged?.accountId, '210987654321');
    temp.destroy();
  });

  test('a role registered with an ExternalId refuses a missing or wrong one', async () => {
    for (const ExternalId of [undefined, 'wrong']) {
      const err = await rejection(
        c.sts.send(new AssumeRoleCommand({ RoleArn: GUARDED, RoleSessionName: 'devo', ExternalId })),
      );
      assert.equal(err.name, 'AccessDenied');
      assert.equal((err.$metadata as { httpStatusCode: number }).httpStatusCode, 403);
    }
    const ok = await c.sts.send(
      new AssumeRoleCommand({ RoleArn: GUARDED, RoleSessionName: 'devo', ExternalId: 'ext-123' }),
    );
    assert.equal(ok.AssumedRoleUser?.Arn, 'arn:aws:sts::333333333333:assumed-role/guarded/devo');
  });

  test('unregistered roles and bad inputs are refused as STS refuses them', async () => {
    const denied = await rejection(
      c.sts.send(
        new AssumeRoleCommand({ RoleArn: 'arn:aws:iam::123456789012:role/nobody', RoleSessionName: 'devo' }),
      ),
    );
    assert.equal(denied.name, 'AccessDenied');
    const badName = await rejection(
      c.sts.send(new AssumeRoleCommand({ RoleArn: ROLE, RoleSessionName: 'x' })),
    );
    assert.equal(badName.name, 'ValidationError');
    const tooLong = await rejection(
      c.sts.send(new AssumeRoleCommand({ RoleArn: ROLE, RoleSessionName: 'devo', DurationSeconds: 7200 })),
    );
    assert.equal(tooLong.name, 'ValidationError');
  });

  test('the SDK credential chain (base role → target role with external id) ends in the target account', async () => {
    const base = fromTemporaryCredentials({
      params: { RoleArn: ROLE, RoleSessionName: 'base' },
      masterCredentials: KEYS,
      clientConfig: { region: 'eu-west-1', endpoint: fake.endpoint },
    });
    const target = fromTemporaryCredentials({
      params: { RoleArn: GUARDED, RoleSessionName: 'target', ExternalId: 'ext-123' },
      masterCredentials: base,
      clientConfig: { region: 'eu-west-1', endpoint: fake.endpoint },
    });
    const sts = new STSClient({ region: 'eu-west-1', endpoint: fake.endpoint, credentials: target });
    const me = await sts.send(new GetCallerIdentityCommand({}));
    assert.equal(me.Arn, 'arn:aws:sts::333333333333:assumed-role/guarded/target');
    // The second AssumeRole was signed with the base role's temporary key.
    const chained = fake
      .requestsFor({ service: 'sts', operation: 'AssumeRole' })
      .filter((r) => r.params.RoleArn === GUARDED);
    assert.equal(chained.at(-1)?.accountId, '210987654321');
    assert.ok(chained.at(-1)?.accessKeyId.startsWith('ASIA'));
    sts.destroy();
  });

  test('expired or tampered temporary keys are refused', async () => {
    const out = await c.sts.send(new AssumeRoleCommand({ RoleArn: ROLE, RoleSessionName: 'short' }));
    const creds = out.Credentials!;
    const tampered = clients(fake, {
      credentials: {
        accessKeyId: creds.AccessKeyId!,
        secretAccessKey: creds.SecretAccessKey!,
        sessionToken: 'forged',
      },
    });
    assert.equal(
      (await rejection(tampered.sts.send(new GetCallerIdentityCommand({})))).name,
      'InvalidClientTokenId',
    );
    tampered.destroy();

    assert.equal(fake.accounts.expire(creds.AccessKeyId!), true);
    const expired = clients(fake, {
      credentials: {
        accessKeyId: creds.AccessKeyId!,
        secretAccessKey: creds.SecretAccessKey!,
        sessionToken: creds.SessionToken!,
      },
    });
    assert.equal((await rejection(expired.sts.send(new GetCallerIdentityCommand({})))).name, 'ExpiredToken');
    const sqsErr = await rejection(expired.sqs.send(new CreateQueueCommand({ QueueName: 'x' })));
    assert.equal(sqsErr.name, 'ExpiredToken');
    expired.destroy();
  });

  test('unsigned requests and, when configured, unknown keys are refused', async () => {
    const res = await fetch(`${fake.endpoint}/`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'Action=GetCallerIdentity&Version=2011-06-15',
    });
    assert.equal(res.status, 403);
    assert.match(await res.text(), /<Code>MissingAuthenticationToken<\/Code>/);

    const strict = await startFakeAws({
      accounts: { acceptUnknownKeys: false, keys: { AKIAKNOWN00000000001: '555555555555' } },
    });
    const known = clients(strict, {
      credentials: { accessKeyId: 'AKIAKNOWN00000000001', secretAccessKey: 'x' },
    });
    const unknown = clients(strict);
    assert.equal((await known.sts.send(new GetCallerIdentityCommand({}))).Account, '555555555555');
    assert.equal(
      (await rejection(unknown.sts.send(new GetCallerIdentityCommand({})))).name,
      'InvalidClientTokenId',
    );
    assert.equal(
      (await rejection(unknown.sqs.send(new CreateQueueCommand({ QueueName: 'x' })))).name,
      'InvalidClientTokenId',
    );
    known.destroy();
    unknown.destroy();
    await strict.stop();
  });
});
