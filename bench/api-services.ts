import { mkdtempSync, rmSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { startFakeAws, type FakeAws } from '../sandbox/fake-aws/index.js';
import { AwsClients } from '../src/aws/clients.js';
import { logsSchema, predefinedServiceSchemas } from '../src/config/schema.js';
import { definition as fileOutput } from '../src/outputs/file/index.js';
import type { Output } from '../src/outputs/output.js';
import { createCloudTrailApiWorker } from '../src/services/audit-events-all/audits-api.js';
import { LogsWorker, readIntervalSeconds } from '../src/services/cloudwatch-logs/index.js';
import { MetricsWorker } from '../src/services/metrics-all/index.js';
import type { ServiceWorker, WorkerContext } from '../src/services/definition.js';
import { stateKey } from '../src/state/store.js';
import { silentLogger } from '../src/telemetry/logger.js';
import { Metrics } from '../src/telemetry/metrics.js';
import { benchPipeline, rssSampler } from './pipeline.js';
import type { BenchResult } from './types.js';
import { Secrets } from '../src/telemetry/secrets.js';

/**
 * The three API-pulled services end to end, from the fake AWS (real SDK clients over HTTP on
 * 127.0.0.1) through delivery into a `file` output, with checkpoints saved to a file state store.
 * The per account+region rate limits are turned off (the pipeline's RateLimits) so the collector's own
 * cost is measured; against AWS, LookupEvents is capped at 2 requests/s (100 events/s) and
 * FilterLogEvents at 5 requests/s.
 * Sizes: BENCH_API_SCALE (default 1) × 20,000 CloudTrail events, 100,000 datapoints, 200,000 log events.
 */
const SCALE = Number(process.env.BENCH_API_SCALE ?? 1);
const REGION = 'eu-west-1';
const MINUTE = 60_000;

interface Setup {
  fake: FakeAws;
  aws: AwsClients;
  dir: string;
}

async function measure(
  name: string,
  service: string,
  setup: Setup,
  make: (ctx: WorkerContext) => Promise<ServiceWorker>,
  expected: number,
  notes: string,
): Promise<BenchResult> {
  const metrics = new Metrics();
  const logger = silentLogger();
  const file = join(setup.dir, `${service}.jsonl`);
  const output: Output = fileOutput.create(
    { path: file },
    { name: 'file', configDir: setup.dir, logger, metrics, secrets: new Secrets(), hostname: 'bench' },
  );
  await output.start();
  const pipeline = benchPipeline({
    output,
    aws: setup.aws,
    stateDir: join(setup.dir, `state-${service}`),
    logger,
    metrics,
    rateLimits: { enabled: false },
  });
  const ctx = pipeline.context(service, REGION);
  const worker = await make(ctx);
  const rss = rssSampler();
  const started = process.hrtime.bigint();
  await worker.pull();
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const peak = rss.stop();
  await output.stop();
  await pipeline.state.close();
  const lines = (await readFile(file, 'utf8')).split('\n').length - 1;
  if (lines !== expected) throw new Error(`${name}: ${lines} events written, ${expected} expected`);
  return {
    name,
    events: lines,
    seconds: Math.round(seconds * 1000) / 1000,
    eventsPerSecond: Math.round(lines / seconds),
    peakRssMb: Math.round(peak / 1048576),
    notes,
  };
}

export async function run(): Promise<BenchResult[]> {
  const fake = await startFakeAws();
  const dir = mkdtempSync(join(tmpdir(), 'dac-bench-api-'));
  const aws = new AwsClients({
    credentials: { access_key: 'AKIABENCHBENCHBENCH', access_secret: 'bench-secret' },
    secrets: new Secrets(),
    endpoint: fake.endpoint,
    stsRegion: REGION,
  });
  const setup = { fake, aws, dir };
  const results: BenchResult[] = [];
  try {
    const now = Date.now();

    const trailEvents = 20_000 * SCALE;
    const sources = ['ec2.amazonaws.com', 's3.amazonaws.com', 'iam.amazonaws.com', 'sts.amazonaws.com'];
    for (let i = 0; i < trailEvents; i += 5_000) {
      fake.cloudtrail.addEvents(
        REGION,
        Array.from({ length: Math.min(5_000, trailEvents - i) }, (_, j) => ({
          eventName: 'DescribeInstances',
          eventSource: sources[(i + j) % sources.length]!,
          // 4 events a second, over the hours before now.
          eventTime: now - 10 * MINUTE - Math.floor((i + j) / 4) * 1000,
          requestParameters: {
            instancesSet: { items: [{ instanceId: `i-${(i + j).toString(16).padStart(17, '0')}` }] },
          },
        })),
      );
    }
    const trailConfig = predefinedServiceSchemas['audit-events-all'].parse({
      regions: [REGION],
      types: ['audits_api'],
      auto_event_type: true,
      start_time: new Date(now - 10 * MINUTE - trailEvents * 250 - MINUTE).toISOString(),
    });
    results.push(
      await measure(
        'cloudtrail LookupEvents (fake AWS → file)',
        'audit-events-all',
        setup,
        async (ctx) => createCloudTrailApiWorker(trailConfig, ctx, { settleDelayMs: MINUTE }),
        trailEvents,
        '50 events a page; rate limit off (AWS allows 2 pages/s = 100 events/s per account+region)',
      ),
    );

    // 1,000 metrics × 100 periods, 5 statistics each: 5,000 queries a period, 10 queries × 500 per call.
    const metricCount = 1_000;
    const periods = 100 * SCALE;
    for (let i = 0; i < metricCount; i++) {
      fake.cloudwatch.addMetric(
        REGION,
        {
          Namespace: `AWS/Bench${i % 5}`,
          MetricName: `Metric${i % 13}`,
          Dimensions: [{ Name: 'ResourceId', Value: `r-${i}` }],
        },
        { generated: true },
      );
    }
    const metricsConfig = predefinedServiceSchemas['metrics-all'].parse({
      regions: [REGION],
      period_in_seconds: 60,
      delay_seconds: 120,
    });
    results.push(
      await measure(
        'cloudwatch metrics GetMetricData (fake AWS → file)',
        'metrics-all',
        setup,
        async (ctx) => {
          const end = Math.floor((Date.now() - 2 * MINUTE) / MINUTE) * MINUTE;
          await ctx.state.set(stateKey(ctx.inputId, ctx.serviceName, REGION), {
            next: end - periods * MINUTE,
          });
          return new MetricsWorker(metricsConfig, ctx);
        },
        metricCount * periods,
        `${metricCount} metrics × 5 statistics, catching up ${periods} periods (one event per metric datapoint)`,
      ),
    );

    const logEvents = 200_000 * SCALE;
    fake.logs.createLogGroup(REGION, '/bench/app');
    for (let s = 0; s < 4; s++) {
      fake.logs.putEvents(
        REGION,
        '/bench/app',
        `stream-${s}`,
        Array.from({ length: logEvents / 4 }, (_, i) => ({
          timestamp: now - 10 * MINUTE - (logEvents - i * 4 - s),
          message: `2026-11-20T18:00:00.000Z INFO request ${i} served in ${i % 97} ms path=/api/v1/items/${i % 1013} status=200`,
        })),
      );
    }
    const logsConfig = logsSchema.parse({
      regions: [REGION],
      types: ['logs'],
      log_group: '/bench/app',
      start_time: new Date(now - 10 * MINUTE - logEvents - MINUTE).toISOString(),
    });
    results.push(
      await measure(
        'cloudwatch logs FilterLogEvents (fake AWS → file)',
        'cwl_bench',
        setup,
        async (ctx) => new LogsWorker(logsConfig, ctx),
        logEvents,
        '10,000 events a page, 4 streams; rate limit off (AWS allows 5 pages/s per account+region)',
      ),
    );

    // Many small groups under one prefix: a page per group, in round-robin turns.
    const groups = 300;
    const perGroup = 200 * SCALE;
    for (let g = 0; g < groups; g++) {
      const name = `/bench/lambda/fn-${String(g).padStart(3, '0')}`;
      fake.logs.createLogGroup(REGION, name);
      fake.logs.putEvents(
        REGION,
        name,
        'stream',
        Array.from({ length: perGroup }, (_, i) => ({
          timestamp: now - 10 * MINUTE - (perGroup - i) * 10,
          message: `START RequestId: ${g}-${i} Version: $LATEST duration=${i % 97} ms`,
        })),
      );
    }
    const groupsConfig = logsSchema.parse({
      regions: [REGION],
      types: ['logs'],
      log_group_prefix: '/bench/lambda/',
      start_time: new Date(now - 10 * MINUTE - perGroup * 10 - MINUTE).toISOString(),
    });
    results.push(
      await measure(
        `cloudwatch logs FilterLogEvents, ${groups} groups (fake AWS → file)`,
        'cwl_bench_groups',
        setup,
        async (ctx) => new LogsWorker(groupsConfig, ctx),
        groups * perGroup,
        `${groups} groups under one prefix (DescribeLogGroups), ${perGroup} events each, one page a group; rate limit off (AWS allows 5 pages/s per account+region: a round of ${groups} groups takes at least ${readIntervalSeconds(groups)} s)`,
      ),
    );
  } finally {
    aws.destroy();
    await fake.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  return results;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  for (const r of await run()) console.log(JSON.stringify(r));
}
