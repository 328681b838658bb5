/**
 * What flows from services to outputs. A service yields batches; each batch carries what
 * acknowledges it (SQS receipt handles, a checkpoint to save). Delivery calls `ack()` only after
 * every output accepted every event of the batch, and `release()` when it gives the batch up
 * (an output failed for good, or shutdown), so the source can make it available again.
 */
export interface CollectorEvent {
  /** Devo tag (table) the event is delivered to, e.g. `cloud.aws.cloudwatch.events`. */
  readonly tag: string;
  /** The event itself, one line: never contains a raw newline (unless `lines` is set). */
  readonly message: string;
  /**
   * Set by producers that know `message` is all ASCII and holds no CR or LF (most log lines read
   * from S3; a run of lines has its joining LFs, see `lines`), so outputs need not check: its
   * UTF-8 size is its length, and it needs no escaping.
   */
  readonly plain?: boolean;
  /**
   * Set on a run of `lines` messages of one tag sent as written from a log file (VPC Flow Logs,
   * CloudFront): `message` holds them joined by LF, each plain (so this is `plain` too). It stands
   * for that many events: count with eventCount(); outputs that send messages one by one take
   * singleMessages(). Carrying the run as one string spares a string and an object per line.
   */
  readonly lines?: number;
}

export interface Batch {
  readonly events: readonly CollectorEvent[];
  /** Human-readable origin for logs: service, region, queue or object. Never secrets. */
  readonly source: string;
  /** Called once, after every output accepted the whole batch. */
  ack(): Promise<void>;
  /** Called once, instead of ack(), when delivery is given up. Must not throw. */
  release(reason: Error): Promise<void>;
}

/**
 * A batch settled once: the first of ack() and release() runs `settle`'s, later calls do nothing.
 * Every wrapper of a batch (what an SQS message, a byte budget or the health check adds) builds on
 * this, so none needs its own guard.
 */
export function settleOnce(
  events: readonly CollectorEvent[],
  source: string,
  settle: Pick<Batch, 'ack' | 'release'>,
): Batch {
  let settled = false;
  return {
    events,
    source,
    ack: async () => {
      if (settled) return;
      settled = true;
      await settle.ack();
    },
    release: async (reason) => {
      if (settled) return;
      settled = true;
      await settle.release(reason);
    },
  };
}

/** Events in `events`, a run of lines counting as its lines. */
export function eventCount(events: readonly CollectorEvent[]): number {
  let n = events.length;
  for (const e of events) if (e.lines !== undefined) n += e.lines - 1;
  return n;
}

/** `events` with every run of lines split into one event per line (the same array when none). */
export function singleMessages(events: readonly CollectorEvent[]): readonly CollectorEvent[] {
  if (!events.some((e) => e.lines !== undefined)) return events;
  const out: CollectorEvent[] = [];
  for (const e of events) {
    if (e.lines === undefined) out.push(e);
    else for (const message of e.message.split('\n')) out.push({ tag: e.tag, message, plain: true });
  }
  return out;
}

/** Size of a batch in bytes as delivered (message + tag), used by in-flight limits. */
export function batchBytes(events: readonly CollectorEvent[]): number {
  let bytes = 0;
  for (const e of events) bytes += e.message.length + e.tag.length * (e.lines ?? 1);
  return bytes;
}
