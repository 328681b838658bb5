/**
 * Gathers entries into SQS batch calls (at most `max` a call): a call goes out as soon as `max`
 * entries are waiting, or `lingerMs` after the first one, so acknowledgements arriving close
 * together share one DeleteMessageBatch. `send` must not reject (it reports its own failures).
 */
export class EntryBatcher<T> {
  private pending: T[] = [];
  private timer: NodeJS.Timeout | undefined;
  private readonly inFlight = new Set<Promise<void>>();

  constructor(
    private readonly max: number,
    private readonly lingerMs: number,
    private readonly send: (batch: T[]) => Promise<void>,
  ) {}

  add(entry: T): void {
    this.pending.push(entry);
    if (this.pending.length >= this.max) this.sendPending();
    else this.timer ??= setTimeout(() => this.sendPending(), this.lingerMs);
  }

  /** Sends what is waiting now and resolves once every call under way has finished. */
  async flush(): Promise<void> {
    this.sendPending();
    while (this.inFlight.size > 0) await Promise.all([...this.inFlight]);
  }

  private sendPending(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    while (this.pending.length > 0) {
      const run = this.send(this.pending.splice(0, this.max));
      this.inFlight.add(run);
      void run.finally(() => this.inFlight.delete(run));
    }
  }
}
