import {
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  type Message,
  type MessageSystemAttributeName,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { describeError, ErrorCodes, shuttingDownError } from '../../../core/errors.js';
import { Admission } from '../../../core/admission.js';
import { settleOnce, type CollectorEvent } from '../../../core/batch.js';
import type { WorkerPosition } from '../../../telemetry/health.js';
import type { WorkerContext } from '../../definition.js';
import { SQS_BATCH_MAX } from './batch-call.js';
import { MessageLifecycle } from './lifecycle.js';
import type { BatchEmitter, HeldMessage, MessageDisposition, MessageHandler } from './message.js';
import { SqsQueue } from './queue.js';
import { allowListeners, untilAborted, wakeAll } from './signals.js';
import { VisibilityKeeper } from './visibility-keeper.js';

export type { BatchEmitter, MessageDisposition, MessageHandler, ReceivedMessage } from './message.js';

export interface SqsConsumerOptions {
  /** May contain `<account_id>`, replaced with the account id of the effective credentials. */
  queueName: string;
  /** Concurrent long-polling receive loops. */
  receivers: number;
  visibilityTimeoutSeconds: number;
  /** Long-poll wait (default 20, the SQS maximum). */
  waitTimeSeconds?: number;
  /**
   * Messages held at once: received and not yet deleted, released or left (handling, awaiting
   * acceptance, being deleted). Default receivers × 20, so receivers keep polling while the
   * previous receipts are still being delivered and deleted. A handled message whose batches were
   * all accepted, awaiting only their confirmation, no longer counts (delivery bounds those).
   */
  maxMessagesInFlight?: number;
  /**
   * max_receive_count: a message left for retry on its receive number maxReceiveCount is deleted,
   * with an error, when the queue has no redrive policy (with one, SQS moves it to the dead-letter
   * queue). 0 or absent: never.
   */
  maxReceiveCount?: number;
}

/**
 * The system attributes asked for: the receive count (redeliveries), on FIFO queues the group
 * (ordering), and when it was sent (the consumer's lag). Not `All`: every attribute more is
 * serialised by SQS and parsed by the SDK for each message.
 */
export const RECEIVED_ATTRIBUTES: readonly MessageSystemAttributeName[] = [
  'ApproximateReceiveCount',
  'MessageGroupId',
  'SentTimestamp',
];

/**
 * The one SQS consumption mechanism: concurrent long-polling receivers within a bound of held
 * messages, a handler per message (FIFO: one message of a group at a time, in order). What
 * happens to a message afterwards is MessageLifecycle's (delete once every emitted batch was
 * acknowledged, release when anything fails); VisibilityKeeper extends it meanwhile, so slow
 * outputs cause no redelivery.
 */
export class SqsConsumer {
  /**
   * The consumer's own client for GetQueueUrl and the long polls: its requests are aborted when
   * the consumer stops. Sent without per-call options, so the SDK resolves their middleware once.
   */
  private readonly polls: SQSClient;
  /** Shared, never aborted: deletions under way finish while stopping. */
  private readonly batches: SQSClient;
  private readonly labels: { service: string; region: string };
  /**
   * Room for messages: one unit per message held (and not `awaiting`) or asked for by a receiver,
   * at most maxMessagesInFlight.
   */
  private readonly room: Admission;
  private readonly timeoutMs: number;
  private readonly queue: SqsQueue;
  private readonly lifecycle: MessageLifecycle;
  private readonly visibility: VisibilityKeeper;
  /** Receivers that got an empty poll while messages are held (woken when one is done). */
  private readonly doneWaiters: (() => void)[] = [];
  /** Tail of each FIFO message group's chain: resolves true when the group may go on. */
  private readonly groups = new Map<string, Promise<boolean>>();
  private readonly stopController = new AbortController();
  /** ctx.signal or stop(): what handlers and receivers watch. */
  private readonly signal: AbortSignal;
  /** ApproximateNumberOfMessages at the start of the last pull. */
  private queueMessages: number | undefined;
  /** Whether the queue has a redrive policy, read at the start of each pull; undefined: unknown. */
  private redrive: boolean | undefined;
  private stopping: Promise<void> | undefined;

  constructor(
    private readonly ctx: WorkerContext,
    private readonly options: SqsConsumerOptions,
    private readonly handler: MessageHandler,
  ) {
    if (!(options.receivers >= 1))
      throw new RangeError(`receivers must be at least 1, got ${options.receivers}`);
    if (!(options.visibilityTimeoutSeconds >= 1)) {
      throw new RangeError(
        `visibilityTimeoutSeconds must be at least 1, got ${options.visibilityTimeoutSeconds}`,
      );
    }
    this.labels = { service: ctx.serviceName, region: ctx.region };
    this.room = new Admission([Math.max(1, options.maxMessagesInFlight ?? options.receivers * 20)]);
    this.timeoutMs = options.visibilityTimeoutSeconds * 1000;
    this.queue = new SqsQueue(options.queueName, ctx);
    this.signal = AbortSignal.any([ctx.signal, this.stopController.signal]);
    // Each receiver's poll listens to it twice (the HTTP request, and the wait for it): more than
    // Node's default of 10 listeners is expected here, not a leak.
    allowListeners(this.signal, 2 * options.receivers + 2);
    this.polls = ctx.aws.sqsAbortable(ctx.region, this.signal);
    this.batches = ctx.aws.sqsCached(ctx.region);
    this.lifecycle = new MessageLifecycle(ctx, this.queue, this.batches, (h, removed) =>
      this.onDone(h, removed),
    );
    this.visibility = new VisibilityKeeper(
      this.lifecycle.held,
      options.visibilityTimeoutSeconds,
      this.batches,
      this.queue,
      ctx.logger,
    );
  }

  /**
   * One pull: resolves the queue URL (cached; a missing queue is QUEUE_NOT_FOUND naming queue and
   * region), then receives until the queue is drained — an empty long poll (on a FIFO queue, one
   * while none of our messages is held, as those lock the rest of their group) — or the collector
   * stops. Waits for the handlers it started (not for their acknowledgements), except after abort.
   */
  async pull(): Promise<void> {
    if (this.signal.aborted) return;
    const queueUrl = await this.queue.resolveUrl(this.polls);
    await this.sampleDepth(queueUrl);
    const pullAbort = new AbortController();
    const signal = AbortSignal.any([this.signal, pullAbort.signal]);
    // Every receiver may wait on it for room at once.
    allowListeners(signal, this.options.receivers + 1);
    const handling = new Set<Promise<void>>();
    const receivers = Array.from({ length: this.options.receivers }, () =>
      this.receive(queueUrl, signal, handling).catch((err: unknown) => {
        // One failed receiver ends this pull; the others stop after their current long poll (its
        // messages are handled as usual).
        pullAbort.abort();
        throw err;
      }),
    );
    const results = await Promise.allSettled(receivers);
    await untilAborted(Promise.allSettled(handling), this.signal);
    const failure = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failure) throw failure.reason;
  }

  /** Lag from the oldest message held (SentTimestamp); none held: nothing is behind. */
  position(): WorkerPosition {
    let oldest: number | undefined;
    for (const h of this.held) {
      const sent = Number(h.message.attributes.SentTimestamp);
      if (Number.isFinite(sent) && (oldest === undefined || sent < oldest)) oldest = sent;
    }
    return { behindSince: oldest ?? this.ctx.clock.now(), queueMessages: this.queueMessages };
  }

  /**
   * The queue depth for /metrics and whether the queue has a redrive policy (max_receive_count),
   * once a period. A failure here only leaves the last figures.
   */
  private async sampleDepth(queueUrl: string): Promise<void> {
    try {
      const out = await this.batches.send(
        new GetQueueAttributesCommand({
          QueueUrl: queueUrl,
          AttributeNames: ['ApproximateNumberOfMessages', 'RedrivePolicy'],
        }),
        { abortSignal: this.signal },
      );
      const depth = Number(out.Attributes?.ApproximateNumberOfMessages);
      if (Number.isFinite(depth)) this.queueMessages = depth;
      this.redrive = Boolean(out.Attributes?.RedrivePolicy);
    } catch (err) {
      if (this.signal.aborted) return;
      this.ctx.logger.debug(
        { queue: this.queue.name, err },
        `cannot read the depth of ${this.queue.where()}: ${describeError(err)}`,
      );
    }
  }

  /**
   * Shutdown: no more extensions; every message not yet fully acknowledged is released
   * (visibility 0) so another consumer gets it at once; deletions already under way finish.
   * Safe before pull() and safe twice.
   */
  stop(): Promise<void> {
    this.stopping ??= this.shutdown();
    return this.stopping;
  }

  private async shutdown(): Promise<void> {
    this.stopController.abort();
    this.visibility.stop();
    await this.lifecycle.releaseAll(shuttingDownError());
  }

  private get held(): ReadonlySet<HeldMessage> {
    return this.lifecycle.held;
  }

  private onDone(h: HeldMessage, removed: boolean): void {
    if (removed) {
      // An awaiting message gave its unit back already.
      if (!h.awaiting) this.room.release([1]);
      wakeAll(this.doneWaiters);
    }
    h.awaiting = false;
    if (this.held.size === 0) this.visibility.pause();
  }

  private async receive(queueUrl: string, signal: AbortSignal, handling: Set<Promise<void>>): Promise<void> {
    while (!signal.aborted) {
      const room = await this.reserve(signal);
      if (room === 0) return;
      let messages: Message[] = [];
      try {
        // The client aborts the HTTP request when the consumer stops, but not the SDK's wait between
        // retries: stop waiting at once. Nothing can be received after that, as every later
        // attempt is aborted before it is sent.
        const out = await untilAborted(
          this.polls.send(
            new ReceiveMessageCommand({
              QueueUrl: queueUrl,
              MaxNumberOfMessages: room,
              WaitTimeSeconds: this.pollSeconds(),
              VisibilityTimeout: this.options.visibilityTimeoutSeconds,
              MessageSystemAttributeNames: [...RECEIVED_ATTRIBUTES],
            }),
          ),
          this.signal,
        );
        if (out === undefined) return;
        messages = out.Messages ?? [];
      } catch (err) {
        if (signal.aborted) return;
        throw this.queue.callFailed('ReceiveMessage', err);
      } finally {
        // Each message received keeps its unit until it is done; the rest is given back.
        this.room.release([room - messages.length]);
      }
      const received = Date.now();
      for (const m of messages) {
        const run = this.dispatch(m, queueUrl, received);
        handling.add(run);
        void run.finally(() => handling.delete(run));
      }
      if (messages.length > 0) continue;
      // Empty: the queue is drained — unless it is FIFO and we hold messages: it may only be
      // holding back the rest of their groups, which become receivable once these are done.
      if (!this.queue.fifo || this.held.size === 0) return;
      await untilAborted(new Promise<void>((resolve) => this.doneWaiters.push(resolve)), signal);
    }
  }

  /**
   * Long polls, except on a FIFO queue while we hold messages of it: those lock their groups, and
   * SQS may decide which groups a long poll can return when it starts, so a long poll would sit
   * out its whole wait while our messages finish. A short poll returns at once; after an empty
   * one the receiver waits for one of our messages to be done (see receive()).
   */
  private pollSeconds(): number {
    return this.queue.fifo && this.held.size > 0 ? 0 : (this.options.waitTimeSeconds ?? 20);
  }

  /**
   * Reserves room for the next receive (how many messages it may ask for, up to an SQS batch),
   * waiting while the bound is reached; 0 once `signal` aborts. The caller gives back what no
   * message took.
   */
  private reserve(signal: AbortSignal): Promise<number> {
    return this.room.takeSome(SQS_BATCH_MAX, signal);
  }

  private dispatch(m: Message, queueUrl: string, receivedAt: number): Promise<void> {
    const attributes: Record<string, string> = { ...m.Attributes };
    const messageId = m.MessageId ?? '';
    const h: HeldMessage = {
      message: {
        messageId,
        body: m.Body ?? '',
        receiveCount: Number(attributes.ApproximateReceiveCount ?? 1),
        queueName: this.queue.name,
        region: this.ctx.region,
        attributes,
      },
      queueUrl,
      receiptHandle: m.ReceiptHandle ?? '',
      source: `${this.ctx.serviceName}: ${this.queue.where()} message ${messageId}`,
      phase: 'active',
      pending: 0,
      unaccepted: 0,
      awaiting: false,
      handled: false,
      releasedBy: undefined,
      visibleAt: receivedAt + this.timeoutMs,
      extension: undefined,
    };
    this.lifecycle.held.add(h);
    this.visibility.start();
    // Standard (fair) queues may carry group ids too; only FIFO queues promise an order.
    const group = this.queue.fifo ? attributes.MessageGroupId : undefined;
    if (group === undefined) return this.handle(h).then(() => undefined);
    // FIFO: one message of a group at a time, in order; after a failure the rest of the group is
    // released unhandled, so SQS redelivers the group in its order.
    const previous = this.groups.get(group) ?? Promise.resolve(true);
    const run = previous.then((ok) => {
      if (ok) return this.handle(h);
      this.ctx.logger.debug(
        { messageId, group },
        `${h.source} released unhandled: an earlier message of its group was not processed`,
      );
      this.lifecycle.release(h, new Error(`an earlier message of group ${group} was not processed`));
      return false;
    });
    this.groups.set(group, run);
    return run.then(() => {
      if (this.groups.get(group) === run) this.groups.delete(group);
    });
  }

  /** Runs the handler; true when the message was handled (not released, not left for retry). */
  private async handle(h: HeldMessage): Promise<boolean> {
    if (this.signal.aborted) {
      this.lifecycle.release(h, shuttingDownError());
      return false;
    }
    const sink: BatchEmitter = { emit: (events, delivered) => this.emit(h, events, delivered) };
    let disposition: MessageDisposition;
    try {
      disposition = await this.handler(h.message, sink, this.signal);
    } catch (err) {
      if (h.releasedBy) {
        this.ctx.logger.debug(
          { messageId: h.message.messageId, err },
          `handler stopped after ${h.source} was released`,
        );
        return false;
      }
      if (this.signal.aborted && err === this.signal.reason) {
        // Shutdown interrupted the handler (e.g. an S3 object half read): not a failure of the
        // message, which goes back to the queue for another consumer. A handler failing for
        // another reason during shutdown is still reported below. (A batch refused by delivery
        // at shutdown released the message first: handled above.)
        this.ctx.logger.debug(
          { messageId: h.message.messageId, err },
          `handler of ${h.source} stopped by shutdown: ${describeError(err)}`,
        );
        this.lifecycle.release(h, shuttingDownError());
        return false;
      }
      const code = (err as { code?: unknown } | null)?.code;
      this.ctx.metrics.errors.inc({
        ...this.labels,
        code: typeof code === 'string' ? code : 'HANDLER_FAILED',
      });
      this.ctx.logger.error(
        { event: 'sqs_message_failed', messageId: h.message.messageId, queue: this.queue.name, err },
        `message ${h.message.messageId} of ${this.queue.where()} could not be processed, releasing it for retry: ${describeError(err)}`,
      );
      this.lifecycle.release(h, err instanceof Error ? err : new Error(String(err)));
      return false;
    }
    if (disposition !== 'delete') {
      if (this.exhausted(h.message.receiveCount)) {
        this.drop(h, disposition === 'retry' ? [] : disposition.retry);
        return false;
      }
      this.lifecycle.finish(h);
      return false;
    }
    h.handled = true;
    this.lifecycle.settle(h);
    this.stopCounting(h);
    return h.releasedBy === undefined;
  }

  /** A message failing on this receive is not left for another: max_receive_count, no redrive policy. */
  private exhausted(receiveCount: number): boolean {
    const max = this.options.maxReceiveCount ?? 0;
    return max > 0 && receiveCount >= max && this.redrive === false;
  }

  /** Deletes a message that kept failing (once what it emitted was acknowledged), with an error. */
  private drop(h: HeldMessage, contents: readonly string[]): void {
    const { messageId, receiveCount } = h.message;
    this.ctx.metrics.errors.inc({ ...this.labels, code: ErrorCodes.MESSAGE_DROPPED });
    this.ctx.logger.error(
      {
        event: 'sqs_message_dropped',
        code: ErrorCodes.MESSAGE_DROPPED,
        messageId,
        queue: this.queue.name,
        receiveCount,
        maxReceiveCount: this.options.maxReceiveCount,
        objects: contents,
      },
      `message ${messageId} of ${this.queue.where()} failed on ${receiveCount} receives (max_receive_count) and the queue has no redrive policy: deleting it${contents.length > 0 ? ` (it announced ${contents.join(', ')})` : ''}`,
    );
    h.handled = true;
    this.lifecycle.settle(h);
    this.stopCounting(h);
  }

  private async emit(h: HeldMessage, events: CollectorEvent[], delivered?: () => void): Promise<void> {
    if (h.releasedBy) throw h.releasedBy;
    if (events.length === 0) {
      delivered?.();
      return;
    }
    h.pending += 1;
    h.unaccepted += 1;
    let accepted = false;
    const accept = (): void => {
      if (accepted) return;
      accepted = true;
      h.unaccepted -= 1;
    };
    const ack = (): void => {
      accept();
      h.pending -= 1;
      delivered?.();
      this.lifecycle.settle(h);
    };
    const batch = settleOnce(events, h.source, {
      accepted: () => {
        // A FIFO group is locked while its message is in flight: waiting for confirmation (up to
        // resend_window_seconds at low traffic) would deliver one message a group in that time.
        // FIFO queues are acknowledged once accepted, as before confirmation existed.
        if (this.queue.fifo) return void batch.ack();
        accept();
        this.stopCounting(h);
      },
      ack: async () => ack(),
      release: async (reason) => {
        accept();
        h.pending -= 1;
        this.lifecycle.release(h, reason);
      },
    });
    await this.ctx.deliver(batch);
  }

  /**
   * A handled message whose batches were all accepted only awaits their confirmation: it frees its
   * room (and its body), so that receiving is not held back by how long confirmation takes. It is
   * still held: its visibility is extended until it is deleted or released.
   */
  private stopCounting(h: HeldMessage): void {
    if (h.awaiting || h.phase !== 'active' || !h.handled || h.unaccepted > 0 || h.pending === 0) return;
    h.awaiting = true;
    h.message = { ...h.message, body: '' };
    this.room.release([1]);
  }
}
