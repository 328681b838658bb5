import { describeError } from '../../../core/errors.js';
import { isAwsRegion } from '../../../aws/regions.js';
import { parseS3Notification, type S3ObjectRef } from '../../../formats/notifications.js';
import type { WorkerContext } from '../../definition.js';
import type { BatchEmitter, MessageDisposition, MessageHandler, ReceivedMessage } from '../sqs/message.js';
import type { ObjectFormat } from './formats.js';
import { ObjectRefusedError, ObjectUnreadableError, readObject, type BatchLimits } from './object-reader.js';
import type { Admission } from '../../../core/admission.js';
import { DeliveredObjects } from './delivered-objects.js';

export interface S3ObjectHandlerOptions {
  ctx: WorkerContext;
  format: ObjectFormat;
  /** Objects this worker reads at once (shared by every message it handles), 1 per object. */
  objects: Admission;
  limits: BatchLimits;
  stallTimeoutMs?: number;
  /** Objects of each message already delivered in this process (default: a new, bounded memory). */
  delivered?: DeliveredObjects;
}

/**
 * The SQS message handler of the services reading S3 objects announced on SQS (CloudTrail files,
 * VPC Flow Logs, CloudFront logs). One message may announce several objects, in any shape
 * src/formats/notifications.ts reads (native S3, SNS-wrapped, EventBridge, a trail's own SNS
 * notification); they are read concurrently, within the worker's objects-in-flight budget.
 * Outcomes, per message:
 * - every object read (or skipped by the key filter): 'delete';
 * - an object's content is corrupt (bad compression, invalid JSON, truncated): what was read before
 *   the problem is delivered, the failure is logged with bucket, key and byte offset and counted
 *   (errors, code OBJECT_CORRUPT), and the message is still deleted — redelivering it would fail
 *   the same way forever and poison the queue;
 * - an object is not of a format the worker reads (a Parquet object without a Parquet reader, or
 *   the format's parser refuses it): logged with bucket, key, detected format and offset; the
 *   message is kept ('retry'), as below;
 * - an object cannot be read (NoSuchKey, NoSuchBucket, AccessDenied, or throttling/5xx/network
 *   after the SDK's retries): logged with bucket, key and error code and counted; the message is
 *   left for redelivery ('retry'), so the queue's redrive policy moves it to its dead-letter queue
 *   after maxReceiveCount receives. The other objects of that message stop early: they will be
 *   read again with it.
 * - s3:TestEvent: deleted and counted as filtered;
 * - a body that is not an S3 notification at all: logged with the message id, counted as
 *   malformed and deleted — no redelivery can ever make it readable.
 */
export function createS3ObjectHandler(options: S3ObjectHandlerOptions): MessageHandler {
  const { ctx, format, objects, limits } = options;
  const delivered = options.delivered ?? new DeliveredObjects();
  const labels = { service: ctx.serviceName, region: ctx.region };
  const where = (m: ReceivedMessage): string =>
    `message ${m.messageId} of SQS queue ${m.queueName} (${m.region})`;

  const readOne = async (
    m: ReceivedMessage,
    ref: S3ObjectRef,
    sink: Parameters<MessageHandler>[1],
    signal: AbortSignal,
  ): Promise<void> => {
    const release = await objects.acquire([1], signal);
    const tracked = trackDelivery(sink, () => delivered.add(m.messageId, ref));
    let result;
    try {
      result = await readObject({
        // Clients are cached per region: a region name from a message body must be a real one, or
        // the queue's (S3 then redirects to the bucket's region).
        s3: ctx.aws.s3(isAwsRegion(ref.region) ? ref.region : m.region),
        ref,
        format,
        sink: tracked.sink,
        signal,
        limits,
        ...(options.stallTimeoutMs === undefined ? {} : { stallTimeoutMs: options.stallTimeoutMs }),
      });
    } finally {
      release();
    }
    // Read to its end (or to a proven corruption): once its batches are acknowledged it is done.
    tracked.readToEnd();
    if (result.dropped > 0)
      ctx.metrics.filtered.inc({ ...labels, reason: 'drop_event_names' }, result.dropped);
    if (result.malformed > 0)
      ctx.metrics.malformed.inc({ ...labels, kind: `${format.name}_row` }, result.malformed);
    // `objectKey`, not `key`: the logger redacts fields named key (secrets).
    // `bucketRegion`: the worker's logger already carries its own `region`.
    const place = {
      bucket: ref.bucket,
      objectKey: ref.key,
      bucketRegion: ref.region,
      messageId: m.messageId,
    };
    if (result.corrupt) {
      const details = result.corrupt.details;
      ctx.metrics.errors.inc({ ...labels, code: result.corrupt.code });
      ctx.metrics.objectsCorrupt.inc({ ...labels, format: format.name });
      ctx.logger.error(
        {
          event: 'object_corrupt',
          ...place,
          offset: details.offset,
          eventsDelivered: result.events,
          err: result.corrupt,
        },
        `${result.corrupt.message}; the ${result.events} event(s) before the problem are delivered, the rest of the object is skipped (${where(m)} is deleted)`,
      );
      return;
    }
    ctx.logger.debug(
      {
        ...place,
        events: result.events,
        compressedBytes: result.compressedBytes,
        bytes: result.decompressedBytes,
      },
      `read s3://${ref.bucket}/${ref.key}: ${result.events} event(s)`,
    );
  };

  return async (message, sink, signal) => {
    const notification = parseS3Notification(message.body, message.region);
    if (notification.kind === 'invalid') {
      ctx.metrics.malformed.inc({ ...labels, kind: 's3_notification' });
      ctx.logger.warn(
        {
          messageId: message.messageId,
          queue: message.queueName,
          reason: notification.reason,
        },
        `${where(message)} is not an S3 notification (${notification.reason}); deleting it, it can never be processed`,
      );
      return 'delete';
    }
    if (notification.kind === 'test') {
      ctx.metrics.filtered.inc({ ...labels, reason: 's3_test_event' });
      ctx.logger.debug({ messageId: message.messageId }, `${where(message)} is an s3:TestEvent: dropped`);
      return 'delete';
    }
    if (notification.skipped > 0) {
      ctx.metrics.filtered.inc({ ...labels, reason: 's3_event_not_object_created' }, notification.skipped);
    }
    const accepted = notification.objects.filter((ref) => format.accepts(ref.key));
    const skipped = notification.objects.length - accepted.length;
    if (skipped > 0) {
      ctx.metrics.filtered.inc({ ...labels, reason: 'object_key_filter' }, skipped);
      ctx.logger.debug(
        {
          messageId: message.messageId,
          objectKeys: notification.objects.filter((r) => !accepted.includes(r)).map((r) => r.key),
        },
        `${where(message)}: ${skipped} object(s) skipped by the key filter`,
      );
    }
    const wanted = accepted.filter((ref) => !delivered.has(message.messageId, ref));
    if (wanted.length < accepted.length) {
      ctx.logger.info(
        {
          event: 's3_objects_already_delivered',
          messageId: message.messageId,
          receiveCount: message.receiveCount,
          objectKeys: accepted.filter((r) => !wanted.includes(r)).map((r) => r.key),
        },
        `${where(message)}: ${accepted.length - wanted.length} object(s) already delivered on an earlier receive are not read again`,
      );
    }
    if (wanted.length === 0) return done(message);

    // Once one object cannot be read the message will be read again: stop the others early. An
    // object refused by its format lets the others finish: reading it again will not help, and
    // they are not read again (DeliveredObjects).
    const giveUp = new AbortController();
    const objectSignal = AbortSignal.any([signal, giveUp.signal]);
    const outcomes = await Promise.allSettled(
      wanted.map((ref) =>
        readOne(message, ref, sink, objectSignal).catch((err: unknown) => {
          if (!(err instanceof ObjectRefusedError)) giveUp.abort();
          throw err;
        }),
      ),
    );
    return settle(message, accepted, outcomes);
  };

  function done(message: ReceivedMessage): MessageDisposition {
    delivered.forget(message.messageId);
    return 'delete';
  }

  function settle(
    message: ReceivedMessage,
    objects: readonly S3ObjectRef[],
    outcomes: PromiseSettledResult<void>[],
  ): MessageDisposition {
    const failures = outcomes.flatMap((o) => (o.status === 'rejected' ? [o.reason as unknown] : []));
    if (failures.length === 0) return done(message);
    const unreadable = failures.filter((f): f is ObjectUnreadableError => f instanceof ObjectUnreadableError);
    const refused = failures.filter((f): f is ObjectRefusedError => f instanceof ObjectRefusedError);
    // Anything else is the sink's rejection (the message was given up) or shutdown: the consumer
    // already releases the message, so let it know.
    if (unreadable.length + refused.length === 0) throw failures[0];
    for (const err of refused) {
      const {
        bucket,
        key,
        region,
        format: detected,
        offset,
      } = err.details as {
        bucket: string;
        key: string;
        region: string;
        format: string;
        offset: number;
      };
      ctx.metrics.errors.inc({ ...labels, code: err.code });
      ctx.logger.error(
        {
          event: 's3_object_refused',
          code: err.code,
          bucket,
          objectKey: key,
          region,
          format: detected,
          offset,
          messageId: message.messageId,
          receiveCount: message.receiveCount,
        },
        `${err.message}; ${where(message)} is kept (receive #${message.receiveCount}): the queue's redrive policy moves it to its dead-letter queue, or max_receive_count deletes it`,
      );
    }
    for (const err of unreadable) {
      const { bucket, key, region } = err.details as { bucket: string; key: string; region: string };
      ctx.metrics.errors.inc({ ...labels, code: err.code });
      const log = err.transient ? ctx.logger.warn.bind(ctx.logger) : ctx.logger.error.bind(ctx.logger);
      log(
        {
          bucket,
          objectKey: key,
          region,
          awsCode: err.awsCode,
          messageId: message.messageId,
          receiveCount: message.receiveCount,
          err,
        },
        `cannot read s3://${bucket}/${key} (${region}): ${err.awsCode}; ${where(message)} is left for redelivery (receive #${message.receiveCount}; the queue's redrive policy moves it to its dead-letter queue after maxReceiveCount): ${describeError(err.cause)}`,
      );
    }
    return { retry: objects.map((ref) => `s3://${ref.bucket}/${ref.key}`) };
  }
}

/**
 * Wraps one object's sink: `onDelivered` runs once the object was read to its end and every batch
 * emitted from it was acknowledged (in whichever order the two happen).
 */
function trackDelivery(
  sink: BatchEmitter,
  onDelivered: () => void,
): { sink: BatchEmitter; readToEnd: () => void } {
  let unacknowledged = 0;
  let read = false;
  const check = (): void => {
    if (read && unacknowledged === 0) onDelivered();
  };
  return {
    sink: {
      emit: (events) => {
        unacknowledged += 1;
        return sink.emit(events, () => {
          unacknowledged -= 1;
          check();
        });
      },
    },
    readToEnd: () => {
      read = true;
      check();
    },
  };
}
