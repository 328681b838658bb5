/**
 * The one admission mechanism: a weighted semaphore over one or more dimensions (e.g. events and
 * bytes), served in arrival order. Holders take amounts of a fixed capacity and give them back.
 * Bounds what is in flight: the collector's delivery window (events, bytes) and its batches
 * awaiting confirmation, what one S3 worker reads and holds (objects; event bytes), the SQS
 * messages a consumer holds, an HTTP output's concurrent requests.
 */
export class Admission {
  private readonly used: number[];
  /** takeSome() callers waiting for anything to be free: all woken by each release. */
  private readonly watchers: (() => void)[] = [];
  private readonly waiters: {
    amounts: readonly number[];
    grant: () => void;
    reject: (err: unknown) => void;
  }[] = [];

  constructor(
    readonly capacity: readonly number[],
    /** Called after every change of what is held (e.g. to set gauges). */
    private readonly onChange?: (held: readonly number[]) => void,
  ) {
    for (const c of capacity) {
      if (!(Number.isInteger(c) && c >= 1)) {
        throw new RangeError(`admission capacity must be a positive integer, got ${c}`);
      }
    }
    this.used = capacity.map(() => 0);
  }

  /**
   * Waits until `amounts` fit, then takes them; resolves with the function that gives them back
   * (idempotent). Amounts larger than the capacity are granted when nothing is held, so they
   * never wait forever. Rejects with the signal's reason if `signal` aborts first, or with the
   * reason given to close().
   */
  async acquire(amounts: readonly number[], signal?: AbortSignal): Promise<() => void> {
    signal?.throwIfAborted();
    const now = this.tryAcquire(amounts);
    if (now) return now;
    await new Promise<void>((resolve, reject) => {
      const onAbort = (): void => {
        const i = this.waiters.indexOf(waiter);
        if (i >= 0) this.waiters.splice(i, 1);
        reject(signal?.reason);
        // The head of the queue may have been what blocked the others.
        this.wake();
      };
      const waiter = {
        amounts,
        grant: () => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        },
        reject: (err: unknown) => {
          signal?.removeEventListener('abort', onAbort);
          reject(err);
        },
      };
      this.waiters.push(waiter);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
    return this.giver(amounts);
  }

  /** Takes `amounts` at once when they fit and nobody waits before; undefined otherwise. */
  tryAcquire(amounts: readonly number[]): (() => void) | undefined {
    if (this.waiters.length > 0 || !this.fits(amounts)) return undefined;
    this.take(amounts);
    return this.giver(amounts);
  }

  /** One dimension: takes what is free, at most `most`, without waiting (0 when nothing is). */
  takeUpTo(most: number): number {
    if (this.waiters.length > 0) return 0;
    const n = Math.max(0, Math.min(most, (this.capacity[0] as number) - (this.used[0] as number)));
    if (n > 0) this.take([n]);
    return n;
  }

  /**
   * One dimension: waits until something is free, then takes what is, at most `most`; 0 once
   * `signal` aborts. The caller runs after the releases of the same tick, so one woken by a
   * DeleteMessageBatch of ten messages takes all ten units (a grant per release would take one).
   */
  async takeSome(most: number, signal: AbortSignal): Promise<number> {
    while (!signal.aborted) {
      const n = this.takeUpTo(most);
      if (n > 0) return n;
      await new Promise<void>((resolve) => {
        const done = (): void => {
          signal.removeEventListener('abort', done);
          resolve();
        };
        this.watchers.push(done);
        signal.addEventListener('abort', done, { once: true });
      });
    }
    return 0;
  }

  /**
   * Counts `amounts` as held at once, even beyond the capacity: for what is already in and cannot
   * be refused (a batch accepted and now awaiting confirmation), so that later acquisitions wait
   * for it. Returns the function that gives them back (idempotent).
   */
  hold(amounts: readonly number[]): () => void {
    this.take(amounts);
    return this.giver(amounts);
  }

  /** Gives back `amounts` taken by takeUpTo()/takeSome() or acquired (when not through the giver). */
  release(amounts: readonly number[]): void {
    for (let i = 0; i < this.used.length; i++) (this.used[i] as number) -= amounts[i] ?? 0;
    this.wake();
    for (const watcher of this.watchers.splice(0)) watcher();
    this.onChange?.(this.used);
  }

  /** Rejects every waiter with `reason` (e.g. shutdown); what is held stays held until given back. */
  rejectWaiters(reason: unknown): void {
    for (const w of this.waiters.splice(0)) w.reject(reason);
  }

  /** Amounts held now, per dimension. */
  get held(): readonly number[] {
    return this.used;
  }

  private fits(amounts: readonly number[]): boolean {
    if (this.used.every((u) => u === 0)) return true;
    return this.used.every((u, i) => u + (amounts[i] ?? 0) <= (this.capacity[i] as number));
  }

  private take(amounts: readonly number[]): void {
    for (let i = 0; i < this.used.length; i++) (this.used[i] as number) += amounts[i] ?? 0;
    this.onChange?.(this.used);
  }

  private giver(amounts: readonly number[]): () => void {
    let given = false;
    return () => {
      if (given) return;
      given = true;
      this.release(amounts);
    };
  }

  /** Grants waiters in order while the first one fits (taken here, so nobody overtakes it). */
  private wake(): void {
    while (this.waiters.length > 0 && this.fits(this.waiters[0]!.amounts)) {
      const next = this.waiters.shift()!;
      this.take(next.amounts);
      next.grant();
    }
  }
}
