import { Admission } from '../core/admission.js';
import { describeError, shuttingDownError } from '../core/errors.js';
import type { Output } from '../outputs/output.js';
import type { Logger } from '../telemetry/logger.js';
import type { Metrics } from '../telemetry/metrics.js';
import { batchBytes, eventCount, type Batch } from '../core/batch.js';

export interface DeliveryLimits {
  maxEvents: number;
  maxBytes: number;
}

export interface DeliveryLabels {
  service: string;
  region: string;
}

/**
 * Fans every batch out to every output and acknowledges it when all accepted (at-least-once).
 * An in-flight window (events and bytes admitted but not yet acknowledged) bounds memory: when
 * it is full, admit() waits, which stops the services from pulling — block, never drop.
 */
export class Delivery {
  /** Events and bytes admitted and not yet acknowledged or released. */
  private readonly window: Admission;
  private readonly active = new Set<Promise<void>>();
  private closed = false;

  constructor(
    private readonly outputs: readonly Output[],
    private readonly limits: DeliveryLimits,
    private readonly metrics: Metrics,
    private readonly logger: Logger,
  ) {
    this.window = new Admission([limits.maxEvents, limits.maxBytes], ([events, bytes]) => {
      this.metrics.inFlightEvents.set(events as number);
      this.metrics.inFlightBytes.set(bytes as number);
    });
  }

  /**
   * Waits for room in the window, then starts delivering the batch in the background and
   * resolves. ack()/release() of the batch are called when delivery ends. An empty batch is
   * acknowledged at once (its source still has to move on).
   */
  async admit(batch: Batch, labels: DeliveryLabels): Promise<void> {
    const events = eventCount(batch.events);
    const bytes = batchBytes(batch.events);
    if (this.closed) {
      const err = shuttingDownError();
      await batch.release(err);
      throw err;
    }
    // A batch larger than the window is admitted alone, so it can never wait forever.
    let give: () => void;
    try {
      give = await this.window.acquire([events, bytes]);
    } catch (err) {
      await batch.release(err as Error);
      throw err;
    }
    this.metrics.eventsPulled.inc(labels, events);
    const run = this.deliver(batch, labels, events, give);
    this.active.add(run);
    void run.finally(() => this.active.delete(run));
  }

  private async deliver(
    batch: Batch,
    labels: DeliveryLabels,
    events: number,
    give: () => void,
  ): Promise<void> {
    try {
      // Every output settles before the batch is released: an output still writing holds the events,
      // so the window stays taken (bounded memory) and the source does not hand them out again yet.
      if (events > 0) {
        const results = await Promise.allSettled(this.outputs.map((o) => o.write(batch.events)));
        const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
        if (failed) throw failed.reason;
      }
    } catch (err) {
      this.logger.warn(
        { source: batch.source, events, err },
        `delivery failed, releasing batch: ${describeError(err)}`,
      );
      await safely(() => batch.release(err as Error), this.logger, batch.source);
      give();
      return;
    }
    try {
      await batch.ack();
      this.metrics.eventsDelivered.inc(labels, events);
      // Counted per tag once a batch, not once an event: a label lookup per event costs too much.
      const perTag = new Map<string, number>();
      for (const e of batch.events) perTag.set(e.tag, (perTag.get(e.tag) ?? 0) + (e.lines ?? 1));
      for (const [tag, n] of perTag) this.metrics.tagEventsDelivered.inc({ tag }, n);
    } catch (err) {
      this.metrics.errors.inc({ ...labels, code: (err as { code?: string }).code ?? 'ACK_FAILED' });
      this.logger.error(
        { source: batch.source, err },
        `acknowledging a delivered batch failed: ${describeError(err)}`,
      );
    } finally {
      give();
    }
  }

  get inFlight(): { events: number; bytes: number; batches: number } {
    const [events, bytes] = this.window.held as [number, number];
    return { events, bytes, batches: this.active.size };
  }

  /** Waits until every admitted batch was acknowledged or released, or `timeoutMs` passed. True if drained. */
  async drain(timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (this.active.size > 0) {
      const left = deadline - Date.now();
      if (left <= 0) return false;
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        Promise.allSettled([...this.active]),
        new Promise<void>((resolve) => {
          timer = setTimeout(resolve, left);
        }),
      ]);
      clearTimeout(timer);
    }
    return true;
  }

  /** No more admissions: waiting admits are rejected with SHUTTING_DOWN (their batches released). */
  close(): void {
    this.closed = true;
    this.window.rejectWaiters(shuttingDownError());
  }
}

async function safely(fn: () => Promise<void>, logger: Logger, source: string): Promise<void> {
  try {
    await fn();
  } catch (err) {
    logger.error({ source, err }, `releasing a batch failed: ${describeError(err)}`);
  }
}
