import type { AwsClients } from '../src/aws/clients.js';
import { configSchema } from '../src/config/schema.js';
import type { Output } from '../src/outputs/output.js';
import { systemClock } from '../src/runtime/clock.js';
import { Delivery } from '../src/runtime/delivery.js';
import { boundHeapGrowth } from '../src/runtime/memory.js';
import { workerContext, type WorkerContext } from '../src/services/service.js';
import { FileStateStore } from '../src/state/file-store.js';
import type { Logger } from '../src/telemetry/logger.js';
import type { Metrics } from '../src/telemetry/metrics.js';

export interface BenchPipeline {
  /** The context of one worker of `serviceName` in `region`, delivering to the output. */
  context(serviceName: string, region: string): WorkerContext;
  readonly state: FileStateStore;
  /** Aborts every context's signal (the collector stopping). */
  readonly abort: AbortController;
  /** No more admissions; waits (up to 5 s) for what was admitted to be acknowledged or released. */
  drain(): Promise<void>;
}

/**
 * What the collector puts between its workers and an output: delivery with the default in-flight
 * window (globals.max_in_flight_events / max_in_flight_bytes) and a file state store in `stateDir`.
 * Bounds this process's heap growth as `devo-aws-collector run` does, so peak RSS figures are the
 * product's.
 */
export function benchPipeline(options: {
  output: Output;
  aws: AwsClients;
  stateDir: string;
  logger: Logger;
  metrics: Metrics;
  inputId?: string;
}): BenchPipeline {
  const { output, aws, logger, metrics } = options;
  boundHeapGrowth();
  const globals = configSchema.shape.globals.parse({});
  const delivery = new Delivery(
    [output],
    { maxEvents: globals.max_in_flight_events, maxBytes: globals.max_in_flight_bytes },
    metrics,
    logger,
  );
  const state = new FileStateStore(options.stateDir);
  const abort = new AbortController();
  return {
    state,
    abort,
    drain: async () => {
      delivery.close();
      await delivery.drain(5_000);
    },
    context: (serviceName, region) =>
      workerContext(
        {
          inputId: options.inputId ?? 'bench',
          aws,
          state,
          logger,
          metrics,
          clock: systemClock,
          ackMessages: true,
          signal: abort.signal,
          delivery,
        },
        serviceName,
        region,
      ),
  };
}

/** Peak RSS of this process, sampled every `intervalMs` until stop(). */
export function rssSampler(intervalMs = 50): { stop(): number } {
  let peak = process.memoryUsage.rss();
  const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage.rss())), intervalMs);
  return {
    stop: () => {
      clearInterval(timer);
      return peak;
    },
  };
}
