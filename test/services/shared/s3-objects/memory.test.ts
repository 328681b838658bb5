import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { after, before, test } from 'node:test';
import { generateObject } from '../../../../bench/s3-objects.js';
import { startFakeAws, type FakeAws } from '../../../../sandbox/fake-aws/index.js';
import { nativeNotification } from './fixtures.js';

/**
 * Bounded memory, in the tests' size: the worker, with its default settings, in its own process
 * (memory-child.ts) whose V8 heap is capped at 64 MB, reads a 64 MiB (uncompressed) VPC Flow Logs
 * object behind an output slower than the reader. A reader that held the object's events — or
 * buffered instead of pausing — would need well over 64 MB of heap and die out of memory; this
 * one must finish with every event delivered and a peak RSS under the 256 MB target. The 1 GiB
 * figures per format are in bench/s3-objects.ts.
 */
const REGION = 'eu-west-1';
const QUEUE = 'memory-vpc';
const BUCKET = 'memory-bucket';
const OBJECT_BYTES = 64 * 1024 * 1024;
const HEAP_LIMIT_MB = 64;
const RSS_LIMIT_MB = 256;

let fake: FakeAws;
let child: ChildProcess | undefined;

before(async () => {
  fake = await startFakeAws();
});
after(async () => {
  child?.kill();
  await fake.stop();
});

function reply<T>(from: ChildProcess): Promise<T> {
  return new Promise((resolve, reject) => {
    const onExit = (code: number | null): void =>
      reject(new Error(`memory child exited early (code ${code})`));
    from.once('exit', onExit);
    from.once('message', (m) => {
      from.off('exit', onExit);
      resolve(m as T);
    });
  });
}

test('a 64 MiB object is read within a 64 MB heap, behind a slow output', { timeout: 60_000 }, async () => {
  fake.sqs.createQueue(REGION, QUEUE);
  fake.s3.createBucket(REGION, BUCKET);
  const object = await generateObject('vpcflowlogs', OBJECT_BYTES);
  fake.s3.putObject(BUCKET, 'big.log.gz', object.body);

  child = spawn(
    process.execPath,
    [
      `--max-old-space-size=${HEAP_LIMIT_MB}`,
      '--import',
      'tsx',
      fileURLToPath(new URL('./memory-child.ts', import.meta.url)),
    ],
    {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      env: { ...process.env, MEMORY_CHILD: JSON.stringify({ endpoint: fake.endpoint, queue: QUEUE }) },
    },
  );
  await reply(child);
  const done = reply<{ peakRss: number }>(child);
  child.send({ read: object.events });
  fake.sqs.send(REGION, QUEUE, nativeNotification([{ bucket: BUCKET, key: 'big.log.gz', region: REGION }]));
  const { peakRss } = await done;
  child.send({ exit: true });
  await new Promise((resolve) => child!.once('exit', resolve));
  child = undefined;

  assert.ok(peakRss / 1e6 < RSS_LIMIT_MB, `peak RSS ${Math.round(peakRss / 1e6)} MB`);
  assert.equal(fake.sqs.stats(REGION, QUEUE).deleted, 1);
});
