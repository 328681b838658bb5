import { CollectorError, ErrorCodes } from '../../src/core/errors.js';
import { AwsClients } from '../../src/aws/clients.js';
import { singleMessages, type CollectorEvent } from '../../src/core/batch.js';
import { systemClock, type Clock } from '../../src/core/clock.js';
import { Delivery } from '../../src/runtime/delivery.js';
import type { Accepted, Output } from '../../src/outputs/output.js';
import type { WorkerContext } from '../../src/services/definition.js';
import { workerContext } from '../../src/runtime/worker-context.js';
import { FileStateStore } from '../../src/state/file-store.js';
import type { StateStore } from '../../src/state/store.js';
import { createLogger, silentLogger, type Logger } from '../../src/telemetry/logger.js';
import { Metrics } from '../../src/telemetry/metrics.js';
import { tempDir } from './paths.js';
import { RateLimits, type RateLimitOptions } from '../../src/aws/rate-limiter.js';
import type { DeserializeMiddleware } from '@smithy/types';
import { Secrets } from '../../src/telemetry/secrets.js';

/**
 * An output that keeps what it accepted, one event per message as outputs send them (runs of
 * lines split), and can be made to fail or to slow down, so tests can play an outage: while
 * `failing` is set, writes wait (as a real output retrying would).
 */
export class CaptureOutput implements Output {
  readonly events: CollectorEvent[] = [];
  /** While true, writes stay pending (the output is "down"); they complete once it is cleared. */
  failing = false;
  /** Extra time each write takes, in ms. */
  delayMs = 0;
  /** When set, writes reject with this error (a permanent failure). */
  rejectWith: Error | undefined;
  writes = 0;
  /** While true, accepted writes await their confirmation until confirmAll() (as a stream output's do). */
  holdConfirmations = false;
  private readonly unconfirmed: (() => void)[] = [];
  constructor(readonly name = 'capture') {}
  async start(): Promise<void> {}
  async stop(): Promise<void> {}
  async write(events: readonly CollectorEvent[]): Promise<Accepted | void> {
    this.writes += 1;
    if (this.rejectWith) throw this.rejectWith;
    while (this.failing) await new Promise((r) => setTimeout(r, 20));
    if (this.delayMs > 0) await new Promise((r) => setTimeout(r, this.delayMs));
    this.events.push(...singleMessages(events));
    if (this.holdConfirmations)
      return { confirmed: new Promise((resolve) => this.unconfirmed.push(resolve)) };
  }
  /** Confirms every write accepted so far. */
  confirmAll(): void {
    for (const confirm of this.unconfirmed.splice(0)) confirm();
  }
  byTag(): Map<string, number> {
    const m = new Map<string, number>();
    for (const e of this.events) m.set(e.tag, (m.get(e.tag) ?? 0) + 1);
    return m;
  }
}

export interface Harness {
  aws: AwsClients;
  output: CaptureOutput;
  delivery: Delivery;
  state: StateStore;
  /** The folder of `state`. */
  readonly stateDir: string;
  metrics: Metrics;
  abort: AbortController;
  /** A WorkerContext for one service × region, wired to the real Delivery. */
  context(serviceName: string, region: string, extra?: Partial<WorkerContext>): WorkerContext;
  close(): Promise<void>;
}

/** Real SDK clients pointed at the fake AWS, real delivery into a CaptureOutput, a temporary state folder. */
export function createHarness(options: {
  endpoint: string;
  credentials?: {
    access_key?: string;
    access_secret?: string;
    base_assume_role?: string;
    target_assume_role?: string;
    assume_role_external_id?: string;
  };
  maxInFlightEvents?: number;
  logger?: Logger;
  inputId?: string;
  /** false: API rate limits off (a local fake has no quotas). */
  rateLimits?: RateLimitOptions;
  /** The rate limiters' clock (default: the system's). */
  clock?: Clock;
}): Harness {
  const { dir, cleanup } = tempDir('dac-harness-');
  const aws = new AwsClients({
    credentials: options.credentials ?? {
      access_key: 'AKIATESTTESTTEST',
      access_secret: 'test-secret-key-0000',
    },
    secrets: new Secrets(),
    endpoint: options.endpoint,
    stsRegion: 'us-east-1',
  });
  const output = new CaptureOutput();
  const metrics = new Metrics();
  const logger = options.logger ?? silentLogger();
  const delivery = new Delivery(
    [output],
    { maxEvents: options.maxInFlightEvents ?? 50_000, maxBytes: 256 * 1024 * 1024 },
    metrics,
    logger,
  );
  const state = new FileStateStore(dir);
  const abort = new AbortController();
  const rateLimits = new RateLimits(options.rateLimits, options.clock);
  return {
    aws,
    output,
    delivery,
    state,
    stateDir: dir,
    metrics,
    abort,
    context: (serviceName, region, extra = {}) => ({
      ...workerContext(
        {
          inputId: options.inputId ?? 'test',
          aws,
          state,
          logger,
          metrics,
          ackMessages: true,
          signal: abort.signal,
          clock: systemClock,
          rateLimits,
          delivery,
        },
        serviceName,
        region,
      ),
      ...extra,
    }),
    close: async () => {
      abort.abort();
      delivery.close();
      await delivery.drain(5_000);
      await state.close();
      aws.destroy();
      cleanup();
    },
  };
}

/** From the `after`-th write on, the output refuses every write (a permanent failure); returns the undo. */
export function failAfterWrites(h: Harness, after: number): () => void {
  const write = h.output.write.bind(h.output);
  let writes = 0;
  h.output.write = async (events) => {
    if (++writes > after) throw new CollectorError(ErrorCodes.OUTPUT_REJECTED, 'test output refuses writes');
    return write(events);
  };
  return () => {
    h.output.write = write;
  };
}

/**
 * Counts the requests `client` has on their way (past the rate limiter and signing, until their
 * response is read), e.g. for SimClock's `settled`.
 */
export function requestsInFlight(client: {
  middlewareStack: {
    add(mw: DeserializeMiddleware<object, object>, options: { step: 'deserialize'; name: string }): void;
  };
}): () => number {
  let count = 0;
  client.middlewareStack.add(
    (next) => async (args) => {
      count++;
      try {
        return await next(args);
      } finally {
        count--;
      }
    },
    { step: 'deserialize', name: 'testRequestsInFlight' },
  );
  return () => count;
}

/** Most requests inside any window of `windowMs` (half-open), from sorted times. */
export function busiestWindow(times: number[], windowMs: number): number {
  let most = 0;
  for (let i = 0, j = 0; i < times.length; i++) {
    while (times[i]! - times[j]! >= windowMs) j++;
    most = Math.max(most, i - j + 1);
  }
  return most;
}

/** A logger whose JSON lines the test can read, scrubbed of what `secrets` holds. */
export function capturingLogger(secrets: Secrets = new Secrets()): {
  logger: Logger;
  lines: () => Record<string, unknown>[];
  /** The lines as written, for what parsing would hide (a key written twice). */
  raw: () => string[];
} {
  const raw: string[] = [];
  const logger = createLogger({
    secrets,
    level: 'debug',
    destination: { write: (s: string) => void raw.push(s) },
  });
  return { logger, lines: () => raw.map((l) => JSON.parse(l) as Record<string, unknown>), raw: () => raw };
}
