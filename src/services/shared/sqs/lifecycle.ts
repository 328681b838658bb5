import {
  ChangeMessageVisibilityBatchCommand,
  DeleteMessageBatchCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { ErrorCodes } from '../../../core/errors.js';
import { backoffDelay, sleep } from '../../../core/backoff.js';
import type { WorkerContext } from '../../definition.js';
import { batchCall, describeFailures, SQS_BATCH_MAX } from './batch-call.js';
import { EntryBatcher } from './entry-batcher.js';
import type { HeldMessage } from './message.js';
import type { SqsQueue } from './queue.js';

const DELETE_ATTEMPTS = 5;
const DELETE_BACKOFF = { baseMs: 200, maxMs: 5_000 };
/** How long acknowledgements gather before a partial DeleteMessageBatch is sent. */
const DELETE_LINGER_MS = 10;

/**
 * The end of a held message: deleted (DeleteMessageBatch, retried) once it was handled and every
 * emitted batch acknowledged; released (visibility 0) when anything failed; or left to expire
 * (a 'retry' disposition, or ack_messages false). With ack_messages false nothing is ever
 * deleted: a handled message is left to become visible again when its timeout expires (not
 * released at once, which would loop it through the same pull).
 */
export class MessageLifecycle {
  readonly held = new Set<HeldMessage>();
  private readonly deletes: EntryBatcher<HeldMessage>;
  private readonly releases: EntryBatcher<HeldMessage>;
  private readonly labels: { service: string; region: string };
  private dryRunLogged = false;

  constructor(
    private readonly ctx: WorkerContext,
    private readonly queue: SqsQueue,
    /** Shared, never aborted: deletions under way finish while stopping. */
    private readonly client: SQSClient,
    /** Called each time a message is done (deleted, released or left); `removed`: it was still held. */
    private readonly onDone: (h: HeldMessage, removed: boolean) => void,
  ) {
    this.labels = { service: ctx.serviceName, region: ctx.region };
    this.deletes = new EntryBatcher(SQS_BATCH_MAX, DELETE_LINGER_MS, (batch) => this.sendDeletes(batch));
    this.releases = new EntryBatcher(SQS_BATCH_MAX, 0, (batch) => this.sendReleases(batch));
  }

  /** Deletes the message once it was handled and every batch acknowledged. */
  settle(h: HeldMessage): void {
    if (h.phase !== 'active' || !h.handled || h.pending > 0 || h.releasedBy) return;
    if (!this.ctx.ackMessages) {
      if (!this.dryRunLogged) {
        this.dryRunLogged = true;
        this.ctx.logger.warn(
          { event: 'sqs_dry_run', queue: this.queue.name },
          `ack_messages is false (dry run): messages of ${this.queue.where()} are never deleted; they become visible again after the visibility timeout`,
        );
      }
      this.finish(h);
      return;
    }
    h.phase = 'deleting';
    this.deletes.add(h);
  }

  /** Gives the message up: visibility 0, so it is received again at once. */
  release(h: HeldMessage, reason: Error): void {
    if (h.phase !== 'active') return;
    h.releasedBy = reason;
    h.phase = 'releasing';
    const send = (): void => this.releases.add(h);
    // Not overtaken by the visibility extension under way.
    if (h.extension) void h.extension.then(send);
    else send();
  }

  finish(h: HeldMessage): void {
    h.phase = 'done';
    this.onDone(h, this.held.delete(h));
  }

  /** Shutdown: releases every message not yet fully acknowledged; deletions under way finish. */
  async releaseAll(reason: Error): Promise<void> {
    for (const h of [...this.held]) if (h.phase === 'active') this.release(h, reason);
    // A release waits for the extension under way (so it is not overtaken by it): let those queue.
    await Promise.all([...this.held].map((h) => h.extension));
    await Promise.all([this.releases.flush(), this.deletes.flush()]);
  }

  private async sendDeletes(batch: HeldMessage[]): Promise<void> {
    let todo = batch;
    for (let attempt = 0; todo.length > 0; attempt++) {
      const { failures, throttled } = await batchCall(
        'DeleteMessageBatch',
        todo,
        (entries) =>
          this.client.send(new DeleteMessageBatchCommand({ QueueUrl: todo[0]!.queueUrl, Entries: entries })),
        () => ({}),
      );
      for (const h of todo) if (!failures.has(h)) this.finish(h);
      todo = [...failures.keys()];
      if (todo.length === 0) return;
      const { failed, text: reasons } = describeFailures(failures);
      // Throttling is named: it says "slow down", not that the messages or their handles are bad.
      const failure = throttled
        ? { event: 'sqs_delete_throttled', code: ErrorCodes.AWS_THROTTLED }
        : { event: 'sqs_delete_failed', code: ErrorCodes.AWS_CALL_FAILED };
      if (attempt + 1 >= DELETE_ATTEMPTS) {
        this.ctx.metrics.errors.inc({ ...this.labels, code: failure.code }, todo.length);
        this.ctx.logger.error(
          { ...failure, queue: this.queue.name, messageIds: todo.map((h) => h.message.messageId), failed },
          `${this.queue.where()}: deleting ${todo.length} delivered message(s) failed ${DELETE_ATTEMPTS} times; they will be delivered again when their visibility expires (${reasons})`,
        );
        for (const h of todo) this.finish(h);
        return;
      }
      this.ctx.logger.warn(
        {
          ...failure,
          queue: this.queue.name,
          attempt: attempt + 1,
          messageIds: todo.map((h) => h.message.messageId),
          failed,
        },
        `${this.queue.where()}: deleting ${todo.length} message(s) failed, retrying (${reasons})`,
      );
      // Not tied to the shutdown signal: a delivered message should still be deleted while stopping.
      await sleep(backoffDelay(attempt, DELETE_BACKOFF) + DELETE_BACKOFF.baseMs);
    }
  }

  private async sendReleases(batch: HeldMessage[]): Promise<void> {
    const { failures } = await batchCall(
      'ChangeMessageVisibilityBatch',
      batch,
      (entries) =>
        this.client.send(
          new ChangeMessageVisibilityBatchCommand({ QueueUrl: batch[0]!.queueUrl, Entries: entries }),
        ),
      () => ({ VisibilityTimeout: 0 }),
    );
    for (const h of batch) this.finish(h);
    if (failures.size > 0) {
      // Harmless beyond the delay: the message becomes visible when its current timeout expires.
      const { failed, text } = describeFailures(failures);
      this.ctx.logger.warn(
        { event: 'sqs_release_failed', queue: this.queue.name, failed },
        `${this.queue.where()}: releasing ${failures.size} message(s) failed; they become visible when their timeout expires (${text})`,
      );
    }
  }
}
