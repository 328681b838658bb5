/**
 * What flows from services to outputs. A service yields batches; each batch carries what
 * acknowledges it (SQS receipt handles, a checkpoint to save). Delivery calls `accepted()` when
 * every output accepted every event of the batch (its events are no longer needed), `ack()` once
 * every output also confirmed them (see Accepted#confirmed), and `release()` when it gives the
 * batch up (an output failed for good, or shutdown), so the source can make it available again.
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
  /*
   * The three below are called detached (without `this`): delivery keeps only them, not the
   * batch, while it waits for confirmation, so the events can be freed.
   */
  /** Called once, when every output accepted the whole batch: what it held in memory may be freed. */
  readonly accepted?: () => void;
  /** Called once, after every output accepted and confirmed the whole batch. */
  readonly ack: () => Promise<void>;
  /** Called once, instead of ack(), when delivery is given up (possibly after accepted()). Must not throw. */
  readonly release: (reason: Error) => Promise<void>;
  /**
   * Called by delivery once the batch is admitted, right before its events are written (a leased
   * task: is the lease still this replica's?); throws to refuse the batch, which is then released.
   */
  readonly fence?: () => void;
}

/**
 * A batch settled once: the first of ack() and release() runs `settle`'s, later calls do nothing;
 * accepted() runs once, and not after release(). Every wrapper of a batch (what an SQS message, a
 * byte budget or the health check adds) builds on this, so none needs its own guard.
 */
export function settleOnce(
  events: readonly CollectorEvent[],
  source: string,
  settle: Pick<Batch, 'accepted' | 'ack' | 'release'>,
): Batch {
  let settled = false;
  let accepted = false;
  return {
    events,
    source,
    accepted: () => {
      if (accepted || settled) return;
      accepted = true;
      settle.accepted?.();
    },
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
