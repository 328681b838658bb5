import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { after, before, test } from 'node:test';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { generateObject, generateParquetFile } from '../../../../bench/s3-objects.js';
import { tempDir } from '../../../helpers/paths.js';
import { startFakeAws, type FakeAws } from '../../../../sandbox/fake-aws/index.js';
import { nativeNotification } from './fixtures.js';

/**
 * Bounded memory, in the tests' size: the worker, with its default settings, in its own process
 * (memory-child.ts) whose V8 heap is capped at 64 MB, reads a 64 MiB (uncompressed) VPC Flow Logs
 * object behind an output slower than the reader. A reader that held the object's events — or
 * buffered instead of pausing — would need well over 64 MB of heap and die out of memory; this
 * one must finish with every event delivered and a peak RSS under the 256 MB target. The 1 GiB
 * figures per format are in bench/s3-objects.ts. The same holds for a 200 MB Parquet flow log, read
 * with ranged GETs a row group (50,000 rows) at a time, in a 96 MB heap.
 */
const REGION = 'eu-west-1';
const QUEUE = 'memory-vpc';
const BUCKET = 'memory-bucket';
const OBJECT_BYTES = 64 * 1024 * 1024;
const PARQUET_BYTES = 200 * 1000 * 1000;
const HEAP_LIMIT_MB = 64;
/** A row group's decoded columns are held at once: more heap than lines need, still far below the object. */
const PARQUET_HEAP_LIMIT_MB = 96;
const RSS_LIMIT_MB = 256;
/** Node 20's default largest semi-space (MB), pinned so both Node versions measure the same heap. */
const SEMI_SPACE_MB = 16;

let fake: FakeAws;
let child: ChildProcess | undefined;

before(async () => {
  fake = await startFakeAws();
  fake.sqs.createQueue(REGION, QUEUE);
  fake.s3.createBucket(REGION, BUCKET);
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

/**
 * Starts the collector child, has it read `body` announced as `key`, and returns its peak RSS;
 * the message must have been deleted.
 */
async function peakRssReading(key: string, body: Buffer, events: number, heapMb: number): Promise<number> {
  fake.s3.putObject(BUCKET, key, body);
  child = spawn(
    process.execPath,
    [
      `--max-old-space-size=${heapMb}`,
      // The bound is about what the reader holds, not V8's young generation: Node 24's V8 grows its
      // semi-spaces to 32 MB (RSS about 100 MB more for the same live heap), Node 20's to 16 MB.
      `--max-semi-space-size=${SEMI_SPACE_MB}`,
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
  child.send({ read: events });
  const deletedBefore = fake.sqs.stats(REGION, QUEUE).deleted;
  fake.sqs.send(REGION, QUEUE, nativeNotification([{ bucket: BUCKET, key, region: REGION }]));
  const { peakRss } = await done;
  child.send({ exit: true });
  await new Promise((resolve) => child!.once('exit', resolve));
  child = undefined;
  assert.equal(fake.sqs.stats(REGION, QUEUE).deleted, deletedBefore + 1);
  return peakRss;
}

test('a 64 MiB object is read within a 64 MB heap, behind a slow output', { timeout: 60_000 }, async () => {
  const object = await generateObject('vpcflowlogs', OBJECT_BYTES);
  const peakRss = await peakRssReading('big.log.gz', object.body, object.events, HEAP_LIMIT_MB);
  assert.ok(peakRss / 1e6 < RSS_LIMIT_MB, `peak RSS ${Math.round(peakRss / 1e6)} MB`);
});

test(
  'a 200 MB Parquet flow log is read a row group at a time, within the same heap and RSS bound',
  { timeout: 240_000 },
  async () => {
    const { dir, cleanup } = tempDir('dac-parquet-');
    let body: Buffer;
    let events: number;
    try {
      const file = join(dir, 'big.log.parquet');
      // Uncompressed pages: the size is reached with a third of the rows GZIP needs.
      ({ events } = generateParquetFile(file, PARQUET_BYTES, 'UNCOMPRESSED', 50_000));
      body = readFileSync(file);
    } finally {
      cleanup();
    }
    const peakRss = await peakRssReading('big.log.parquet', body, events, PARQUET_HEAP_LIMIT_MB);
    assert.ok(body.length >= PARQUET_BYTES);
    assert.ok(peakRss / 1e6 < RSS_LIMIT_MB, `peak RSS ${Math.round(peakRss / 1e6)} MB`);
  },
);
