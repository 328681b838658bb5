import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { startFakeAws } from '../../sandbox/fake-aws/index.js';
import { runCli } from '../helpers/cli.js';
import { hostileObject } from '../helpers/hostile.js';
import { tempDir } from '../helpers/paths.js';
import { waitUntil } from '../helpers/wait.js';
import { cloudTrailFile, cloudTrailKey, nativeNotification } from '../services/shared/s3-objects/fixtures.js';

/** Peak resident memory of a process, in MiB (Linux). */
function peakRssMiB(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8')
    .split('\n')
    .find((l) => l.startsWith('VmHWM:'));
  return Number(/(\d+)/.exec(line ?? '')?.[1]) / 1024;
}

test('a crafted CloudTrail object announced with a good one: OBJECT_CORRUPT names it, the good one is delivered, the collector stays up in bounded memory', async (t) => {
  const tmp = tempDir('dac-hostile-');
  const fake = await startFakeAws();
  try {
    const region = 'us-east-1';
    fake.s3.createBucket(region, 'trail-bucket');
    fake.sqs.createQueue(region, 'trail-files');
    const crafted = cloudTrailKey(1, region);
    const good = cloudTrailKey(2, region);
    fake.s3.putObject(
      'trail-bucket',
      crafted,
      await hostileObject('cloudtrail-brackets-outside-records.json.gz'),
    );
    fake.s3.putObject('trail-bucket', good, gzipSync(cloudTrailFile(50)));
    fake.sqs.send(
      region,
      'trail-files',
      nativeNotification([
        { bucket: 'trail-bucket', key: crafted, region },
        { bucket: 'trail-bucket', key: good, region },
      ]),
    );
    const output = join(tmp.dir, 'events.jsonl');
    const config = join(tmp.dir, 'collector.yaml');
    writeFileSync(
      config,
      `globals:
  persistence: { type: filesystem, config: { directory_name: ${join(tmp.dir, 'state')} } }
outputs:
  local: { type: file, config: { path: ${output} } }
inputs:
  aws:
    id: hostile
    endpoint: ${fake.endpoint}
    credentials: { access_key: AKIAE2ETESTKEY, access_secret: e2e-secret-value-44 }
    services:
      audit-events-all: { types: [audits_s3], audit_sqs_queue_name: trail-files, regions: [${region}] }
`,
    );
    const run = runCli(['run', '--config', config]);
    try {
      const delivered = (): number =>
        existsSync(output)
          ? readFileSync(output, 'utf8')
              .split('\n')
              .filter((l) => l.length > 0).length
          : 0;
      await waitUntil(
        () => fake.sqs.stats(region, 'trail-files').deleted === 1 || run.child.exitCode !== null,
        30_000,
        'the message to be deleted, or the collector to exit',
      );
      assert.equal(run.child.exitCode, null, `the collector is still running:\n${run.stderr().slice(-2000)}`);
      assert.equal(delivered(), 50, "the good object's events arrived");
      const corrupt = run
        .stderr()
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l) as Record<string, unknown>)
        .filter((l) => (l.err as { code?: string } | undefined)?.code === 'OBJECT_CORRUPT');
      assert.equal(corrupt.length, 1, run.stderr());
      assert.equal(corrupt[0]?.bucket, 'trail-bucket');
      assert.equal(corrupt[0]?.objectKey, crafted);
      const peak = peakRssMiB(run.child.pid!);
      t.diagnostic(`peak RSS of the collector: ${peak.toFixed(0)} MiB`);
      assert.ok(peak < 300, `peak RSS ${peak.toFixed(0)} MiB`);
      run.child.kill('SIGTERM');
      assert.equal(await run.exited, 0, run.stderr().slice(-2000));
    } finally {
      run.child.kill('SIGKILL');
    }
  } finally {
    await fake.stop();
    tmp.cleanup();
  }
});
