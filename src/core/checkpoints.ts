import { ErrorCodes, isCollectorError } from './errors.js';
import { settleOnce, type Batch, type CollectorEvent } from './batch.js';

/**
 * For services that resume from a checkpoint (CloudTrail API, metrics, CloudWatch Logs): batches
 * are acknowledged by delivery in any order, but a checkpoint may only be saved once every batch
 * before it was acknowledged too. The sequencer saves checkpoints in order and stops advancing
 * at the first released batch, so the next pull resumes from the last delivered position:
 * no gap, and duplicates at most what was in flight.
 */
/** Checks of a batch of a leased task; each throws to refuse it (LEASE_LOST). */
export interface BatchChecks {
  /** Before the batch is handed to delivery (may ask Redis). */
  guard(): Promise<void>;
  /** Right before delivery writes it, after it waited for room (local, synchronous). */
  fence(): void;
}

export class CheckpointSequencer<T> {
  private readonly pending: { checkpoint: T; state: 'pending' | 'acked' | 'released' }[] = [];
  private released = false;
  private saving: Promise<void> = Promise.resolve();
  private saveError: unknown;
  private readonly settledWaiters: (() => void)[] = [];

  constructor(
    private readonly save: (checkpoint: T) => Promise<void>,
    /** A leased task's checks of its batches (runtime/task-leases.ts); absent alone. */
    private readonly lease?: BatchChecks,
  ) {}

  /** A batch whose acknowledgement moves the checkpoint to `checkpoint` (once all before it are acknowledged). */
  batch(events: readonly CollectorEvent[], source: string, checkpoint: T): Batch {
    const entry = { checkpoint, state: 'pending' as 'pending' | 'acked' | 'released' };
    this.pending.push(entry);
    const batch = settleOnce(events, source, {
      ack: async () => {
        entry.state = 'acked';
        await this.advance();
      },
      release: async () => {
        entry.state = 'released';
        this.released = true;
        await this.advance();
      },
    });
    return this.lease ? { ...batch, fence: this.lease.fence } : batch;
  }

  /**
   * Hands a batch to delivery. Returns true when the pull should stop: the collector is shutting
   * down, or a batch was released (the next pull resumes from the last saved checkpoint).
   */
  async deliver(
    batch: Batch,
    ctx: { deliver(batch: Batch): Promise<void>; signal: AbortSignal },
  ): Promise<boolean> {
    try {
      await this.lease?.guard();
    } catch (err) {
      // Refused: the batch goes nowhere and holds back every later checkpoint.
      await batch.release(err as Error);
      throw err;
    }
    try {
      await ctx.deliver(batch);
    } catch (err) {
      if (!isCollectorError(err, ErrorCodes.SHUTTING_DOWN)) throw err;
      return true;
    }
    return this.released || ctx.signal.aborted;
  }

  /** True once any batch was released: the pull should stop and resume from the saved checkpoint. */
  get anyReleased(): boolean {
    return this.released;
  }

  /**
   * Waits until every batch handed out so far is acknowledged or released, and saved. Throws if a
   * save failed. Once `signal` aborts it waits only for the saves under way: at shutdown the
   * remaining acknowledgements wait for the outputs to confirm or give up their events, which
   * happens after the pulls ended (they still save their checkpoints then, in order).
   */
  async settled(signal?: AbortSignal): Promise<void> {
    while (this.pending.some((e) => e.state === 'pending') && !signal?.aborted) {
      await new Promise<void>((resolve) => {
        const onAbort = (): void => resolve();
        signal?.addEventListener('abort', onAbort, { once: true });
        this.settledWaiters.push(() => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        });
      });
    }
    await this.saving;
    if (this.saveError !== undefined) throw this.saveError;
  }

  private advance(): Promise<void> {
    let latest: T | undefined;
    let moved = false;
    // A released entry stays at its place and blocks every later checkpoint.
    while (this.pending.length > 0 && this.pending[0]!.state === 'acked') {
      latest = this.pending.shift()!.checkpoint;
      moved = true;
    }
    if (moved) {
      const value = latest as T;
      this.saving = this.saving.then(() =>
        this.save(value).catch((err: unknown) => {
          this.saveError = err;
        }),
      );
    }
    const waiters = this.settledWaiters.splice(0);
    for (const w of waiters) w();
    return this.saving;
  }
}
