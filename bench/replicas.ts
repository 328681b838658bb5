import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { startFakeAws, type FakeAws } from '../sandbox/fake-aws/index.js';
import { REDIS_PASSWORD, startRedis } from '../sandbox/redis.js';
import { writeReplicaConfig } from '../sandbox/replicas.js';
import type { BenchResult } from './types.js';

/**
 * Scale-out: the same pull tasks (2 CloudWatch Logs groups × 3 regions) run by 1 and by 3 replicas
 * of the CLI sharing a redis-server, from the fake AWS to each replica's stdout (console output),
 * with the real rate limits (FilterLogEvents: 5 pages/s per region). Timed from the first lease
 * taken (after start-up) until every event was written; duplicates are counted. Pulls every second,
 * so a task is pulled soon after it is taken.
 * Sizes: BENCH_REPLICAS_SCALE (default 1) × 40,000 events per group.
 */
const SCALE = Number(process.env.BENCH_REPLICAS_SCALE ?? 1);
const REGIONS = ['eu-west-1', 'us-east-1', 'ap-southeast-2'];
const GROUPS = ['/bench/a', '/bench/b'];
const PER_GROUP = 40_000 * SCALE;
const MINUTE = 60_000;
const cli = join(dirname(fileURLToPath(import.meta.url)), '../src/cli/main.js');

function seed(fake: FakeAws, start: number): void {
  for (const region of REGIONS)
    for (const group of GROUPS) {
      fake.logs.createLogGroup(region, group);
      fake.logs.putEvents(
        region,
        group,
        's',
        Array.from({ length: PER_GROUP }, (_, i) => ({
          timestamp: start + i,
          message: `${region} ${group} request ${i} served in ${i % 97} ms status=200`,
        })),
      );
    }
}

async function measure(
  replicas: number,
  fake: FakeAws,
  redisPort: number,
  dir: string,
  start: number,
): Promise<BenchResult> {
  const services = GROUPS.map(
    (group, i) =>
      `      cwl_${i}: { types: [logs], log_group: ${group}, regions: [${REGIONS.join(', ')}], start_time: '${new Date(start - MINUTE).toISOString()}', request_period_in_seconds: 1 }`,
  ).join('\n');
  const config = writeReplicaConfig({
    dir,
    endpoint: fake.endpoint,
    redisPort,
    keyPrefix: `bench-${replicas}:`,
    services,
  });
  const expected = REGIONS.length * GROUPS.length * PER_GROUP;
  const seen = new Map<string, number>();
  let lines = 0;
  let firstLease: bigint | undefined;
  let done: () => void;
  let fail: (err: Error) => void;
  const finished = new Promise<void>((resolve, reject) => ((done = resolve), (fail = reject)));
  const children: ChildProcess[] = [];
  const logs: string[] = [];
  for (let r = 0; r < replicas; r++) {
    const child = spawn(process.execPath, [cli, 'run', '--config', config], {
      cwd: dir,
      env: { ...process.env, REDIS_PASSWORD },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.push(child);
    const at = logs.push('') - 1;
    child.once('exit', (code) => {
      if (lines < expected)
        fail(new Error(`replica exited (${code}) before the end: ${logs[at]!.slice(-2000)}`));
    });
    let partial = '';
    child.stdout!.on('data', (d: Buffer) => {
      const text = partial + d.toString();
      const complete = text.split('\n');
      partial = complete.pop()!;
      for (const line of complete) {
        // The request number, region and group name the event: duplicates are counted.
        const id = /"message":"(\S+ \S+ request \d+)/.exec(line)?.[1] ?? line;
        seen.set(id, (seen.get(id) ?? 0) + 1);
        if (seen.get(id) === 1 && ++lines === expected) done();
      }
    });
    child.stderr!.on('data', (d: Buffer) => {
      logs[at] += d.toString();
      if (firstLease === undefined && d.toString().includes('"event":"lease_taken"'))
        firstLease = process.hrtime.bigint();
    });
  }
  await finished;
  const seconds = Number(process.hrtime.bigint() - firstLease!) / 1e9;
  await Promise.all(
    children.map((c) => new Promise((resolve) => (c.once('exit', resolve), c.kill('SIGTERM')))),
  );
  const duplicates = [...seen.values()].reduce((n, count) => n + count - 1, 0);
  const lost = logs.reduce((n, log) => n + log.split('"event":"lease_lost"').length - 1, 0);
  return {
    name: `pull tasks, ${replicas} replica${replicas > 1 ? 's' : ''} (CLI on Redis leases, fake AWS → stdout)`,
    events: lines,
    seconds: Math.round(seconds * 1000) / 1000,
    eventsPerSecond: Math.round(lines / seconds),
    notes: `${GROUPS.length} log groups × ${REGIONS.length} regions = 6 tasks; FilterLogEvents rate limit on (5 pages/s per region); ${duplicates} duplicates, ${lost} leases lost; timed from the first lease (default lease TTL: the first is taken 10 s after start)`,
  };
}

export async function run(): Promise<BenchResult[]> {
  const fake = await startFakeAws();
  const redis = await startRedis();
  const dir = mkdtempSync(join(tmpdir(), 'dac-bench-replicas-'));
  try {
    const start = Date.now() - 30 * MINUTE;
    seed(fake, start);
    const results: BenchResult[] = [];
    for (const replicas of [1, 3]) results.push(await measure(replicas, fake, redis.port, dir, start));
    return results;
  } finally {
    await redis.stop();
    await fake.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  for (const r of await run()) console.log(JSON.stringify(r));
}
