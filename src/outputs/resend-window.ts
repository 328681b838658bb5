/** One flushed write kept in the ring: where it starts, its length and when it was flushed. */
interface Entry {
  start: number;
  length: number;
  flushedAt: number;
}

/**
 * The bytes a stream connection flushed lately (see ConnectionPoolOptions#resendWindowBytes), kept
 * whole per write, oldest evicted first, so that they can be sent again if the connection breaks.
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

  /**
   * Keeps a copy of `data`, evicting the oldest writes to make room; one larger than the window
   * empties it. A window of 0 bytes keeps nothing.
   */
  add(data: Buffer, flushedAt: number): void {
    const { length } = data;
    if (this.capacity === 0) return;
    if (length > this.capacity) {
      this.clear();
      return;
    }
    while (this.bytes + length > this.capacity) this.bytes -= this.entries.shift()!.length;
    if (this.bytes === 0) this.head = 0;
    this.ring ??= Buffer.allocUnsafe(this.capacity);
    const first = Math.min(length, this.capacity - this.head);
    data.copy(this.ring, this.head, 0, first);
    if (first < length) data.copy(this.ring, 0, first);
    this.entries.push({ start: this.head, length, flushedAt });
    this.head = (this.head + length) % this.capacity;
    this.bytes += length;
  }

  /**
   * Copies of the writes flushed at or after `since`, oldest first, and empties the window. Copies,
   * not views of the ring: a view would keep the whole ring alive until it is written again.
   */
  take(since: number): Buffer[] {
    const ring = this.ring;
    const taken: Buffer[] = [];
    if (ring !== undefined) {
      for (const { start, length, flushedAt } of this.entries) {
        if (flushedAt < since) continue;
        const end = start + length;
        taken.push(
          end <= this.capacity
            ? Buffer.from(ring.subarray(start, end))
            : Buffer.concat([ring.subarray(start), ring.subarray(0, end - this.capacity)]),
        );
      }
    }
    this.clear();
    return taken;
  }

  /** Forgets every kept write. */
  clear(): void {
    this.entries = [];
    this.bytes = 0;
    this.head = 0;
  }
}
