import { Admission } from '../core/admission.js';
import { describeError, shuttingDownError } from '../core/errors.js';
import type { Accepted, Output } from '../outputs/output.js';
import type { Logger } from '../telemetry/logger.js';
import type { Metrics } from '../telemetry/metrics.js';
import { batchBytes, eventCount, type Batch } from '../core/batch.js';

export interface DeliveryLimits {
  maxEvents: number;
  maxBytes: number;
  /**
   * Batches accepted and awaiting confirmation (they hold no events, only what acknowledges them:
   * receipt handles, checkpoints), at most; admissions wait beyond it. Default: maxEvents / 10.
   */
  maxUnconfirmed?: number;
}

export interface DeliveryLabels {
  service: string;
  region: string;
}

/** A batch every output accepted, waiting for their confirmations: what acknowledges it, not its events. */
interface Unconfirmed {
  readonly source: string;
  readonly labels: DeliveryLabels;
  readonly events: number;
  readonly ack: Batch['ack'];
  readonly release: Batch['release'];
}

/**
 * Fans every batch out to every output and acknowledges it when all accepted and confirmed it
 * (docs/design.md, delivery). An in-flight window (events and bytes admitted but not yet accepted)
 * bounds memory: when it is full, admit() waits, which stops the services from pulling — block,
 * never drop. Accepted batches awaiting confirmation leave the window (their events are freed) and
 * are bounded by count (DeliveryLimits#maxUnconfirmed).
 */
export class Delivery {
  /** Events and bytes admitted and not yet accepted by every output. */
  private readonly window: Admission;
  /**
   * One unit per accepted batch awaiting confirmation. An admission passes through it (takes a
   * unit and gives it back at once) before the window, so it waits while the bound is reached.
   */
  private readonly unconfirmedRoom: Admission;
  /** Batches being written, until every output accepted them (or one failed). */
  private readonly active = new Set<Promise<void>>();
  /** Accepted batches, until every output confirmed them (or one gave them up). */
  private readonly unconfirmed = new Set<Promise<void>>();
  private closed = false;

  constructor(
    private readonly outputs: readonly Output[],
    limits: DeliveryLimits,
    private readonly metrics: Metrics,
    private readonly logger: Logger,
    /** Told of every acknowledged batch (worker progress for health). */
    private readonly onAcknowledged: (labels: DeliveryLabels) => void = () => {},
  ) {
    this.window = new Admission([limits.maxEvents, limits.maxBytes], ([events, bytes]) => {
      this.metrics.inFlightEvents.set(events!);
      this.metrics.inFlightBytes.set(bytes!);
    });
    this.unconfirmedRoom = new Admission([
      limits.maxUnconfirmed ?? Math.max(1, Math.ceil(limits.maxEvents / 10)),
    ]);
  }

  /**
   * Waits for room in the window, then starts delivering the batch in the background and
   * resolves. ack()/release() of the batch are called when delivery ends. An empty batch is
   * acknowledged at once (its source still has to move on).
   */
  async admit(batch: Batch, labels: DeliveryLabels): Promise<void> {
    const events = eventCount(batch.events);
    const bytes = batchBytes(batch.events);
    let giveBack: () => void;
    try {
      if (this.closed) throw shuttingDownError();
      (await this.unconfirmedRoom.acquire([1]))();
      // close() may have come between the grant and here: it rejected only those still waiting.
      if (this.closed) throw shuttingDownError();
      // A batch larger than the window is admitted alone (Admission), so it never waits forever.
      giveBack = await this.window.acquire([events, bytes]);
      try {
        if (this.closed) throw shuttingDownError();
        // The wait for room may have outlasted the lease of the batch's task.
        batch.fence?.();
      } catch (err) {
        giveBack();
        throw err;
      }
    } catch (err) {
      await batch.release(err as Error);
      throw err;
    }
    this.metrics.eventsPulled.inc(labels, events);
    const run = this.deliver(batch, labels, events, giveBack);
    this.active.add(run);
    void run.finally(() => this.active.delete(run));
  }

  private async deliver(
    batch: Batch,
    labels: DeliveryLabels,
    events: number,
    giveBack: () => void,
  ): Promise<void> {
    const { source, accepted, ack, release } = batch;
    const confirmations: Promise<void>[] = [];
    try {
      // Every output settles before the batch is released: an output still writing holds the events,
      // so the window stays taken (bounded memory) and the source does not hand them out again yet.
      if (events > 0) {
        const results = await Promise.allSettled(this.outputs.map((o) => o.write(batch.events)));
        const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
        if (failed) throw failed.reason;
        for (const r of results as PromiseFulfilledResult<Accepted | void>[]) {
          if (r.value?.confirmed) confirmations.push(r.value.confirmed);
        }
      }
    } catch (err) {
      this.logger.warn({ source, events, err }, `delivery failed, releasing batch: ${describeError(err)}`);
      await safely(() => release(err as Error), this.logger, source);
      giveBack();
      return;
    }
    // Counted at acceptance, what throughput is (confirmation may come up to resend_window_seconds
    // later); per tag once a batch, not once an event: a label lookup per event costs too much.
    this.metrics.eventsDelivered.inc(labels, events);
    const perTag = new Map<string, number>();
    for (const e of batch.events) perTag.set(e.tag, (perTag.get(e.tag) ?? 0) + (e.lines ?? 1));
    for (const [tag, n] of perTag) this.metrics.tagEventsDelivered.inc({ tag }, n);
    const done: Unconfirmed = { source, labels, events, ack, release };
    // Taken before the window is given back, so the waiters admitted next see it.
    if (confirmations.length > 0) this.awaitConfirmation(done, confirmations);
    accepted?.();
    giveBack();
    if (confirmations.length === 0) await this.acknowledge(done);
  }

  /**
   * Tracks the batch until it is confirmed. Apart from deliver(): a closure made there would keep
   * the batch's events alive (V8 shares one context per scope) until the confirmation.
   */
  private awaitConfirmation(batch: Unconfirmed, confirmations: Promise<void>[]): void {
    const waiting = this.confirm(batch, confirmations);
    const giveBack = this.unconfirmedRoom.hold([1]);
    this.unconfirmed.add(waiting);
    void waiting.finally(() => {
      this.unconfirmed.delete(waiting);
      giveBack();
    });
  }

  /** Acknowledges the batch once every output confirmed it; releases it if one gave it up. */
  private async confirm(batch: Unconfirmed, confirmations: Promise<void>[]): Promise<void> {
    try {
      await Promise.all(confirmations);
    } catch (err) {
      // At shutdown, for bytes no receiver vouched for (the output logs how many): sent again later.
      this.logger.debug(
        { source: batch.source, events: batch.events, err },
        `releasing an unconfirmed batch: ${describeError(err)}`,
      );
      await safely(() => batch.release(err as Error), this.logger, batch.source);
      return;
    }
    await this.acknowledge(batch);
  }

  private async acknowledge(batch: Unconfirmed): Promise<void> {
    try {
      await batch.ack();
      this.onAcknowledged(batch.labels);
    } catch (err) {
      this.metrics.errors.inc({ ...batch.labels, code: (err as { code?: string }).code ?? 'ACK_FAILED' });
      this.logger.error(
        { source: batch.source, err },
        `acknowledging a delivered batch failed: ${describeError(err)}`,
      );
    }
  }

  get inFlight(): { events: number; bytes: number; batches: number; unconfirmed: number } {
    return {
      events: this.window.held[0]!,
      bytes: this.window.held[1]!,
      batches: this.active.size,
      unconfirmed: this.unconfirmed.size,
    };
  }

  /**
   * Waits until every admitted batch was accepted (`until` 'accepted') or also confirmed
   * ('confirmed'), or released, or `timeoutMs` passed. True if drained.
   */
  async drain(timeoutMs: number, until: 'accepted' | 'confirmed' = 'accepted'): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    const pending = (): Promise<void>[] =>
      until === 'accepted' ? [...this.active] : [...this.active, ...this.unconfirmed];
    for (let left = pending(); left.length > 0; left = pending()) {
      const ms = deadline - Date.now();
      if (ms <= 0) return false;
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        Promise.allSettled(left),
        new Promise<void>((resolve) => {
          timer = setTimeout(resolve, ms);
        }),
      ]);
      clearTimeout(timer);
    }
    return true;
  }

  /** No more admissions: waiting admits are rejected with SHUTTING_DOWN (their batches released). */
  close(): void {
    this.closed = true;
    const err = shuttingDownError();
    this.unconfirmedRoom.rejectWaiters(err);
    this.window.rejectWaiters(err);
  }
}

async function safely(fn: () => Promise<void>, logger: Logger, source: string): Promise<void> {
  try {
    await fn();
  } catch (err) {
    logger.error({ source, err }, `releasing a batch failed: ${describeError(err)}`);
  }
}
