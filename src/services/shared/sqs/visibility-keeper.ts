import { ChangeMessageVisibilityBatchCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { Logger } from '../../../telemetry/logger.js';
import { batchCall, describeFailures, SQS_BATCH_MAX, type BatchFailure } from './batch-call.js';
import type { HeldMessage } from './message.js';
import type { SqsQueue } from './queue.js';

/**
 * Keeps held messages invisible while they are handled, delivered or deleted: every quarter of
 * the visibility timeout, extends those that would expire within half of it. Runs only while
 * messages are held.
 */
export class VisibilityKeeper {
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private readonly timeoutMs: number;

  constructor(
    private readonly held: ReadonlySet<HeldMessage>,
    private readonly visibilityTimeoutSeconds: number,
    private readonly client: SQSClient,
    private readonly queue: SqsQueue,
    private readonly logger: Logger,
  ) {
    this.timeoutMs = visibilityTimeoutSeconds * 1000;
  }

  /** A message is held: extend from now on (no-op when running or stopped). */
  start(): void {
    if (this.timer || this.stopped) return;
    this.timer = setInterval(() => this.extend(), Math.max(100, this.timeoutMs / 4));
    this.timer.unref();
  }

  /** No message is held: pause until the next start(). */
  pause(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Shutdown: no more extensions. */
  stop(): void {
    this.stopped = true;
    this.pause();
  }

  private extend(): void {
    const due = Date.now() + this.timeoutMs / 2;
    const batch: HeldMessage[] = [];
    for (const h of this.held) {
      if ((h.phase !== 'active' && h.phase !== 'deleting') || h.extension || h.visibleAt > due) continue;
      batch.push(h);
      if (batch.length === SQS_BATCH_MAX) {
        this.extendBatch(batch.splice(0));
      }
    }
    if (batch.length > 0) this.extendBatch(batch);
  }

  private extendBatch(batch: HeldMessage[]): void {
    const sent = Date.now();
    const run = batchCall(
      'ChangeMessageVisibilityBatch',
      batch,
      (entries) =>
        this.client.send(
          new ChangeMessageVisibilityBatchCommand({ QueueUrl: batch[0]!.queueUrl, Entries: entries }),
        ),
      () => ({ VisibilityTimeout: this.visibilityTimeoutSeconds }),
    ).then(({ failures }) => {
      const lost: [HeldMessage, BatchFailure][] = [];
      for (const h of batch) {
        h.extension = undefined;
        if (h.phase !== 'active' && h.phase !== 'deleting') continue;
        const failure = failures.get(h);
        if (failure === undefined) h.visibleAt = sent + this.timeoutMs;
        else lost.push([h, failure]);
      }
      if (lost.length > 0) {
        // Tried again at the next tick while the message is still held.
        const { failed, text } = describeFailures(lost);
        this.logger.warn(
          { event: 'sqs_visibility_failed', queue: this.queue.name, failed },
          `${this.queue.where()}: extending the visibility of ${lost.length} message(s) failed (${text})`,
        );
      }
    });
    for (const h of batch) h.extension = run;
  }
}
