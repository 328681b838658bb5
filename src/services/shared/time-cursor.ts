/**
 * Position of a time-ordered read (CloudTrail LookupEvents, CloudWatch Logs FilterLogEvents),
 * saved as a checkpoint: every event older than `from` was delivered, and of the events at
 * exactly `from`, those whose ids are in `seen`. Resuming queries from `from` inclusive and skips
 * `seen`, so events sharing the boundary timestamp are neither lost nor sent twice.
 */
export interface TimeCheckpoint {
  /** Epoch ms. */
  from: number;
  seen: string[];
}

export function isTimeCheckpoint(value: unknown): value is TimeCheckpoint {
  const v = value as Partial<TimeCheckpoint> | undefined;
  return (
    typeof v === 'object' &&
    v !== null &&
    typeof v.from === 'number' &&
    Number.isFinite(v.from) &&
    Array.isArray(v.seen) &&
    v.seen.every((s) => typeof s === 'string')
  );
}

/** Tells events already delivered before this pull (by the checkpoint it started from). */
export class DeliveredBefore {
  private readonly seen: ReadonlySet<string>;
  constructor(private readonly checkpoint: TimeCheckpoint) {
    this.seen = new Set(checkpoint.seen);
  }
  has(time: number, id: string): boolean {
    return time < this.checkpoint.from || (time === this.checkpoint.from && this.seen.has(id));
  }
}

/** The moving position while events are handed out oldest first. */
export class TimeCursor {
  private from: number;
  private seen: Set<string>;

  constructor(start: TimeCheckpoint) {
    this.from = start.from;
    this.seen = new Set(start.seen);
  }

  /** An event at `time` was handed out (events come oldest first). */
  pass(time: number, id: string): void {
    if (time > this.from) {
      this.from = time;
      this.seen = new Set([id]);
    } else if (time === this.from) {
      this.seen.add(id);
    }
  }

  /** Every event up to `through` (epoch ms, inclusive) was read: the cursor moves past it. */
  completeThrough(through: number): void {
    if (through + 1 > this.from) {
      this.from = through + 1;
      this.seen = new Set();
    }
  }

  get position(): number {
    return this.from;
  }

  checkpoint(): TimeCheckpoint {
    return { from: this.from, seen: [...this.seen] };
  }
}

/** The WindowSpec parts of services checkpointed with a TimeCheckpoint. */
export const timeCheckpointSpec = {
  initial: (from: number): TimeCheckpoint => ({ from, seen: [] }),
  parse: (saved: unknown): TimeCheckpoint | undefined => (isTimeCheckpoint(saved) ? saved : undefined),
  fromOf: (checkpoint: TimeCheckpoint): number => checkpoint.from,
};
