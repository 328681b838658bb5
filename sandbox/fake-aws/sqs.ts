import { AwsError, serverError } from './errors.js';
import { jsonProtocol } from './json-protocol.js';
import { isObject, operationsReading, ParamReader } from './params.js';
import type { RequestContext, ServiceDef } from './protocol.js';
import { md5Hex, newUuid, Regional, sha256Hex } from './util.js';

/** A message attribute as the SQS API carries it (BinaryValue base64 on the wire). */
export interface MessageAttribute {
  DataType: string;
  StringValue?: string;
  BinaryValue?: Uint8Array | string;
}

export interface SendOptions {
  /** MessageGroupId: required on FIFO queues, optional (fair queues) on standard ones. */
  groupId?: string;
  deduplicationId?: string;
  delaySeconds?: number;
  attributes?: Record<string, MessageAttribute>;
  accountId?: string;
}

export interface SendResult {
  messageId: string;
  md5OfBody: string;
  md5OfAttributes: string | undefined;
  sequenceNumber: string | undefined;
}

export interface QueueStats {
  /** Messages that a ReceiveMessage could return now. */
  visible: number;
  /** Received and neither deleted nor back to visible yet. */
  inFlight: number;
  /** Sent with a delay that has not passed. */
  delayed: number;
  sent: number;
  /** Deliveries by ReceiveMessage (a message received twice counts twice). */
  received: number;
  deleted: number;
  /** Moved to the dead-letter queue after maxReceiveCount receives. */
  movedToDlq: number;
  /** FIFO sends dropped as duplicates within the 5-minute deduplication window. */
  deduplicated: number;
  /** Dropped after MessageRetentionPeriod. */
  expired: number;
}

export interface MessageSnapshot {
  messageId: string;
  body: string;
  state: 'visible' | 'inFlight' | 'delayed';
  receiveCount: number;
  groupId: string | undefined;
  attributes: Record<string, MessageAttribute>;
}

interface StoredAttribute {
  DataType: string;
  StringValue?: string;
  /** base64 */
  BinaryValue?: string;
}

interface Message {
  id: string;
  body: string;
  md5OfBody: string;
  attributes: Record<string, StoredAttribute>;
  traceHeader: string | undefined;
  senderId: string;
  sentAt: number;
  visibleAt: number;
  receiveCount: number;
  firstReceiveAt: number | undefined;
  /** Generation of the latest receipt handle; 0 before the first receive. */
  receipt: number;
  receivedAt: number;
  groupId: string | undefined;
  dedupId: string | undefined;
  sequenceNumber: string | undefined;
  deadLetterSourceArn: string | undefined;
}

interface Queue {
  name: string;
  accountId: string;
  region: string;
  arn: string;
  fifo: boolean;
  /** Settable attributes, as strings (the API's representation). */
  attributes: Record<string, string>;
  createdAt: number;
  modifiedAt: number;
  messages: Map<string, Message>;
  dedup: Map<string, { messageId: string; sequenceNumber: string; expiresAt: number }>;
  waiters: Set<() => void>;
  stats: Omit<QueueStats, 'visible' | 'inFlight' | 'delayed'>;
}

const DEDUP_WINDOW_MS = 5 * 60_000;
const MAX_VISIBILITY_S = 43_200;
const JSON_NS = 'com.amazonaws.sqs';

const DEFAULT_ATTRIBUTES: Record<string, string> = {
  DelaySeconds: '0',
  MaximumMessageSize: '1048576',
  MessageRetentionPeriod: '345600',
  ReceiveMessageWaitTimeSeconds: '0',
  VisibilityTimeout: '30',
  SqsManagedSseEnabled: 'true',
};
const FIFO_DEFAULTS: Record<string, string> = {
  ContentBasedDeduplication: 'false',
  DeduplicationScope: 'queue',
  FifoThroughputLimit: 'perQueue',
};
const intIn =
  (min: number, max: number) =>
  (v: string): boolean =>
    /^\d+$/.test(v) && Number(v) >= min && Number(v) <= max;
const oneOf =
  (...values: string[]) =>
  (v: string): boolean =>
    values.includes(v);
const anyString = (): boolean => true;
/** Settable attributes and their valid values; RedrivePolicy is checked against the queues too. */
const ATTRIBUTE_RULES: Record<string, (v: string) => boolean> = {
  DelaySeconds: intIn(0, 900),
  MaximumMessageSize: intIn(1024, 1048576),
  MessageRetentionPeriod: intIn(60, 1209600),
  ReceiveMessageWaitTimeSeconds: intIn(0, 20),
  VisibilityTimeout: intIn(0, MAX_VISIBILITY_S),
  KmsDataKeyReusePeriodSeconds: intIn(60, 86400),
  Policy: anyString,
  RedriveAllowPolicy: anyString,
  RedrivePolicy: anyString,
  KmsMasterKeyId: anyString,
  SqsManagedSseEnabled: oneOf('true', 'false'),
  FifoQueue: oneOf('true', 'false'),
  ContentBasedDeduplication: oneOf('true', 'false'),
  DeduplicationScope: oneOf('queue', 'messageGroup'),
  FifoThroughputLimit: oneOf('perQueue', 'perMessageGroupId'),
};
const FIFO_ONLY = new Set(['ContentBasedDeduplication', 'DeduplicationScope', 'FifoThroughputLimit']);
const READABLE = new Set([
  ...Object.keys(ATTRIBUTE_RULES),
  'QueueArn',
  'ApproximateNumberOfMessages',
  'ApproximateNumberOfMessagesNotVisible',
  'ApproximateNumberOfMessagesDelayed',
  'CreatedTimestamp',
  'LastModifiedTimestamp',
]);
const SYSTEM_ATTRIBUTES = [
  'SenderId',
  'SentTimestamp',
  'ApproximateReceiveCount',
  'ApproximateFirstReceiveTimestamp',
  'SequenceNumber',
  'MessageDeduplicationId',
  'MessageGroupId',
  'AWSTraceHeader',
  'DeadLetterQueueSourceArn',
];

/** SQS errors: the JSON shape name plus the legacy code the SDK maps back to it. */
function sqsError(code: string, message: string, queryCode = code, status = 400): AwsError {
  return new AwsError(code, message, status, { queryCode });
}
const invalidValue = (message: string): AwsError =>
  sqsError('InvalidParameterValueException', message, 'InvalidParameterValue');
const missingParam = (name: string): AwsError =>
  sqsError(
    'MissingRequiredParameterException',
    `The request must contain the parameter ${name}.`,
    'MissingParameter',
  );
const queueDoesNotExist = (): AwsError =>
  sqsError(
    'QueueDoesNotExist',
    'The specified queue does not exist.',
    'AWS.SimpleQueueService.NonExistentQueue',
  );
const invalidHandle = (handle: string): AwsError =>
  sqsError(
    'ReceiptHandleIsInvalid',
    `The input receipt handle "${handle}" is not a valid receipt handle.`,
    'ReceiptHandleIsInvalid',
    404,
  );

/** SQS over AWS JSON 1.0 (query-compatible): standard and FIFO queues, long polling, redrive. */
export class FakeSqs {
  private readonly queues = new Regional(() => new Map<string, Queue>());
  private receiptCounter = 0;
  private sequenceCounter = 10n ** 19n;
  readonly def: ServiceDef;

  constructor(
    private readonly endpoint: () => string,
    private readonly defaultAccountId: string,
  ) {
    const op = operationsReading(invalidValue, missingParam);
    this.def = {
      name: 'sqs',
      protocol: jsonProtocol({
        version: '1.0',
        targets: ['AmazonSQS'],
        queryCompatible: true,
        errorNamespace: JSON_NS,
      }),
      operations: {
        CreateQueue: op((p, ctx) => ({
          QueueUrl: this.url(
            this.create(
              ctx.identity.accountId,
              ctx.region,
              p.requiredString('QueueName'),
              p.stringMap('Attributes') ?? {},
            ),
          ),
        })),
        GetQueueUrl: op((p, ctx) => {
          const account = p.string('QueueOwnerAWSAccountId') ?? ctx.identity.accountId;
          return { QueueUrl: this.url(this.find(account, ctx.region, p.requiredString('QueueName'))) };
        }),
        GetQueueAttributes: op((p, ctx) =>
          this.getAttributes(this.resolve(p, ctx), p.stringArray('AttributeNames') ?? []),
        ),
        SetQueueAttributes: op((p, ctx) => {
          this.setAttributes(this.resolve(p, ctx), p.stringMap('Attributes') ?? {}, false);
          return {};
        }),
        SendMessage: op((p, ctx) => {
          const r = this.sendEntry(this.resolve(p, ctx), p, ctx.identity.userId);
          return sendOutput(r);
        }),
        SendMessageBatch: op((p, ctx) => this.sendBatch(this.resolve(p, ctx), p, ctx.identity.userId)),
        ReceiveMessage: op((p, ctx) => this.receiveMessage(this.resolve(p, ctx), p, ctx.signal)),
        DeleteMessage: op((p, ctx) => {
          this.deleteMessage(this.resolve(p, ctx), p.requiredString('ReceiptHandle'));
          return {};
        }),
        DeleteMessageBatch: op((p, ctx) => {
          const queue = this.resolve(p, ctx);
          return batch(p, (entry) => {
            this.deleteMessage(queue, entry.requiredString('ReceiptHandle'));
            return {};
          });
        }),
        ChangeMessageVisibility: op((p, ctx) => {
          this.changeVisibility(
            this.resolve(p, ctx),
            p.requiredString('ReceiptHandle'),
            p.integer('VisibilityTimeout', 0, MAX_VISIBILITY_S) ?? missingOf('VisibilityTimeout'),
          );
          return {};
        }),
        ChangeMessageVisibilityBatch: op((p, ctx) => {
          const queue = this.resolve(p, ctx);
          return batch(p, (entry) => {
            const timeout =
              entry.integer('VisibilityTimeout', 0, MAX_VISIBILITY_S) ?? missingOf('VisibilityTimeout');
            this.changeVisibility(queue, entry.requiredString('ReceiptHandle'), timeout);
            return {};
          });
        }),
      },
      throttlingError: () => sqsError('RequestThrottled', 'Request is throttled.', 'RequestThrottled', 403),
      serverError,
    };
  }

  // ---- direct API -------------------------------------------------------------------------------

  /** Creates a queue (idempotent for equal attributes, as CreateQueue) and returns its URL. */
  createQueue(
    region: string,
    name: string,
    attributes: Record<string, string> = {},
    accountId = this.defaultAccountId,
  ): string {
    return this.url(this.create(accountId, region, name, attributes));
  }

  queueUrl(region: string, name: string, accountId = this.defaultAccountId): string {
    return this.url(this.find(accountId, region, name));
  }

  /** Sends as SendMessage does (same validation, FIFO deduplication, delays). */
  send(region: string, name: string, body: string, options: SendOptions = {}): SendResult {
    const queue = this.find(options.accountId ?? this.defaultAccountId, region, name);
    const attributes = options.attributes
      ? Object.fromEntries(
          Object.entries(options.attributes).map(([k, a]) => [
            k,
            {
              ...a,
              BinaryValue:
                a.BinaryValue instanceof Uint8Array
                  ? Buffer.from(a.BinaryValue).toString('base64')
                  : a.BinaryValue,
            },
          ]),
        )
      : undefined;
    const input = new ParamReader(
      {
        MessageBody: body,
        MessageGroupId: options.groupId,
        MessageDeduplicationId: options.deduplicationId,
        DelaySeconds: options.delaySeconds,
        MessageAttributes: attributes,
      },
      invalidValue,
      missingParam,
    );
    return this.sendEntry(queue, input, `AIDA${sha256Hex(queue.accountId).slice(0, 17).toUpperCase()}`);
  }

  /**
   * Sends to a queue named by ARN, as S3 notifications and EventBridge targets do; throws
   * QueueDoesNotExist when there is none.
   */
  sendToArn(
    queueArn: string,
    body: string,
    senderId: string,
    options: { groupId?: string; deduplicationId?: string } = {},
  ): SendResult {
    const queue = this.byArn(queueArn);
    if (!queue) throw queueDoesNotExist();
    const input = new ParamReader(
      { MessageBody: body, MessageGroupId: options.groupId, MessageDeduplicationId: options.deduplicationId },
      invalidValue,
      missingParam,
    );
    return this.sendEntry(queue, input, senderId);
  }

  /** Where an existing queue named by ARN lives, or undefined when there is no such queue. */
  queueInfo(
    queueArn: string,
  ): { region: string; accountId: string; name: string; fifo: boolean } | undefined {
    const queue = this.byArn(queueArn);
    return queue && { region: queue.region, accountId: queue.accountId, name: queue.name, fifo: queue.fifo };
  }

  /** The queue's ARN, or undefined when it does not exist. */
  queueArn(region: string, name: string, accountId = this.defaultAccountId): string | undefined {
    return this.queues.get(accountId, region).get(name)?.arn;
  }

  stats(region: string, name: string, accountId = this.defaultAccountId): QueueStats {
    const queue = this.find(accountId, region, name);
    const counts = this.count(queue, Date.now());
    return { ...counts, ...queue.stats };
  }

  /** Every message the queue holds, in send order, without changing any of them. */
  messages(region: string, name: string, accountId = this.defaultAccountId): MessageSnapshot[] {
    const queue = this.find(accountId, region, name);
    const now = Date.now();
    this.dropExpired(queue, now);
    return [...queue.messages.values()].map((m) => ({
      messageId: m.id,
      body: m.body,
      state: stateOf(m, now),
      receiveCount: m.receiveCount,
      groupId: m.groupId,
      attributes: m.attributes,
    }));
  }

  // ---- queues -----------------------------------------------------------------------------------

  private url(queue: Queue): string {
    return `${this.endpoint()}/${queue.accountId}/${queue.name}`;
  }

  private find(accountId: string, region: string, name: string): Queue {
    const queue = this.queues.get(accountId, region).get(name);
    if (!queue) throw queueDoesNotExist();
    return queue;
  }

  /** The queue a request's QueueUrl names: `<any host>/<account>/<name>` in the signed region. */
  private resolve(p: ParamReader, ctx: RequestContext): Queue {
    const url = p.requiredString('QueueUrl');
    let parts: string[];
    try {
      parts = new URL(url).pathname.split('/').filter(Boolean);
    } catch {
      throw sqsError(
        'InvalidAddress',
        `The address ${url} is not valid for this endpoint.`,
        'InvalidAddress',
        404,
      );
    }
    if (parts.length !== 2)
      throw sqsError(
        'InvalidAddress',
        `The address ${url} is not valid for this endpoint.`,
        'InvalidAddress',
        404,
      );
    return this.find(parts[0] as string, ctx.region, parts[1] as string);
  }

  private create(accountId: string, region: string, name: string, attributes: Record<string, string>): Queue {
    const fifo = name.endsWith('.fifo');
    const base = fifo ? name.slice(0, -5) : name;
    if (!/^[A-Za-z0-9_-]{1,80}$/.test(base) || name.length > 80) {
      throw invalidValue(
        'Can only include alphanumeric characters, hyphens, or underscores. 1 to 80 in length. FIFO queue names end with .fifo',
      );
    }
    if ((attributes.FifoQueue === 'true') !== fifo) {
      throw invalidValue(
        fifo
          ? 'The name of a FIFO queue can only include alphanumeric characters, hyphens, or underscores, must end with .fifo suffix and be 1 to 80 in length. Set FifoQueue=true to create it.'
          : "Value false for parameter FifoQueue is invalid. Reason: a queue name not ending in .fifo can't be a FIFO queue.",
      );
    }
    const queues = this.queues.get(accountId, region);
    const existing = queues.get(name);
    if (existing) {
      for (const [key, value] of Object.entries(attributes)) {
        if (key !== 'FifoQueue' && existing.attributes[key] !== value) {
          throw sqsError(
            'QueueNameExists',
            `A queue already exists with the same name and a different value for attribute ${key}`,
            'QueueAlreadyExists',
          );
        }
      }
      return existing;
    }
    const now = Date.now();
    const queue: Queue = {
      name,
      accountId,
      region,
      arn: `arn:aws:sqs:${region}:${accountId}:${name}`,
      fifo,
      attributes: { ...DEFAULT_ATTRIBUTES, ...(fifo ? FIFO_DEFAULTS : {}) },
      createdAt: now,
      modifiedAt: now,
      messages: new Map(),
      dedup: new Map(),
      waiters: new Set(),
      stats: { sent: 0, received: 0, deleted: 0, movedToDlq: 0, deduplicated: 0, expired: 0 },
    };
    this.setAttributes(queue, attributes, true);
    queues.set(name, queue);
    return queue;
  }

  private setAttributes(queue: Queue, attributes: Record<string, string>, creating: boolean): void {
    const next = { ...queue.attributes };
    for (const [key, v] of Object.entries(attributes)) {
      const rule = ATTRIBUTE_RULES[key];
      if (!rule || (FIFO_ONLY.has(key) && !queue.fifo))
        throw sqsError('InvalidAttributeName', `Unknown Attribute ${key}.`);
      // FifoQueue is fixed at creation.
      if (!rule(v) || (key === 'FifoQueue' && !creating))
        throw sqsError('InvalidAttributeValue', `Invalid value for the parameter ${key}.`);
      if (key === 'FifoQueue') continue;
      if (key === 'RedrivePolicy' && v !== '') this.checkRedrivePolicy(queue, v);
      if (v === '' && key === 'RedrivePolicy') delete next[key];
      else next[key] = v;
    }
    queue.attributes = next;
    queue.modifiedAt = Date.now();
    this.notify(queue);
  }

  private checkRedrivePolicy(queue: Queue, raw: string): void {
    const invalid = (reason: string): AwsError =>
      invalidValue(`Value ${raw} for parameter RedrivePolicy is invalid. Reason: ${reason}`);
    let policy: unknown;
    try {
      policy = JSON.parse(raw);
    } catch {
      throw invalid('Redrive policy is not a valid JSON map.');
    }
    if (!isObject(policy)) throw invalid('Redrive policy is not a valid JSON map.');
    const count = Number(policy.maxReceiveCount);
    if (!Number.isInteger(count) || count < 1 || count > 1000)
      throw invalid('Invalid value for maxReceiveCount: must be an integer from 1 to 1000.');
    const target = this.byArn(String(policy.deadLetterTargetArn ?? ''));
    if (!target || target.accountId !== queue.accountId || target.region !== queue.region) {
      throw invalid('Dead-letter target does not exist.');
    }
    if (target.fifo !== queue.fifo)
      throw invalid('Dead-letter queue must be same type of queue as the source.');
  }

  private byArn(arn: string): Queue | undefined {
    const [, , service, region, accountId, name] = arn.split(':');
    if (service !== 'sqs' || !region || !accountId || !name) return undefined;
    return this.queues.get(accountId, region).get(name);
  }

  private redrive(queue: Queue): { target: Queue; maxReceiveCount: number } | undefined {
    const raw = queue.attributes.RedrivePolicy;
    if (!raw) return undefined;
    const policy = JSON.parse(raw) as { deadLetterTargetArn: string; maxReceiveCount: number | string };
    const target = this.byArn(policy.deadLetterTargetArn);
    return target ? { target, maxReceiveCount: Number(policy.maxReceiveCount) } : undefined;
  }

  private getAttributes(queue: Queue, names: string[]): unknown {
    const now = Date.now();
    const counts = this.count(queue, now);
    const all: Record<string, string> = {
      ...queue.attributes,
      QueueArn: queue.arn,
      ApproximateNumberOfMessages: String(counts.visible),
      ApproximateNumberOfMessagesNotVisible: String(counts.inFlight),
      ApproximateNumberOfMessagesDelayed: String(counts.delayed),
      CreatedTimestamp: String(Math.floor(queue.createdAt / 1000)),
      LastModifiedTimestamp: String(Math.floor(queue.modifiedAt / 1000)),
      ...(queue.fifo ? { FifoQueue: 'true' } : {}),
    };
    const selected: Record<string, string> = {};
    for (const name of names) {
      if (name === 'All') return { Attributes: all };
      if (!READABLE.has(name)) throw sqsError('InvalidAttributeName', `Unknown Attribute ${name}.`);
      if (all[name] !== undefined) selected[name] = all[name];
    }
    return Object.keys(selected).length ? { Attributes: selected } : {};
  }

  private count(queue: Queue, now: number): { visible: number; inFlight: number; delayed: number } {
    this.dropExpired(queue, now);
    const counts = { visible: 0, inFlight: 0, delayed: 0 };
    for (const m of queue.messages.values()) counts[stateOf(m, now)]++;
    return counts;
  }

  private dropExpired(queue: Queue, now: number): void {
    const retentionMs = Number(queue.attributes.MessageRetentionPeriod) * 1000;
    // Send order is age order, so the expired messages are at the front.
    for (const m of queue.messages.values()) {
      if (m.sentAt + retentionMs > now) break;
      queue.messages.delete(m.id);
      queue.stats.expired++;
    }
  }

  // ---- sending ----------------------------------------------------------------------------------

  private sendEntry(queue: Queue, p: ParamReader, senderId: string): SendResult {
    const body = p.string('MessageBody');
    if (body === undefined) throw missingParam('MessageBody');
    if (body.length === 0) throw invalidValue('The request must contain a non-empty message body.');
    // eslint-disable-next-line no-control-regex -- SQS defines its allowed characters by code point
    const bad = /[^\x09\x0A\x0D\x20-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/u.exec(body);
    if (bad) {
      throw sqsError(
        'InvalidMessageContents',
        `Invalid binary character '#x${bad[0].codePointAt(0)?.toString(16).toUpperCase()}' was found in the message body, the set of allowed characters is #x9 | #xA | #xD | #x20 to #xD7FF | #xE000 to #xFFFD | #x10000 to #x10FFFF`,
      );
    }
    const attributes = readAttributes(p.raw.MessageAttributes);
    const system = readAttributes(p.raw.MessageSystemAttributes);
    const traceHeader = system.AWSTraceHeader?.StringValue;
    const size = Buffer.byteLength(body) + attributesSize(attributes);
    const max = Number(queue.attributes.MaximumMessageSize);
    if (size > max)
      throw invalidValue(
        `One or more parameters are invalid. Reason: Message must be shorter than ${max} bytes.`,
      );

    const groupId = p.string('MessageGroupId');
    let dedupId = p.string('MessageDeduplicationId');
    const delay = p.integer('DelaySeconds', 0, 900);
    if (queue.fifo) {
      if (groupId === undefined) throw missingParam('MessageGroupId');
      if (delay !== undefined) {
        throw invalidValue(
          `Value ${delay} for parameter DelaySeconds is invalid. Reason: The request include parameter that is not valid for this queue type.`,
        );
      }
      if (dedupId === undefined) {
        if (queue.attributes.ContentBasedDeduplication !== 'true') {
          throw invalidValue(
            'The queue should either have ContentBasedDeduplication enabled or MessageDeduplicationId provided explicitly',
          );
        }
        dedupId = sha256Hex(body);
      }
    } else if (dedupId !== undefined) {
      throw invalidValue('The request include parameter that is not valid for this queue type');
    }
    if (groupId !== undefined && !/^[\x21-\x7E]{1,128}$/.test(groupId))
      throw invalidValue(`Value ${groupId} for parameter MessageGroupId is invalid.`);

    const now = Date.now();
    const md5OfAttributes = Object.keys(attributes).length ? attributesMd5(attributes) : undefined;
    if (queue.fifo && dedupId !== undefined) {
      for (const [key, entry] of queue.dedup) {
        if (entry.expiresAt > now) break;
        queue.dedup.delete(key);
      }
      const key = queue.attributes.DeduplicationScope === 'messageGroup' ? `${groupId}\n${dedupId}` : dedupId;
      const seen = queue.dedup.get(key);
      if (seen) {
        queue.stats.deduplicated++;
        return {
          messageId: seen.messageId,
          md5OfBody: md5Hex(body),
          md5OfAttributes,
          sequenceNumber: seen.sequenceNumber,
        };
      }
    }
    const message: Message = {
      id: newUuid(),
      body,
      md5OfBody: md5Hex(body),
      attributes,
      traceHeader,
      senderId,
      sentAt: now,
      visibleAt: now + (delay ?? Number(queue.attributes.DelaySeconds)) * 1000,
      receiveCount: 0,
      firstReceiveAt: undefined,
      receipt: 0,
      receivedAt: 0,
      groupId,
      dedupId,
      sequenceNumber: queue.fifo ? String(++this.sequenceCounter) : undefined,
      deadLetterSourceArn: undefined,
    };
    if (queue.fifo && dedupId !== undefined) {
      const key = queue.attributes.DeduplicationScope === 'messageGroup' ? `${groupId}\n${dedupId}` : dedupId;
      queue.dedup.set(key, {
        messageId: message.id,
        sequenceNumber: message.sequenceNumber ?? '',
        expiresAt: now + DEDUP_WINDOW_MS,
      });
    }
    queue.messages.set(message.id, message);
    queue.stats.sent++;
    this.notify(queue);
    return {
      messageId: message.id,
      md5OfBody: message.md5OfBody,
      md5OfAttributes,
      sequenceNumber: message.sequenceNumber,
    };
  }

  private sendBatch(queue: Queue, p: ParamReader, senderId: string): unknown {
    const entries = checkBatch(p);
    const total = entries.reduce(
      (sum, e) =>
        sum +
        Buffer.byteLength(String(e.raw.MessageBody ?? '')) +
        attributesSize(readAttributesLenient(e.raw.MessageAttributes)),
      0,
    );
    const max = Number(queue.attributes.MaximumMessageSize);
    if (total > max) {
      throw sqsError(
        'BatchRequestTooLong',
        `Batch requests cannot be longer than ${max} bytes.`,
        'AWS.SimpleQueueService.BatchRequestTooLong',
      );
    }
    return batchOf(entries, (entry) => sendOutput(this.sendEntry(queue, entry, senderId)));
  }

  // ---- receiving --------------------------------------------------------------------------------

  private async receiveMessage(queue: Queue, p: ParamReader, signal: AbortSignal): Promise<unknown> {
    const max = p.integer('MaxNumberOfMessages', 1, 10) ?? 1;
    const visibility =
      p.integer('VisibilityTimeout', 0, MAX_VISIBILITY_S) ?? Number(queue.attributes.VisibilityTimeout);
    const wait =
      p.integer('WaitTimeSeconds', 0, 20) ?? Number(queue.attributes.ReceiveMessageWaitTimeSeconds);
    const systemNames = new Set([
      ...(p.stringArray('AttributeNames') ?? []),
      ...(p.stringArray('MessageSystemAttributeNames') ?? []),
    ]);
    const attributeNames = p.stringArray('MessageAttributeNames') ?? [];
    const deadline = Date.now() + wait * 1000;
    // Like some SQS implementations, a long poll decides which FIFO groups are free when it starts:
    // a group locked by a message in flight stays out of this poll even once that message is done.
    const blocked = queue.fifo ? this.inFlightGroups(queue, Date.now()) : undefined;
    for (;;) {
      const now = Date.now();
      const { taken, nextChange } = this.take(queue, max, visibility, now, blocked);
      if (taken.length > 0) {
        return { Messages: taken.map((m) => this.render(queue, m, systemNames, attributeNames)) };
      }
      if (now >= deadline || signal.aborted) return {};
      await this.waitForChange(queue, Math.min(deadline, nextChange) - now, signal);
    }
  }

  /** Takes up to `max` receivable messages, in order, honouring FIFO group locks and redrive. */
  private take(
    queue: Queue,
    max: number,
    visibility: number,
    now: number,
    blocked: ReadonlySet<string | undefined> = new Set(),
  ): { taken: Message[]; nextChange: number } {
    this.dropExpired(queue, now);
    const redrive = this.redrive(queue);
    const taken: Message[] = [];
    const lockedGroups = new Set(blocked);
    let nextChange = Infinity;
    for (const m of queue.messages.values()) {
      if (m.visibleAt > now) {
        nextChange = Math.min(nextChange, m.visibleAt);
        // FIFO: nothing of a group is delivered while an earlier message of it is unavailable.
        if (queue.fifo) lockedGroups.add(m.groupId);
        continue;
      }
      if (queue.fifo && lockedGroups.has(m.groupId)) continue;
      if (redrive && m.receiveCount >= redrive.maxReceiveCount) {
        this.moveToDlq(queue, m, redrive.target, now);
        continue;
      }
      m.receiveCount++;
      m.firstReceiveAt ??= now;
      m.receipt = ++this.receiptCounter;
      m.receivedAt = now;
      m.visibleAt = now + visibility * 1000;
      queue.stats.received++;
      taken.push(m);
      if (taken.length >= max) break;
    }
    return { taken, nextChange };
  }

  /** FIFO groups with a message in flight (received, not yet deleted or visible again). */
  private inFlightGroups(queue: Queue, now: number): Set<string | undefined> {
    const groups = new Set<string | undefined>();
    for (const m of queue.messages.values()) if (m.visibleAt > now) groups.add(m.groupId);
    return groups;
  }

  private moveToDlq(source: Queue, m: Message, target: Queue, now: number): void {
    source.messages.delete(m.id);
    source.stats.movedToDlq++;
    target.messages.set(m.id, {
      ...m,
      receiveCount: 0,
      firstReceiveAt: undefined,
      receipt: 0,
      visibleAt: now,
      deadLetterSourceArn: source.arn,
    });
    target.stats.sent++;
    this.notify(target);
  }

  private waitForChange(queue: Queue, ms: number, signal: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        queue.waiters.delete(done);
        signal.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, Math.max(0, ms));
      queue.waiters.add(done);
      signal.addEventListener('abort', done, { once: true });
    });
  }

  private notify(queue: Queue): void {
    for (const wake of [...queue.waiters]) wake();
  }

  private render(queue: Queue, m: Message, systemNames: Set<string>, attributeNames: string[]): unknown {
    const system: Record<string, string | undefined> = {
      SenderId: m.senderId,
      SentTimestamp: String(m.sentAt),
      ApproximateReceiveCount: String(m.receiveCount),
      ApproximateFirstReceiveTimestamp: String(m.firstReceiveAt),
      SequenceNumber: m.sequenceNumber,
      MessageDeduplicationId: m.dedupId,
      MessageGroupId: m.groupId,
      AWSTraceHeader: m.traceHeader,
      DeadLetterQueueSourceArn: m.deadLetterSourceArn,
    };
    const all = systemNames.has('All');
    const attributes: Record<string, string> = {};
    for (const name of SYSTEM_ATTRIBUTES) {
      const v = system[name];
      if (v !== undefined && (all || systemNames.has(name))) attributes[name] = v;
    }
    const wanted = (name: string): boolean =>
      attributeNames.some(
        (w) =>
          w === 'All' || w === '.*' || w === name || (w.endsWith('.*') && name.startsWith(w.slice(0, -1))),
      );
    const userAttributes = Object.fromEntries(Object.entries(m.attributes).filter(([name]) => wanted(name)));
    const hasUser = Object.keys(userAttributes).length > 0;
    return {
      MessageId: m.id,
      ReceiptHandle: Buffer.from(JSON.stringify([queue.arn, m.id, m.receipt])).toString('base64'),
      MD5OfBody: m.md5OfBody,
      Body: m.body,
      ...(Object.keys(attributes).length ? { Attributes: attributes } : {}),
      ...(hasUser
        ? { MD5OfMessageAttributes: attributesMd5(userAttributes), MessageAttributes: userAttributes }
        : {}),
    };
  }

  // ---- acknowledging ----------------------------------------------------------------------------

  /** The message a receipt handle names, and whether the handle is its latest one. */
  private byHandle(queue: Queue, handle: string): { message: Message | undefined; current: boolean } {
    let decoded: unknown;
    try {
      decoded = JSON.parse(Buffer.from(handle, 'base64').toString('utf8'));
    } catch {
      throw invalidHandle(handle);
    }
    if (!Array.isArray(decoded) || decoded.length !== 3 || decoded[0] !== queue.arn)
      throw invalidHandle(handle);
    const message = queue.messages.get(String(decoded[1]));
    return { message, current: message !== undefined && message.receipt === decoded[2] };
  }

  private deleteMessage(queue: Queue, handle: string): void {
    const { message, current } = this.byHandle(queue, handle);
    if (!message) return; // already deleted: SQS answers success
    if (queue.fifo && (!current || message.visibleAt <= Date.now())) {
      throw invalidValue(
        `Value ${handle} for parameter ReceiptHandle is invalid. Reason: The receipt handle has expired.`,
      );
    }
    // Standard queues: an outdated handle "succeeds" but leaves the message (SQS documents this).
    if (!current) return;
    queue.messages.delete(message.id);
    queue.stats.deleted++;
    this.notify(queue);
  }

  private changeVisibility(queue: Queue, handle: string, timeout: number): void {
    const { message, current } = this.byHandle(queue, handle);
    const now = Date.now();
    if (!message || !current || message.visibleAt <= now) {
      throw invalidValue(
        `Value ${handle} for parameter ReceiptHandle is invalid. Reason: Message does not exist or is not available for visibility timeout change.`,
      );
    }
    if (now + timeout * 1000 - message.receivedAt > MAX_VISIBILITY_S * 1000) {
      throw invalidValue(
        `Value ${timeout} for parameter VisibilityTimeout is invalid. Reason: Total VisibilityTimeout for the message is beyond the limit [${MAX_VISIBILITY_S} seconds]`,
      );
    }
    message.visibleAt = now + timeout * 1000;
    this.notify(queue);
  }
}

// ---- helpers ------------------------------------------------------------------------------------

function stateOf(m: Message, now: number): 'visible' | 'inFlight' | 'delayed' {
  if (m.visibleAt <= now) return 'visible';
  return m.receipt > 0 ? 'inFlight' : 'delayed';
}

function missingOf(name: string): never {
  throw missingParam(name);
}

function sendOutput(r: SendResult): unknown {
  return {
    MessageId: r.messageId,
    MD5OfMessageBody: r.md5OfBody,
    ...(r.md5OfAttributes ? { MD5OfMessageAttributes: r.md5OfAttributes } : {}),
    ...(r.sequenceNumber ? { SequenceNumber: r.sequenceNumber } : {}),
  };
}

/** Validates a batch request's Entries (1..10, distinct well-formed ids). */
function checkBatch(p: ParamReader): ParamReader[] {
  const raw = p.array('Entries') ?? [];
  if (raw.length === 0)
    throw sqsError(
      'EmptyBatchRequest',
      'There should be at least one entry in the request.',
      'AWS.SimpleQueueService.EmptyBatchRequest',
    );
  if (raw.length > 10) {
    throw sqsError(
      'TooManyEntriesInBatchRequest',
      `Maximum number of entries per request are 10. You have sent ${raw.length}.`,
      'AWS.SimpleQueueService.TooManyEntriesInBatchRequest',
    );
  }
  const entries = raw.map((e, i) => p.nested(e, `Entries.${i + 1}`));
  const ids = new Set<string>();
  for (const e of entries) {
    const id = e.requiredString('Id');
    if (!/^[A-Za-z0-9_-]{1,80}$/.test(id)) {
      throw sqsError(
        'InvalidBatchEntryId',
        `A batch entry id can only contain alphanumeric characters, hyphens and underscores. It can be at most 80 letters long.`,
        'AWS.SimpleQueueService.InvalidBatchEntryId',
      );
    }
    if (ids.has(id))
      throw sqsError(
        'BatchEntryIdsNotDistinct',
        `Id ${id} repeated.`,
        'AWS.SimpleQueueService.BatchEntryIdsNotDistinct',
      );
    ids.add(id);
  }
  return entries;
}

/** Runs `fn` per entry; an entry's AwsError becomes a Failed entry, as SQS batch calls report them. */
function batchOf(entries: ParamReader[], fn: (entry: ParamReader) => unknown): unknown {
  const Successful: unknown[] = [];
  const Failed: unknown[] = [];
  for (const entry of entries) {
    const Id = entry.requiredString('Id');
    try {
      Successful.push({ Id, ...(fn(entry) as object) });
    } catch (err) {
      if (!(err instanceof AwsError)) throw err;
      Failed.push({ Id, SenderFault: err.fault === 'Sender', Code: err.queryCode, Message: err.message });
    }
  }
  return { Successful, Failed };
}

function batch(p: ParamReader, fn: (entry: ParamReader) => unknown): unknown {
  return batchOf(checkBatch(p), fn);
}

function readAttributesLenient(raw: unknown): Record<string, StoredAttribute> {
  try {
    return readAttributes(raw);
  } catch {
    return {};
  }
}

/** Validates message attributes as SendMessage does. */
function readAttributes(raw: unknown): Record<string, StoredAttribute> {
  if (raw === undefined || raw === null) return {};
  if (!isObject(raw)) throw invalidValue('MessageAttributes must be a map.');
  const entries = Object.entries(raw);
  if (entries.length > 10)
    throw invalidValue(`Number of message attributes [${entries.length}] exceeds the allowed maximum [10].`);
  const out: Record<string, StoredAttribute> = {};
  for (const [name, attr] of entries) {
    if (
      !/^[A-Za-z0-9_.-]{1,256}$/.test(name) ||
      /^(aws\.|amazon\.)/i.test(name) ||
      name.includes('..') ||
      name.startsWith('.') ||
      name.endsWith('.')
    ) {
      throw invalidValue(`Message (user) attribute name '${name}' is invalid.`);
    }
    if (!isObject(attr) || typeof attr.DataType !== 'string')
      throw invalidValue(`The message attribute '${name}' must contain non-empty message attribute type.`);
    const type = attr.DataType;
    const base = type.split('.')[0];
    if (base === 'Binary') {
      if (typeof attr.BinaryValue !== 'string' || attr.BinaryValue.length === 0) {
        throw invalidValue(`The message attribute '${name}' with type 'Binary' must use field 'Binary'.`);
      }
      out[name] = { DataType: type, BinaryValue: attr.BinaryValue };
    } else if (base === 'String' || base === 'Number') {
      if (typeof attr.StringValue !== 'string' || attr.StringValue.length === 0) {
        throw invalidValue(`The message attribute '${name}' with type '${base}' must use field 'String'.`);
      }
      if (base === 'Number' && !Number.isFinite(Number(attr.StringValue))) {
        throw invalidValue(`Can't cast the value of message (user) attribute '${name}' to a number.`);
      }
      out[name] = { DataType: type, StringValue: attr.StringValue };
    } else {
      throw invalidValue(
        `The type of message (user) attribute '${name}' is invalid. You must use only the following supported type prefixes: Binary, Number, String.`,
      );
    }
  }
  return out;
}

function attributeBytes(a: StoredAttribute): Buffer {
  return a.BinaryValue !== undefined
    ? Buffer.from(a.BinaryValue, 'base64')
    : Buffer.from(a.StringValue ?? '', 'utf8');
}

function attributesSize(attributes: Record<string, StoredAttribute>): number {
  return Object.entries(attributes).reduce(
    (n, [k, a]) => n + Buffer.byteLength(k) + Buffer.byteLength(a.DataType) + attributeBytes(a).length,
    0,
  );
}

/** MD5OfMessageAttributes as SQS computes it: length-prefixed name, type, transport byte and value, by name. */
function attributesMd5(attributes: Record<string, StoredAttribute>): string {
  const parts: Buffer[] = [];
  const lengthPrefixed = (b: Buffer): void => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(b.length);
    parts.push(len, b);
  };
  for (const name of Object.keys(attributes).sort()) {
    const a = attributes[name] as StoredAttribute;
    lengthPrefixed(Buffer.from(name, 'utf8'));
    lengthPrefixed(Buffer.from(a.DataType, 'utf8'));
    parts.push(Buffer.from([a.BinaryValue !== undefined ? 2 : 1]));
    lengthPrefixed(attributeBytes(a));
  }
  return md5Hex(Buffer.concat(parts));
}
