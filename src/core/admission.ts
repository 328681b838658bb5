/**
 * A weighted semaphore, served in arrival order: holders take amounts of a fixed capacity and give
 * them back. Bounds what one worker has in flight — objects being read (amount 1 each) and event
 * bytes handed to delivery but not yet acknowledged — whatever the number of messages in flight.
 */
export class Budget {
  private used = 0;
  private readonly waiters: { amount: number; grant: () => void }[] = [];

  constructor(readonly capacity: number) {
    if (!(Number.isInteger(capacity) && capacity >= 1)) {
      throw new RangeError(`budget capacity must be a positive integer, got ${capacity}`);
    }
  }

  /**
   * Waits until `amount` fits, then takes it; resolves with the function that gives it back
   * (idempotent). An amount larger than the capacity is granted when nothing else is held, so it
   * never waits forever. Rejects with the signal's reason if `signal` aborts first.
   */
  async acquire(amount: number, signal: AbortSignal): Promise<() => void> {
    signal.throwIfAborted();
    if (this.waiters.length === 0 && this.fits(amount)) {
      this.used += amount;
      return this.giver(amount);
    }
    await new Promise<void>((resolve, reject) => {
      const waiter = {
        amount,
        grant: () => {
          signal.removeEventListener('abort', onAbort);
          resolve();
        },
      };
      const onAbort = (): void => {
        const i = this.waiters.indexOf(waiter);
        if (i >= 0) this.waiters.splice(i, 1);
        reject(signal.reason);
        // The head of the queue may have been what blocked the others.
        this.wake();
      };
      this.waiters.push(waiter);
      signal.addEventListener('abort', onAbort, { once: true });
    });
    return this.giver(amount);
  }

  /** Amount held now. */
  get held(): number {
    return this.used;
  }

  private fits(amount: number): boolean {
    return this.used === 0 || this.used + amount <= this.capacity;
  }

  private giver(amount: number): () => void {
    let given = false;
    return () => {
      if (given) return;
      given = true;
      this.used -= amount;
      this.wake();
    };
  }

  /** Grants waiters in order while the first one fits (taken here, so nobody overtakes it). */
  private wake(): void {
    while (this.waiters.length > 0 && this.fits((this.waiters[0] as { amount: number }).amount)) {
      const next = this.waiters.shift() as { amount: number; grant: () => void };
      this.used += next.amount;
      next.grant();
    }
  }
}
