import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { after, before, test } from 'node:test';
import { generateObject } from '../../../bench/s3-objects.js';
import { startFakeAws, type FakeAws } from '../../../sandbox/fake-aws/index.js';
import { nativeNotification } from './fixtures.js';

/**
 * Bounded memory, in the tests' size: the worker (in its own process, see memory-child.ts) reads
 * a 16 MiB object — its heap and buffers reach their working size — then a 64 MiB one, behind an
 * output slower than the reader. Reading the larger object must not raise the peak RSS by more
 * than a fraction of its size: a reader that buffered instead of pausing would hold most of it.
 * The 1 GiB figures per format are in bench/s3-objects.ts.
 */
const REGION = 'eu-west-1';
const QUEUE = 'memory-vpc';
const BUCKET = 'memory-bucket';
const MIB = 1024 * 1024;
const GROWTH_LIMIT_MB = 24;

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
    const onExit = (code: number | null): void => reject(new Error(`memory child exited early (code ${code})`));
    from.once('exit', onExit);
    from.once('message', (m) => {
      from.off('exit', onExit);
      resolve(m as T);
    });
  });
}

test('reading a 4 times larger object barely raises the worker process peak RSS', { timeout: 60_000 }, async () => {
  fake.sqs.createQueue(REGION, QUEUE);
  fake.s3.createBucket(REGION, BUCKET);
  const objects = { small: await generateObject('vpcflowlogs', 16 * MIB), large: await generateObject('vpcflowlogs', 64 * MIB) };
  for (const [key, object] of Object.entries(objects)) fake.s3.putObject(BUCKET, key, object.body);

  child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(new URL('./memory-child.ts', import.meta.url))], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    env: {
      ...process.env,
      MEMORY_CHILD: JSON.stringify({ endpoint: fake.endpoint, queue: QUEUE, service: { max_bytes_in_flight: 8 * MIB } }),
    },
  });
  await reply(child);
  const read = async (key: keyof typeof objects): Promise<number> => {
    const done = reply<{ peakRss: number }>(child!);
    child!.send({ read: objects[key].events });
    fake.sqs.send(REGION, QUEUE, nativeNotification([{ bucket: BUCKET, key, region: REGION }]));
    return (await done).peakRss;
  };
  const small = await read('small');
  const large = await read('large');
  child.send({ exit: true });
  await new Promise((resolve) => child!.once('exit', resolve));
  child = undefined;

  const growthMb = (large - small) / 1e6;
  assert.ok(
    (console.log({ small: small / 1e6, large: large / 1e6 }), growthMb < GROWTH_LIMIT_MB),
    `peak RSS ${Math.round(small / 1e6)} MB reading 16 MiB, ${Math.round(large / 1e6)} MB reading 64 MiB`,
  );
  assert.equal(fake.sqs.stats(REGION, QUEUE).deleted, 2);
});
