import { setMaxListeners } from 'node:events';
import {
  ChangeMessageVisibilityBatchCommand,
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  QueueDoesNotExist,
  ReceiveMessageCommand,
  type BatchResultErrorEntry,
  type Message,
  type MessageSystemAttributeName,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { isThrottling } from '../../aws/rate-limiter.js';
import { CollectorError, ErrorCodes, describeError, shuttingDownError } from '../../errors.js';
import { backoffDelay, sleep } from '../../runtime/backoff.js';
import type { Batch, CollectorEvent } from '../../runtime/batch.js';
import type { WorkerPosition } from '../../telemetry/health.js';
import type { WorkerContext } from '../service.js';
import { EntryBatcher } from './entry-batcher.js';

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

export interface MessageSink {
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
 * redelivery (not deleted, its visibility left to expire so the queue's redrive policy counts it).
 */
export type MessageDisposition = 'delete' | 'retry';

/** Turns one message into events. Must await every emit() before it returns. */
export type MessageHandler = (
  message: ReceivedMessage,
  sink: MessageSink,
  signal: AbortSignal,
) => Promise<MessageDisposition>;

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
}

/** SQS batch APIs take at most 10 entries. */
const SQS_BATCH_MAX = 10;
/**
 * The system attributes asked for: the receive count (redeliveries), on FIFO queues the group
 * (ordering), and when it was sent (the consumer's lag). Not `All`: every attribute more is serialised by SQS and parsed by the SDK for
 * each message.
 */
export const RECEIVED_ATTRIBUTES: readonly MessageSystemAttributeName[] = [
  'ApproximateReceiveCount',
  'MessageGroupId',
  'SentTimestamp',
];
const DELETE_ATTEMPTS = 5;
const DELETE_BACKOFF = { baseMs: 200, maxMs: 5_000 };
/** How long acknowledgements gather before a partial DeleteMessageBatch is sent. */
const DELETE_LINGER_MS = 10;

/** active: handling or awaiting acknowledgements; deleting/releasing: the SQS call is under way. */
type Phase = 'active' | 'deleting' | 'releasing' | 'done';

/** A message from receipt until it is deleted, released or left. */
interface Held {
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

/**
 * The one SQS consumption mechanism (DESIGN.md §2): concurrent long-polling receivers, a handler
 * per message, visibility extended while the message is handled or its events are delivered,
 * DeleteMessageBatch only once every emitted batch was acknowledged, release (visibility 0) when
 * anything fails. FIFO queues keep order within a message group. With ack_messages false nothing
 * is ever deleted: a handled message is left to become visible again when its timeout expires
 * (not released at once, which would loop it through the same pull).
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
  private readonly maxInFlight: number;
  private readonly timeoutMs: number;
  private readonly held = new Set<Held>();
  /** Held messages that are `awaiting` (not counted against maxInFlight). */
  private awaiting = 0;
  /** Messages receivers asked for and have not got yet, so concurrent receivers keep to the bound. */
  private reserved = 0;
  /** Receivers waiting for room (woken when a message is done or a reservation returned). */
  private readonly roomWaiters: (() => void)[] = [];
  /** Receivers that got an empty poll while messages are held (woken when one is done). */
  private readonly doneWaiters: (() => void)[] = [];
  /** Tail of each FIFO message group's chain: resolves true when the group may go on. */
  private readonly groups = new Map<string, Promise<boolean>>();
  private readonly stopController = new AbortController();
  /** ctx.signal or stop(): what handlers and receivers watch. */
  private readonly signal: AbortSignal;
  private readonly deletes: EntryBatcher<Held>;
  private readonly releases: EntryBatcher<Held>;
  private queueUrl: string | undefined;
  private queueName: string;
  private extensionTimer: NodeJS.Timeout | undefined;
  private dryRunLogged = false;
  /** ApproximateNumberOfMessages at the start of the last pull. */
  private queueMessages: number | undefined;
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
    this.maxInFlight = Math.max(1, options.maxMessagesInFlight ?? options.receivers * 20);
    this.timeoutMs = options.visibilityTimeoutSeconds * 1000;
    this.queueName = options.queueName;
    this.signal = AbortSignal.any([ctx.signal, this.stopController.signal]);
    // Each receiver's poll listens to it twice (the HTTP request, and the wait for it): more than
    // Node's default of 10 listeners is expected here, not a leak.
    allowListeners(this.signal, 2 * options.receivers + 2);
    this.polls = ctx.aws.sqsAbortable(ctx.region, this.signal);
    this.batches = ctx.aws.sqsCached(ctx.region);
    this.deletes = new EntryBatcher(SQS_BATCH_MAX, DELETE_LINGER_MS, (batch) => this.sendDeletes(batch));
    this.releases = new EntryBatcher(SQS_BATCH_MAX, 0, (batch) => this.sendReleases(batch));
  }

  /**
   * One pull: resolves the queue URL (cached; a missing queue is QUEUE_NOT_FOUND naming queue and
   * region), then receives until the queue is drained — an empty long poll (on a FIFO queue, one
   * while none of our messages is held, as those lock the rest of their group) — or the collector
   * stops. Waits for the handlers it started (not for their acknowledgements), except after abort.
   */
  async pull(): Promise<void> {
    if (this.signal.aborted) return;
    const queueUrl = await this.resolveQueueUrl();
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
    return { behindSince: oldest ?? Date.now(), queueMessages: this.queueMessages };
  }

  /** The queue depth for /metrics, once a period. A failure here only leaves the last figure. */
  private async sampleDepth(queueUrl: string): Promise<void> {
    try {
      const out = await this.batches.send(
        new GetQueueAttributesCommand({
          QueueUrl: queueUrl,
          AttributeNames: ['ApproximateNumberOfMessages'],
        }),
        { abortSignal: this.signal },
      );
      const depth = Number(out.Attributes?.ApproximateNumberOfMessages);
      if (Number.isFinite(depth)) this.queueMessages = depth;
    } catch (err) {
      if (this.signal.aborted) return;
      this.ctx.logger.debug(
        { queue: this.queueName, region: this.ctx.region, err },
        `cannot read the depth of ${this.where()}: ${describeError(err)}`,
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
    clearInterval(this.extensionTimer);
    this.extensionTimer = undefined;
    const reason = shuttingDownError();
    for (const h of [...this.held]) if (h.phase === 'active') this.release(h, reason);
    // A release waits for the extension under way (so it is not overtaken by it): let those queue.
    await Promise.all([...this.held].map((h) => h.extension));
    await Promise.all([this.releases.flush(), this.deletes.flush()]);
  }

  // ---- queue ------------------------------------------------------------------------------------

  private get fifo(): boolean {
    return this.queueName.endsWith('.fifo');
  }

  private where(): string {
    return `SQS queue ${this.queueName} (${this.ctx.region})`;
  }

  private async resolveQueueUrl(): Promise<string> {
    if (this.queueUrl) return this.queueUrl;
    if (this.options.queueName.includes('<account_id>')) {
      let accountId: string;
      try {
        accountId = await this.ctx.aws.accountId(this.ctx.region);
      } catch (err) {
        throw new CollectorError(
          ErrorCodes.AWS_CALL_FAILED,
          `cannot resolve <account_id> in SQS queue name ${this.options.queueName} (${this.ctx.region}): STS GetCallerIdentity failed: ${describeError(err)}`,
          { cause: err, details: { queue: this.options.queueName, region: this.ctx.region } },
        );
      }
      this.queueName = this.options.queueName.replaceAll('<account_id>', accountId);
    }
    try {
      const out = await this.polls.send(new GetQueueUrlCommand({ QueueName: this.queueName }));
      if (!out.QueueUrl) throw new Error('GetQueueUrl returned no QueueUrl');
      this.queueUrl = out.QueueUrl;
      return out.QueueUrl;
    } catch (err) {
      throw this.callFailed('GetQueueUrl', err);
    }
  }

  private callFailed(operation: string, err: unknown): CollectorError {
    const details = { queue: this.queueName, region: this.ctx.region, operation };
    if (err instanceof QueueDoesNotExist || (err as { name?: unknown }).name === 'QueueDoesNotExist') {
      // The queue may have been deleted since its URL was cached: look it up again next pull.
      this.queueUrl = undefined;
      return new CollectorError(
        ErrorCodes.QUEUE_NOT_FOUND,
        `${this.where()} does not exist in the account of the configured credentials; create it or fix the queue name`,
        { cause: err, details },
      );
    }
    return new CollectorError(
      ErrorCodes.AWS_CALL_FAILED,
      `${this.where()}: ${operation} failed: ${describeError(err)}`,
      {
        cause: err,
        details,
      },
    );
  }

  // ---- receiving --------------------------------------------------------------------------------

  private async receive(queueUrl: string, signal: AbortSignal, handling: Set<Promise<void>>): Promise<void> {
    while (!signal.aborted) {
      const room = await this.reserve(signal);
      if (room === 0) return;
      let messages: Message[];
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
        throw this.callFailed('ReceiveMessage', err);
      } finally {
        // Returned and replaced by held messages in the same tick: the bound is never overrun.
        this.reserved -= room;
        wakeAll(this.roomWaiters);
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
      if (!this.fifo || this.held.size === 0) return;
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
    return this.fifo && this.held.size > 0 ? 0 : (this.options.waitTimeSeconds ?? 20);
  }

  /**
   * Reserves room for the next receive (how many messages it may ask for), waiting while the
   * bound is reached; 0 once `signal` aborts. The caller gives the reservation back.
   */
  private async reserve(signal: AbortSignal): Promise<number> {
    while (this.counted + this.reserved >= this.maxInFlight) {
      await untilAborted(new Promise<void>((resolve) => this.roomWaiters.push(resolve)), signal);
      if (signal.aborted) return 0;
    }
    if (signal.aborted) return 0;
    // Taken in the same tick as the check, so concurrent receivers cannot overrun the bound.
    const room = Math.min(SQS_BATCH_MAX, this.maxInFlight - this.counted - this.reserved);
    this.reserved += room;
    return room;
  }

  /** Held messages counted against maxInFlight. */
  private get counted(): number {
    return this.held.size - this.awaiting;
  }

  private dispatch(m: Message, queueUrl: string, receivedAt: number): Promise<void> {
    const attributes: Record<string, string> = { ...m.Attributes };
    const messageId = m.MessageId ?? '';
    const h: Held = {
      message: {
        messageId,
        body: m.Body ?? '',
        receiveCount: Number(attributes.ApproximateReceiveCount ?? 1),
        queueName: this.queueName,
        region: this.ctx.region,
        attributes,
      },
      queueUrl,
      receiptHandle: m.ReceiptHandle ?? '',
      source: `${this.ctx.serviceName}: ${this.where()} message ${messageId}`,
      phase: 'active',
      pending: 0,
      unaccepted: 0,
      awaiting: false,
      handled: false,
      releasedBy: undefined,
      visibleAt: receivedAt + this.timeoutMs,
      extension: undefined,
    };
    this.held.add(h);
    this.startExtensions();
    // Standard (fair) queues may carry group ids too; only FIFO queues promise an order.
    const group = this.fifo ? attributes.MessageGroupId : undefined;
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
      this.release(h, new Error(`an earlier message of group ${group} was not processed`));
      return false;
    });
    this.groups.set(group, run);
    return run.then(() => {
      if (this.groups.get(group) === run) this.groups.delete(group);
    });
  }

  /** Runs the handler; true when the message was handled (not released, not left for retry). */
  private async handle(h: Held): Promise<boolean> {
    if (this.signal.aborted) {
      this.release(h, shuttingDownError());
      return false;
    }
    const sink: MessageSink = { emit: (events, delivered) => this.emit(h, events, delivered) };
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
        this.release(h, shuttingDownError());
        return false;
      }
      const code = (err as { code?: unknown } | null)?.code;
      this.ctx.metrics.errors.inc({
        ...this.labels,
        code: typeof code === 'string' ? code : 'HANDLER_FAILED',
      });
      this.ctx.logger.error(
        { messageId: h.message.messageId, queue: this.queueName, err },
        `message ${h.message.messageId} of ${this.where()} could not be processed, releasing it for retry: ${describeError(err)}`,
      );
      this.release(h, err instanceof Error ? err : new Error(String(err)));
      return false;
    }
    if (disposition === 'retry') {
      this.finish(h);
      return false;
    }
    h.handled = true;
    this.settle(h);
    this.stopCounting(h);
    return h.releasedBy === undefined;
  }

  private async emit(h: Held, events: CollectorEvent[], delivered?: () => void): Promise<void> {
    if (h.releasedBy) throw h.releasedBy;
    if (events.length === 0) {
      delivered?.();
      return;
    }
    h.pending += 1;
    h.unaccepted += 1;
    let settled = false;
    let accepted = false;
    const accept = (): void => {
      if (accepted) return;
      accepted = true;
      h.unaccepted -= 1;
    };
    const ack = (): void => {
      if (settled) return;
      settled = true;
      accept();
      h.pending -= 1;
      delivered?.();
      this.settle(h);
    };
    const batch: Batch = {
      events,
      source: h.source,
      accepted: () => {
        // A FIFO group is locked while its message is in flight: waiting for confirmation (up to
        // resend_window_seconds at low traffic) would deliver one message a group in that time.
        // FIFO queues are acknowledged once accepted, as before confirmation existed.
        if (this.fifo) return ack();
        accept();
        this.stopCounting(h);
      },
      ack: async () => ack(),
      release: async (reason) => {
        if (settled) return;
        settled = true;
        accept();
        h.pending -= 1;
        this.release(h, reason);
      },
    };
    await this.ctx.deliver(batch);
  }

  // ---- outcomes ---------------------------------------------------------------------------------

  /** Deletes the message once it was handled and every batch acknowledged. */
  private settle(h: Held): void {
    if (h.phase !== 'active' || !h.handled || h.pending > 0 || h.releasedBy) return;
    if (!this.ctx.ackMessages) {
      if (!this.dryRunLogged) {
        this.dryRunLogged = true;
        this.ctx.logger.warn(
          { queue: this.queueName },
          `ack_messages is false (dry run): messages of ${this.where()} are never deleted; they become visible again after the visibility timeout`,
        );
      }
      this.finish(h);
      return;
    }
    h.phase = 'deleting';
    this.deletes.add(h);
  }

  /**
   * A handled message whose batches were all accepted only awaits their confirmation: it frees its
   * room (and its body), so that receiving is not held back by how long confirmation takes. It is
   * still held: its visibility is extended until it is deleted or released.
   */
  private stopCounting(h: Held): void {
    if (h.awaiting || h.phase !== 'active' || !h.handled || h.unaccepted > 0 || h.pending === 0) return;
    h.awaiting = true;
    h.message = { ...h.message, body: '' };
    this.awaiting += 1;
    wakeAll(this.roomWaiters);
  }

  /** Gives the message up: visibility 0, so it is received again at once. */
  private release(h: Held, reason: Error): void {
    if (h.phase !== 'active') return;
    h.releasedBy = reason;
    h.phase = 'releasing';
    const send = (): void => this.releases.add(h);
    if (h.extension) void h.extension.then(send);
    else send();
  }

  private finish(h: Held): void {
    h.phase = 'done';
    if (h.awaiting) this.awaiting -= 1;
    h.awaiting = false;
    if (this.held.delete(h)) {
      wakeAll(this.roomWaiters);
      wakeAll(this.doneWaiters);
    }
    if (this.held.size === 0) {
      clearInterval(this.extensionTimer);
      this.extensionTimer = undefined;
    }
  }

  private async sendDeletes(batch: Held[]): Promise<void> {
    let todo = batch;
    for (let attempt = 0; todo.length > 0; attempt++) {
      const { failures, throttled } = await this.batchCall(
        'DeleteMessageBatch',
        todo,
        (entries) =>
          this.batches.send(new DeleteMessageBatchCommand({ QueueUrl: todo[0]!.queueUrl, Entries: entries })),
        () => ({}),
      );
      for (const h of todo) if (!failures.has(h)) this.finish(h);
      todo = [...failures.keys()];
      if (todo.length === 0) return;
      const reasons = [...failures].map(([h, why]) => `${h.message.messageId}: ${why}`).join('; ');
      // Throttling is named: it says "slow down", not that the messages or their handles are bad.
      const failure = throttled
        ? { event: 'sqs_delete_throttled', code: ErrorCodes.AWS_THROTTLED }
        : { event: 'sqs_delete_failed', code: ErrorCodes.AWS_CALL_FAILED };
      if (attempt + 1 >= DELETE_ATTEMPTS) {
        this.ctx.metrics.errors.inc({ ...this.labels, code: failure.code }, todo.length);
        this.ctx.logger.error(
          { ...failure, queue: this.queueName, messageIds: todo.map((h) => h.message.messageId) },
          `${this.where()}: deleting ${todo.length} delivered message(s) failed ${DELETE_ATTEMPTS} times; they will be delivered again when their visibility expires (${reasons})`,
        );
        for (const h of todo) this.finish(h);
        return;
      }
      this.ctx.logger.warn(
        { ...failure, queue: this.queueName, attempt: attempt + 1 },
        `${this.where()}: deleting ${todo.length} message(s) failed, retrying (${reasons})`,
      );
      // Not tied to the shutdown signal: a delivered message should still be deleted while stopping.
      await sleep(backoffDelay(attempt, DELETE_BACKOFF) + DELETE_BACKOFF.baseMs);
    }
  }

  private async sendReleases(batch: Held[]): Promise<void> {
    const { failures } = await this.batchCall(
      'ChangeMessageVisibilityBatch',
      batch,
      (entries) =>
        this.batches.send(
          new ChangeMessageVisibilityBatchCommand({ QueueUrl: batch[0]!.queueUrl, Entries: entries }),
        ),
      () => ({ VisibilityTimeout: 0 }),
    );
    for (const h of batch) this.finish(h);
    if (failures.size > 0) {
      // Harmless beyond the delay: the message becomes visible when its current timeout expires.
      this.ctx.logger.warn(
        { queue: this.queueName },
        `${this.where()}: releasing ${failures.size} message(s) failed; they become visible when their timeout expires (${[
          ...failures,
        ]
          .map(([h, why]) => `${h.message.messageId}: ${why}`)
          .join('; ')})`,
      );
    }
  }

  /**
   * One SQS batch call over up to 10 messages; returns the messages that failed, with why
   * (every message when the whole call failed), and whether the call was throttled.
   */
  private async batchCall<E extends object>(
    operation: string,
    batch: Held[],
    call: (
      entries: (E & { Id: string; ReceiptHandle: string })[],
    ) => Promise<{ Failed?: BatchResultErrorEntry[] | undefined }>,
    extra: () => E,
  ): Promise<{ failures: Map<Held, string>; throttled: boolean }> {
    const failures = new Map<Held, string>();
    try {
      const out = await call(
        batch.map((h, i) => ({ ...extra(), Id: String(i), ReceiptHandle: h.receiptHandle })),
      );
      for (const f of out.Failed ?? []) {
        const h = batch[Number(f.Id)];
        if (h)
          failures.set(
            h,
            `${f.Code ?? 'failed'}${f.SenderFault ? ' (sender fault)' : ''}: ${f.Message ?? ''}`,
          );
      }
    } catch (err) {
      const why = `${operation} failed: ${describeError(err)}`;
      for (const h of batch) failures.set(h, why);
      return { failures, throttled: isThrottling(err) };
    }
    return { failures, throttled: false };
  }

  // ---- visibility -------------------------------------------------------------------------------

  private startExtensions(): void {
    if (this.extensionTimer || this.stopController.signal.aborted) return;
    // Every quarter of the timeout, extend what would expire within half of it.
    this.extensionTimer = setInterval(() => this.extend(), Math.max(100, this.timeoutMs / 4));
    this.extensionTimer.unref();
  }

  private extend(): void {
    const due = Date.now() + this.timeoutMs / 2;
    const batch: Held[] = [];
    for (const h of this.held) {
      if ((h.phase !== 'active' && h.phase !== 'deleting') || h.extension || h.visibleAt > due) continue;
      batch.push(h);
      if (batch.length === SQS_BATCH_MAX) {
        this.extendBatch(batch.splice(0));
      }
    }
    if (batch.length > 0) this.extendBatch(batch);
  }

  private extendBatch(batch: Held[]): void {
    const sent = Date.now();
    const run = this.batchCall(
      'ChangeMessageVisibilityBatch',
      batch,
      (entries) =>
        this.batches.send(
          new ChangeMessageVisibilityBatchCommand({ QueueUrl: batch[0]!.queueUrl, Entries: entries }),
        ),
      () => ({ VisibilityTimeout: this.options.visibilityTimeoutSeconds }),
    ).then(({ failures }) => {
      const lost: string[] = [];
      for (const h of batch) {
        h.extension = undefined;
        if (h.phase !== 'active' && h.phase !== 'deleting') continue;
        const why = failures.get(h);
        if (why === undefined) h.visibleAt = sent + this.timeoutMs;
        else lost.push(`${h.message.messageId}: ${why}`);
      }
      if (lost.length > 0) {
        // Tried again at the next tick while the message is still held.
        this.ctx.logger.warn(
          { queue: this.queueName },
          `${this.where()}: extending the visibility of ${lost.length} message(s) failed (${lost.join('; ')})`,
        );
      }
    });
    for (const h of batch) h.extension = run;
  }
}

/** Lets `signal` take `listeners` abort listeners (at least Node's default 10) without a leak warning. */
function allowListeners(signal: AbortSignal, listeners: number): void {
  setMaxListeners(Math.max(10, listeners), signal);
}

/** Wakes every waiter; each re-checks its condition (some may have stopped waiting meanwhile). */
function wakeAll(waiters: (() => void)[]): void {
  for (const wake of waiters.splice(0)) wake();
}

/** Waits for `promise` and gives its value, or gives undefined as soon as `signal` aborts. */
async function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T | undefined> {
  if (signal.aborted) return undefined;
  let onAbort: (() => void) | undefined;
  const aborted = new Promise<undefined>((resolve) => {
    onAbort = () => resolve(undefined);
    signal.addEventListener('abort', onAbort, { once: true });
  });
  try {
    return await Promise.race([promise, aborted]);
  } finally {
    signal.removeEventListener('abort', onAbort!);
  }
}
