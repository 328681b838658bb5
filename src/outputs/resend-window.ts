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
 * holding the written Buffers: each held Buffer outlived the young generation, and V8 counts
 * their memory towards the old generation until a full collection frees it, so 16 MiB windows
 * at 100 MB/s forced several mark-compacts a second. In bench/s3-objects.ts the copies made the
 * collector spend about a quarter less CPU per flow-log row and CloudTrail record.
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

  /** Keeps a copy of `data`, evicting the oldest writes to make room; one larger than the window empties it. */
  add(data: Buffer, flushedAt: number): void {
    const { length } = data;
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
   * The writes flushed at or after `since`, oldest first, and empties the window. They are views of
   * the ring, which the window gives up: later writes go to a new one.
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
            ? ring.subarray(start, end)
            : Buffer.concat([ring.subarray(start), ring.subarray(0, end - this.capacity)]),
        );
      }
    }
    this.ring = undefined;
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
