import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import {
  CreateBucketCommand,
  GetBucketNotificationConfigurationCommand,
  GetObjectCommand,
  HeadObjectCommand,
  PutBucketNotificationConfigurationCommand,
  PutObjectCommand,
  S3Client,
  type ChecksumAlgorithm,
} from '@aws-sdk/client-s3';
import { startFakeAws, type FakeAws } from '../../sandbox/fake-aws/index.js';
import { clients, KEYS, rejection } from './clients.js';

const REGION = 'eu-west-1';
const status = (err: Record<string, unknown>): number =>
  (err.$metadata as { httpStatusCode: number }).httpStatusCode;

describe('fake S3', () => {
  let fake: FakeAws;
  let c: ReturnType<typeof clients>;
  before(async () => {
    fake = await startFakeAws();
    c = clients(fake);
    await c.s3.send(new CreateBucketCommand({ Bucket: 'logs-bucket' }));
  });
  after(async () => {
    c.destroy();
    await fake.stop();
  });

  test('CreateBucket remembers the region and refuses taken names', async () => {
    const us = clients(fake, { region: 'us-east-1' });
    await us.s3.send(new CreateBucketCommand({ Bucket: 'in-virginia' }));
    await us.s3.send(new CreateBucketCommand({ Bucket: 'in-virginia' })); // us-east-1's legacy answer
    const mine = await rejection(c.s3.send(new CreateBucketCommand({ Bucket: 'logs-bucket' })));
    assert.equal(mine.name, 'BucketAlreadyOwnedByYou');
    const other = clients(fake, { credentials: { accessKeyId: 'AKIAOTHER', secretAccessKey: 'x' } });
    fake.accounts.addKey('AKIAOTHER', '999999999999');
    assert.equal(
      (await rejection(other.s3.send(new CreateBucketCommand({ Bucket: 'logs-bucket' })))).name,
      'BucketAlreadyExists',
    );
    const wrongRegion = await rejection(
      c.s3.send(
        new CreateBucketCommand({
          Bucket: 'elsewhere',
          CreateBucketConfiguration: { LocationConstraint: 'us-west-2' },
        }),
      ),
    );
    assert.equal(wrongRegion.name, 'IllegalLocationConstraintException');
    assert.equal(
      (await rejection(c.s3.send(new CreateBucketCommand({ Bucket: 'Bad_Name' })))).name,
      'InvalidBucketName',
    );
    us.destroy();
    other.destroy();
  });

  test('PutObject and GetObject round-trip bytes, ETag, type and metadata', async () => {
    const body = Buffer.from('{"Records":[]}');
    const put = await c.s3.send(
      new PutObjectCommand({
        Bucket: 'logs-bucket',
        Key: 'a/b.json',
        Body: body,
        ContentType: 'application/json',
        Metadata: { origin: 'test' },
      }),
    );
    assert.equal(put.ETag, `"${createHash('md5').update(body).digest('hex')}"`);
    const got = await c.s3.send(new GetObjectCommand({ Bucket: 'logs-bucket', Key: 'a/b.json' }));
    assert.equal(await got.Body?.transformToString(), body.toString());
    assert.equal(got.ContentType, 'application/json');
    assert.equal(got.ContentLength, body.length);
    assert.equal(got.ETag, put.ETag);
    assert.deepEqual(got.Metadata, { origin: 'test' });
    const head = await c.s3.send(new HeadObjectCommand({ Bucket: 'logs-bucket', Key: 'a/b.json' }));
    assert.equal(head.ContentLength, body.length);
    assert.deepEqual(fake.s3.getObject('logs-bucket', 'a/b.json'), body);
  });

  test('streamed uploads (aws-chunked with a checksum trailer) are decoded and verified', async () => {
    const parts = [Buffer.alloc(70_000, 'a'), Buffer.alloc(5, 'b'), Buffer.alloc(100_000, 'c')];
    const put = await c.s3.send(
      new PutObjectCommand({
        Bucket: 'logs-bucket',
        Key: 'streamed',
        Body: Readable.from(parts),
        ContentLength: 170_005,
      }),
    );
    assert.ok(put.ChecksumCRC32, 'the trailer checksum is echoed');
    assert.deepEqual(fake.s3.getObject('logs-bucket', 'streamed'), Buffer.concat(parts));
    const logged = fake.requestsFor({ operation: 'PutObject' }).at(-1);
    assert.equal(logged?.params.ContentLength, '170005');
  });

  test('every flexible checksum algorithm is verified on upload and returned for validation on download', async () => {
    for (const algorithm of ['CRC32', 'CRC32C', 'CRC64NVME', 'SHA1', 'SHA256'] as ChecksumAlgorithm[]) {
      const Key = `sum-${algorithm}`;
      await c.s3.send(
        new PutObjectCommand({
          Bucket: 'logs-bucket',
          Key,
          Body: `checked with ${algorithm}`,
          ChecksumAlgorithm: algorithm,
        }),
      );
      const got = await c.s3.send(
        new GetObjectCommand({ Bucket: 'logs-bucket', Key, ChecksumMode: 'ENABLED' }),
      );
      // The SDK validates the returned checksum while reading: a wrong one would throw here.
      assert.equal(await got.Body?.transformToString(), `checked with ${algorithm}`);
      assert.ok(got[`Checksum${algorithm}` as 'ChecksumCRC32'], `${algorithm} returned`);
    }
    const bad = await rejection(
      c.s3.send(
        new PutObjectCommand({ Bucket: 'logs-bucket', Key: 'bad', Body: 'x', ChecksumCRC32: 'AAAAAA==' }),
      ),
    );
    assert.equal(bad.name, 'BadDigest');
    const badMd5 = await rejection(
      c.s3.send(
        new PutObjectCommand({
          Bucket: 'logs-bucket',
          Key: 'bad',
          Body: 'x',
          ContentMD5: 'AAAAAAAAAAAAAAAAAAAAAA==',
        }),
      ),
    );
    assert.equal(badMd5.name, 'BadDigest');
    // Seeded objects can carry a checksum too, computed by the fake.
    fake.s3.putObject('logs-bucket', 'seeded', 'seeded body', { checksumAlgorithm: 'CRC64NVME' });
    const seeded = await c.s3.send(
      new GetObjectCommand({ Bucket: 'logs-bucket', Key: 'seeded', ChecksumMode: 'ENABLED' }),
    );
    assert.equal(await seeded.Body?.transformToString(), 'seeded body');
  });

  test('Range reads return 206 with Content-Range; unsatisfiable ranges are InvalidRange', async () => {
    fake.s3.putObject('logs-bucket', 'digits', '0123456789');
    const read = async (Range: string) => {
      const out = await c.s3.send(new GetObjectCommand({ Bucket: 'logs-bucket', Key: 'digits', Range }));
      return [out.ContentRange, await out.Body?.transformToString()];
    };
    assert.deepEqual(await read('bytes=0-3'), ['bytes 0-3/10', '0123']);
    assert.deepEqual(await read('bytes=7-'), ['bytes 7-9/10', '789']);
    assert.deepEqual(await read('bytes=-2'), ['bytes 8-9/10', '89']);
    assert.deepEqual(await read('bytes=5-100'), ['bytes 5-9/10', '56789']);
    const err = await rejection(
      c.s3.send(new GetObjectCommand({ Bucket: 'logs-bucket', Key: 'digits', Range: 'bytes=10-' })),
    );
    assert.equal(err.name, 'InvalidRange');
    assert.equal(status(err), 416);
  });

  test('a large object streams whole and by range', async () => {
    const big = Buffer.alloc(24 << 20);
    for (let i = 0; i < big.length; i += 4096) big.writeUInt32BE(i, i);
    fake.s3.putObject('logs-bucket', 'big.bin', big);
    const whole = await c.s3.send(new GetObjectCommand({ Bucket: 'logs-bucket', Key: 'big.bin' }));
    const hash = createHash('sha256');
    let chunks = 0;
    for await (const chunk of whole.Body as Readable) {
      hash.update(chunk as Buffer);
      chunks++;
    }
    assert.equal(hash.digest('hex'), createHash('sha256').update(big).digest('hex'));
    assert.ok(chunks > 1, 'streamed in several chunks');
    const start = (10 << 20) + 3;
    const part = await c.s3.send(
      new GetObjectCommand({
        Bucket: 'logs-bucket',
        Key: 'big.bin',
        Range: `bytes=${start}-${start + 9999}`,
      }),
    );
    assert.deepEqual(
      Buffer.from(await part.Body!.transformToByteArray()),
      big.subarray(start, start + 10_000),
    );
  });

  test('missing buckets and keys, denied objects and preconditions answer with S3 errors', async () => {
    const noKey = await rejection(c.s3.send(new GetObjectCommand({ Bucket: 'logs-bucket', Key: 'missing' })));
    assert.deepEqual([noKey.name, status(noKey), noKey.Key], ['NoSuchKey', 404, 'missing']);
    const noBucket = await rejection(c.s3.send(new GetObjectCommand({ Bucket: 'no-such-bucket', Key: 'k' })));
    assert.deepEqual([noBucket.name, status(noBucket)], ['NoSuchBucket', 404]);
    const head = await rejection(c.s3.send(new HeadObjectCommand({ Bucket: 'logs-bucket', Key: 'missing' })));
    assert.deepEqual([head.name, status(head)], ['NotFound', 404]);

    fake.s3.putObject('logs-bucket', 'secret', 'hidden');
    fake.s3.setAccessDenied('logs-bucket', 'secret');
    const denied = await rejection(c.s3.send(new GetObjectCommand({ Bucket: 'logs-bucket', Key: 'secret' })));
    assert.deepEqual([denied.name, status(denied)], ['AccessDenied', 403]);
    assert.equal(
      status(await rejection(c.s3.send(new HeadObjectCommand({ Bucket: 'logs-bucket', Key: 'secret' })))),
      403,
    );
    fake.s3.setAccessDenied('logs-bucket', 'secret', false);
    const { ETag } = await c.s3.send(new HeadObjectCommand({ Bucket: 'logs-bucket', Key: 'secret' }));
    const notModified = await rejection(
      c.s3.send(new GetObjectCommand({ Bucket: 'logs-bucket', Key: 'secret', IfNoneMatch: ETag })),
    );
    assert.equal(status(notModified), 304);
    const failed = await rejection(
      c.s3.send(new GetObjectCommand({ Bucket: 'logs-bucket', Key: 'secret', IfMatch: '"other"' })),
    );
    assert.equal(failed.name, 'PreconditionFailed');
  });

  test('a bucket in another region answers 301 PermanentRedirect; the SDK follows x-amz-bucket-region', async () => {
    fake.s3.createBucket('ap-southeast-2', 'sydney-logs');
    fake.s3.putObject('sydney-logs', 'k', 'from sydney');
    const since = Date.now();
    const got = await c.s3.send(new GetObjectCommand({ Bucket: 'sydney-logs', Key: 'k' }));
    assert.equal(await got.Body?.transformToString(), 'from sydney');
    const calls = fake.requestsFor({ since, operation: 'GetObject' }).map((r) => [r.region, r.status]);
    assert.deepEqual(calls, [
      [REGION, 301],
      ['ap-southeast-2', 200],
    ]);
    const strict = new S3Client({
      region: REGION,
      endpoint: fake.endpoint,
      forcePathStyle: true,
      credentials: KEYS,
      maxAttempts: 1,
    });
    const err = await rejection(strict.send(new GetObjectCommand({ Bucket: 'sydney-logs', Key: 'k' })));
    assert.deepEqual([err.name, status(err)], ['PermanentRedirect', 301]);
    strict.destroy();
  });

  test('queue notifications: test event, then native S3 records with URL-encoded keys, filtered', async () => {
    fake.sqs.createQueue(REGION, 'bucket-events');
    await c.s3.send(new CreateBucketCommand({ Bucket: 'notifying' }));
    const QueueArn = `arn:aws:sqs:${REGION}:123456789012:bucket-events`;
    await c.s3.send(
      new PutBucketNotificationConfigurationCommand({
        Bucket: 'notifying',
        NotificationConfiguration: {
          QueueConfigurations: [
            {
              Id: 'trail',
              QueueArn,
              Events: ['s3:ObjectCreated:*'],
              Filter: {
                Key: {
                  FilterRules: [
                    { Name: 'prefix', Value: 'AWSLogs/' },
                    { Name: 'suffix', Value: '.gz' },
                  ],
                },
              },
            },
          ],
        },
      }),
    );
    const config = await c.s3.send(new GetBucketNotificationConfigurationCommand({ Bucket: 'notifying' }));
    assert.equal(config.QueueConfigurations?.[0]?.QueueArn, QueueArn);
    assert.deepEqual(
      config.QueueConfigurations?.[0]?.Filter?.Key?.FilterRules?.map((r) => r.Value),
      ['AWSLogs/', '.gz'],
    );

    const key = 'AWSLogs/123456789012/CloudTrail/eu-west-1/2026/a b+c=d.json.gz';
    await c.s3.send(new PutObjectCommand({ Bucket: 'notifying', Key: key, Body: 'gzipped' }));
    fake.s3.putObject('notifying', 'AWSLogs/direct.gz', Buffer.from('direct'));
    fake.s3.putObject('notifying', 'other/skip.gz', 'no');
    fake.s3.putObject('notifying', 'AWSLogs/skip.txt', 'no');

    const bodies = fake.sqs.messages(REGION, 'bucket-events').map((m) => JSON.parse(m.body));
    assert.equal(bodies.length, 3);
    assert.equal(bodies[0].Event, 's3:TestEvent');
    assert.equal(bodies[0].Bucket, 'notifying');
    const record = bodies[1].Records[0];
    assert.equal(record.eventSource, 'aws:s3');
    assert.equal(record.eventName, 'ObjectCreated:Put');
    assert.equal(record.awsRegion, REGION);
    assert.equal(record.s3.configurationId, 'trail');
    assert.equal(record.s3.bucket.name, 'notifying');
    assert.equal(record.s3.bucket.arn, 'arn:aws:s3:::notifying');
    assert.equal(record.s3.object.key, 'AWSLogs/123456789012/CloudTrail/eu-west-1/2026/a+b%2Bc%3Dd.json.gz');
    assert.equal(decodeURIComponent(record.s3.object.key.replace(/\+/g, ' ')), key);
    assert.equal(record.s3.object.size, 7);
    assert.equal(record.s3.object.eTag, createHash('md5').update('gzipped').digest('hex'));
    assert.match(record.s3.object.sequencer, /^[0-9A-F]{16,}$/);
    assert.equal(bodies[2].Records[0].s3.object.key, 'AWSLogs/direct.gz');
  });

  test('notification destinations are validated as S3 does', async () => {
    fake.sqs.createQueue(REGION, 'events.fifo', { FifoQueue: 'true' });
    fake.sqs.createQueue('us-west-2', 'far-away');
    for (const QueueArn of [
      `arn:aws:sqs:${REGION}:123456789012:not-there`,
      `arn:aws:sqs:${REGION}:123456789012:events.fifo`,
      'arn:aws:sqs:us-west-2:123456789012:far-away',
    ]) {
      const err = await rejection(
        c.s3.send(
          new PutBucketNotificationConfigurationCommand({
            Bucket: 'logs-bucket',
            NotificationConfiguration: {
              QueueConfigurations: [{ QueueArn, Events: ['s3:ObjectCreated:*'] }],
            },
          }),
        ),
      );
      assert.equal(err.name, 'InvalidArgument', QueueArn);
    }
  });

  test('faults: SlowDown throttling is retried, a malformed GetObject breaks the body stream', async () => {
    fake.s3.putObject('logs-bucket', 'faulty', 'payload');
    fake.inject({ service: 's3', operation: 'GetObject', kind: 'throttle', times: 1 });
    const err = await rejection(c.s3.send(new GetObjectCommand({ Bucket: 'logs-bucket', Key: 'faulty' })));
    assert.deepEqual([err.name, status(err)], ['SlowDown', 503]);
    fake.inject({ service: 's3', operation: 'GetObject', kind: 'throttle', times: 1 });
    const retrying = clients(fake, { maxAttempts: 2 });
    const ok = await retrying.s3.send(new GetObjectCommand({ Bucket: 'logs-bucket', Key: 'faulty' }));
    assert.equal(ok.$metadata.attempts, 2);
    assert.equal(await ok.Body?.transformToString(), 'payload');
    retrying.destroy();
    fake.inject({ service: 's3', operation: 'GetObject', kind: 'malformed', times: 1 });
    await rejection(
      c.s3
        .send(new GetObjectCommand({ Bucket: 'logs-bucket', Key: 'faulty' }))
        .then((r) => r.Body?.transformToString()),
    );
    fake.inject({ service: 's3', operation: 'HeadObject', kind: '5xx', times: 1 });
    const server = await rejection(
      c.s3.send(new HeadObjectCommand({ Bucket: 'logs-bucket', Key: 'faulty' })),
    );
    assert.equal(status(server), 500);
  });
});
