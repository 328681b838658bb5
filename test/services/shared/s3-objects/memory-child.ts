import { AwsClients } from '../../../../src/aws/clients.js';
import { predefinedServiceSchemas } from '../../../../src/config/schema.js';
import type { Output } from '../../../../src/outputs/output.js';
import { eventCount, type CollectorEvent } from '../../../../src/core/batch.js';
import { systemClock } from '../../../../src/core/clock.js';
import { Delivery } from '../../../../src/runtime/delivery.js';
import { createNonCloudwatchLogsWorkers } from '../../../../src/services/non-cloudwatch-logs/index.js';
import { workerContext } from '../../../../src/runtime/worker-context.js';
import { FileStateStore } from '../../../../src/state/file-store.js';
import { silentLogger } from '../../../../src/telemetry/logger.js';
import { Metrics } from '../../../../src/telemetry/metrics.js';
import { tempDir } from '../../../helpers/paths.js';
import { RateLimits } from '../../../../src/aws/rate-limiter.js';
import { Secrets } from '../../../../src/telemetry/secrets.js';

/**
 * The collector side of memory.test.ts, alone in its process so its RSS and heap are its own: the
 * non-cloudwatch-logs VPC worker with its default settings, behind the product's default delivery
 * window and an output slower than the reader. For each `{ read: n }` the parent sends, it pulls
 * until n events were delivered, then answers with the peak RSS seen.
 */
interface ChildSettings {
  endpoint: string;
  queue: string;
  /** Tuning, to check that this test catches a reader holding whole objects. */
  limits?: { maxEvents: number; maxBytes: number };
}

const REGION = 'eu-west-1';

/** One batch at a time, a few ms each; keeps nothing but a count. */
class SlowCountingOutput implements Output {
  readonly name = 'slow';
  events = 0;
  private tail: Promise<void> = Promise.resolve();
  async start(): Promise<void> {}
  async stop(): Promise<void> {}
  write(events: readonly CollectorEvent[]): Promise<void> {
    this.tail = this.tail.then(async () => {
      await new Promise((resolve) => setTimeout(resolve, 15));
      this.events += eventCount(events);
    });
    return this.tail;
  }
}

const settings = JSON.parse(process.env.MEMORY_CHILD ?? '{}') as ChildSettings;
const metrics = new Metrics();
const logger = silentLogger();
const output = new SlowCountingOutput();
// globals.max_in_flight_events / max_in_flight_bytes defaults: the worker's own budget must bound memory.
const delivery = new Delivery([output], { maxEvents: 200_000, maxBytes: 256 * 1024 * 1024 }, metrics, logger);
const aws = new AwsClients({
  credentials: { access_key: 'AKIAMEMORYMEMORY', access_secret: 'memory-secret-0000' },
  secrets: new Secrets(),
  endpoint: settings.endpoint,
  stsRegion: REGION,
});
const { dir, cleanup } = tempDir('dac-memory-');
const state = new FileStateStore(dir);
const abort = new AbortController();
const config = predefinedServiceSchemas['non-cloudwatch-logs'].parse({
  regions: [REGION],
  vpcflowlogs_sqs_queue_name: settings.queue,
});
const [worker] = createNonCloudwatchLogsWorkers(
  config,
  workerContext(
    {
      inputId: 'memory',
      aws,
      state,
      logger,
      metrics,
      clock: systemClock,
      rateLimits: new RateLimits(),
      ackMessages: true,
      signal: abort.signal,
      delivery,
    },
    'non-cloudwatch-logs',
    REGION,
  ),
  { waitTimeSeconds: 0, ...(settings.limits ? { limits: settings.limits } : {}) },
);

process.on('message', (message: { read?: number; exit?: true }) => {
  void (async () => {
    if (message.exit) {
      abort.abort();
      await worker!.stop();
      delivery.close();
      await state.close();
      aws.destroy();
      cleanup();
      process.disconnect();
      return;
    }
    const until = output.events + (message.read ?? 0);
    let peakRss = process.memoryUsage.rss();
    const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage.rss())), 5);
    while (output.events < until) {
      await worker!.pull();
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    clearInterval(sampler);
    process.send?.({ peakRss });
  })();
});
process.send?.({ ready: true });
