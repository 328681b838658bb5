/**
 * What flows from services to outputs. A service yields batches; each batch carries what
 * acknowledges it (SQS receipt handles, a checkpoint to save). Delivery calls `ack()` only after
 * every output accepted every event of the batch, and `release()` when it gives the batch up
 * (an output failed for good, or shutdown), so the source can make it available again.
 */
export interface CollectorEvent {
  /** Devo tag (table) the event is delivered to, e.g. `cloud.aws.cloudwatch.events`. */
  readonly tag: string;
  /** The event itself, one line: never contains a raw newline. */
  readonly message: string;
  /**
   * Set by producers that know `message` is all ASCII and holds no CR or LF (most log lines read
   * from S3), so outputs need not check: its UTF-8 size is its length, and it needs no escaping.
   */
  readonly plain?: boolean;
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

/** Size of a batch in bytes as delivered (message + tag), used by in-flight limits. */
export function batchBytes(events: readonly CollectorEvent[]): number {
  let bytes = 0;
  for (const e of events) bytes += e.message.length + e.tag.length;
  return bytes;
}
