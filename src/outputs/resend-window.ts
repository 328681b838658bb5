/**
 * The promise a write's bytes keep until the window vouches for them: resolved once they leave the
 * window while their connection is healthy (evicted by newer bytes, aged out, or the peer closed
 * cleanly after reading everything), rejected when they are given up unconfirmed (shutdown).
 */
export interface Confirmation {
  resolve(): void;
  reject(err: Error): void;
}

/** A write taken back from the window to be sent again, with its confirmation still owed. */
export interface Resend {
  readonly data: Buffer;
  readonly confirm: Confirmation | undefined;
}

/** One flushed write kept in the ring: where it starts, its length and when it was flushed. */
interface Entry {
  start: number;
  length: number;
  flushedAt: number;
  confirm: Confirmation | undefined;
}

/**
 * The bytes a stream connection flushed lately (see ConnectionPoolOptions#resendWindowBytes), kept
 * whole per write, oldest evicted first, so that they can be sent again if the connection breaks.
 * A write is confirmed when it leaves the window other than by being taken back for a resend.
 *
 * They are copied into one ring of `capacity` bytes, allocated on the first write, instead of
 * holding the written Buffers: a held Buffer outlives the young generation, only a mark-compact
 * frees its memory, and V8 starts one whenever such external memory has grown by a few tens of
 * MB. Holding 16 MiB windows at 100 MB/s cost 34 mark-compacts for one 512 MB flow-log object in
 * bench/s3-objects.ts (node --trace-gc); with the ring, 2.
 */
export class ResendWindow {
  private ring: Buffer | undefined;
  private entries: Entry[] = [];
  /** Where the next write goes in the ring. */
  private head = 0;
  /** Bytes kept. */
  bytes = 0;

  constructor(private readonly capacity: number) {}

  /** When the newest kept write was flushed (0 when empty). */
  get lastFlushedAt(): number {
    return this.entries.at(-1)?.flushedAt ?? 0;
  }

  /** When the oldest kept write was flushed (undefined when empty). */
  get oldestFlushedAt(): number | undefined {
    return this.entries[0]?.flushedAt;
  }

  /**
   * Keeps a copy of `data`, evicting (confirming) the oldest writes to make room; one larger than
   * the window empties it and is confirmed at once, as is every write to a window of 0 bytes.
   */
  add(data: Buffer, flushedAt: number, confirm?: Confirmation): void {
    const { length } = data;
    if (length > this.capacity) {
      this.settle();
      confirm?.resolve();
      return;
    }
    while (this.bytes + length > this.capacity) this.evict();
    if (this.bytes === 0) this.head = 0;
    this.ring ??= Buffer.allocUnsafe(this.capacity);
    const first = Math.min(length, this.capacity - this.head);
    data.copy(this.ring, this.head, 0, first);
    if (first < length) data.copy(this.ring, 0, first);
    this.entries.push({ start: this.head, length, flushedAt, confirm });
    this.head = (this.head + length) % this.capacity;
    this.bytes += length;
  }

  /** Writes flushed before `before` leave the window, confirmed (aged out). */
  expire(before: number): void {
    while (this.entries.length > 0 && this.entries[0]!.flushedAt < before) this.evict();
  }

  /**
   * After a break: the writes flushed before `since` leave confirmed (see expire); copies of the
   * others are given back, oldest first, with their confirmations still owed, and the window is
   * emptied. Copies, not views of the ring: a view would keep the whole ring alive until it is
   * written again.
   */
  take(since: number): Resend[] {
    this.expire(since);
    const ring = this.ring;
    const taken: Resend[] = [];
    if (ring !== undefined) {
      for (const { start, length, confirm } of this.entries) {
        const end = start + length;
        const data =
          end <= this.capacity
            ? Buffer.from(ring.subarray(start, end))
            : Buffer.concat([ring.subarray(start), ring.subarray(0, end - this.capacity)]);
        taken.push({ data, confirm });
      }
    }
    this.entries = [];
    this.clear();
    return taken;
  }

  /** Empties the window: every kept write is confirmed, or given up with `err`. */
  settle(err?: Error): void {
    const entries = this.entries;
    this.entries = [];
    this.clear();
    for (const { confirm } of entries) {
      if (err) confirm?.reject(err);
      else confirm?.resolve();
    }
  }

  private evict(): void {
    const entry = this.entries.shift()!;
    this.bytes -= entry.length;
    entry.confirm?.resolve();
  }

  private clear(): void {
    this.bytes = 0;
    this.head = 0;
  }
}
