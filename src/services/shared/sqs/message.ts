import type { CollectorEvent } from '../../../core/batch.js';

/** A received SQS message as handlers see it, and what the consumer keeps of it until it is done. */

export interface ReceivedMessage {
  readonly messageId: string;
  readonly body: string;
  /** ApproximateReceiveCount: 1 on the first delivery. */
  readonly receiveCount: number;
  readonly queueName: string;
  /** The queue's region. */
  readonly region: string;
  /** The system attributes received (RECEIVED_ATTRIBUTES). */
  readonly attributes: Readonly<Record<string, string>>;
}

export interface BatchEmitter {
  /**
   * Hands events produced from this message to delivery as one batch (backpressure: waits while
   * the in-flight window is full). The message is deleted only after every emitted batch was
   * acknowledged by every output. Rejects when the message was already given up (one of its
   * batches was released), so a handler reading a large object can stop early. `delivered` is
   * called once this batch is acknowledged by every output.
   */
  emit(events: CollectorEvent[], delivered?: () => void): Promise<void>;
}

/**
 * 'delete': done (deleted once every emitted batch is acknowledged); 'retry': left for
 * redelivery (not deleted, its visibility left to expire so the queue's redrive policy counts it);
 * `{ retry }` the same, naming what the message holds (e.g. `s3://bucket/key`) for the error
 * logged if it is dropped after max_receive_count receives.
 */
export type MessageDisposition = 'delete' | 'retry' | { readonly retry: readonly string[] };

/** Turns one message into events. Must await every emit() before it returns. */
export type MessageHandler = (
  message: ReceivedMessage,
  sink: BatchEmitter,
  signal: AbortSignal,
) => Promise<MessageDisposition>;

/** active: handling or awaiting acknowledgements; deleting/releasing: the SQS call is under way. */
export type Phase = 'active' | 'deleting' | 'releasing' | 'done';

/** A message from receipt until it is deleted, released or left. */
export interface HeldMessage {
  /** Its body is dropped once the message stops counting against the bound (see `awaiting`). */
  message: ReceivedMessage;
  readonly queueUrl: string;
  readonly receiptHandle: string;
  readonly source: string;
  phase: Phase;
  /** Emitted batches not yet acknowledged. */
  pending: number;
  /** Emitted batches not yet accepted by every output (nor released). */
  unaccepted: number;
  /** Handled and every batch accepted: awaiting confirmation, it leaves the in-flight bound. */
  awaiting: boolean;
  /** The handler returned 'delete'. */
  handled: boolean;
  /** Why the message was given up (a released batch, a failed handler, shutdown). */
  releasedBy: Error | undefined;
  /** When SQS makes it visible again unless extended (epoch ms, estimated from our side). */
  visibleAt: number;
  /** The visibility extension in progress, so a release is not overtaken by it. */
  extension: Promise<void> | undefined;
}
