import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { isThrottling } from '../../../aws/throttling.js';
import { CollectorError, ErrorCodes, describeError, isCollectorError } from '../../../core/errors.js';
import { decompress } from '../../../formats/compression.js';
import type { S3ObjectRef } from '../../../formats/notifications.js';
import { batchBytes, eventCount, type CollectorEvent } from '../../../core/batch.js';
import type { BatchEmitter } from '../sqs/message.js';
import type { ObjectFormat } from './formats.js';

export interface BatchLimits {
  /** Most events per emitted batch (a run of lines is never split, so one run may exceed it). */
  maxEvents: number;
  /** Most bytes (message + tag) per emitted batch, roughly: a batch closes once it reaches this. */
  maxBytes: number;
}

export interface ObjectReadResult {
  /** Events emitted. */
  events: number;
  /** Events dropped by configuration (drop_event_names). */
  dropped: number;
  /** Rows delivered as written though not of the expected shape. */
  malformed: number;
  compressedBytes: number;
  decompressedBytes: number;
  /**
   * Set when the content turned out corrupt (bad compression, invalid JSON, truncated): what was
   * read before the problem was emitted, and the object is done — reading it again cannot help.
   */
  corrupt?: CollectorError;
}

export interface ReadObjectOptions {
  s3: S3Client;
  ref: S3ObjectRef;
  format: ObjectFormat;
  sink: BatchEmitter;
  signal: AbortSignal;
  limits: BatchLimits;
  /** A read waiting this long for the next bytes from S3 fails (transient); default 60 s. */
  stallTimeoutMs?: number;
}

const DEFAULT_STALL_TIMEOUT_MS = 60_000;

/**
 * Why an object could not be read (GetObject failed, or its body broke off). `transient`:
 * throttling, 5xx, network — it may work later; otherwise the request itself was refused
 * (NoSuchKey, NoSuchBucket, AccessDenied...). Either way the message is left for redelivery,
 * so the queue's redrive policy decides when to give up.
 */
export class ObjectUnreadableError extends CollectorError {
  readonly transient: boolean;
  /** The AWS error code (`NoSuchKey`, `AccessDenied`, `SlowDown`...) or the network error's name. */
  readonly awsCode: string;

  constructor(ref: S3ObjectRef, operation: string, cause: unknown) {
    const transient = isTransient(cause);
    const awsCode = errorCode(cause);
    super(
      transient ? ErrorCodes.AWS_CALL_FAILED : ErrorCodes.OBJECT_UNREADABLE,
      `s3://${ref.bucket}/${ref.key} (${ref.region}): ${operation} failed: ${describeError(cause)}`,
      { cause, details: { bucket: ref.bucket, key: ref.key, region: ref.region, awsCode, operation } },
    );
    this.transient = transient;
    this.awsCode = awsCode;
  }
}

/**
 * Why an object was not read although S3 gave it: it is in a format the collector does not read
 * (OBJECT_UNSUPPORTED, e.g. Parquet without a reader) or the selected parser refuses it
 * (OBJECT_REJECTED). Its message is kept: reading it again with the right format may work, and the
 * queue's redrive policy (or max_receive_count) decides when to give up. `format`: the format
 * detected or selected; `offset`: the decompressed byte where the problem was found.
 */
export class ObjectRefusedError extends CollectorError {
  constructor(ref: S3ObjectRef, format: string, cause: CollectorError) {
    const offset = typeof cause.details.offset === 'number' ? cause.details.offset : 0;
    super(cause.code, `s3://${ref.bucket}/${ref.key} (${ref.region}), format ${format}: ${cause.message}`, {
      cause,
      details: { bucket: ref.bucket, key: ref.key, region: ref.region, format, offset },
    });
  }
}

/** Parquet files start (and end) with these bytes. */
const PARQUET_MAGIC = Buffer.from('PAR1');

/**
 * Streams one object into events: GetObject → decompression by magic bytes → the format's parser
 * → batches of at most `limits` handed to `sink.emit`, awaited one at a time, so a slow output
 * pauses the read (the HTTP body is not read further) and memory stays at about one batch plus
 * the stream buffers, whatever the object's size.
 *
 * Throws ObjectUnreadableError when S3 refuses the object or the transfer fails, ObjectRefusedError
 * when the format does not read it (a Parquet object, unless the format reads Parquet); rethrows the
 * sink's rejection (the message was given up) and the signal's abort unchanged. Corrupt content
 * is not thrown: the events before the problem are emitted and the result carries `corrupt`.
 */
export async function readObject(options: ReadObjectOptions): Promise<ObjectReadResult> {
  const { s3, ref, format, sink, signal, limits } = options;
  const source = `s3://${ref.bucket}/${ref.key}`;
  let response;
  try {
    response = await s3.send(new GetObjectCommand({ Bucket: ref.bucket, Key: ref.key }), {
      abortSignal: signal,
    });
  } catch (err) {
    if (signal.aborted) throw signal.reason;
    throw new ObjectUnreadableError(ref, 'GetObject', err);
  }
  const body = response.Body as (AsyncIterable<Uint8Array> & { destroy?(err?: Error): void }) | undefined;
  if (!body) throw new ObjectUnreadableError(ref, 'GetObject', new Error('no body in the response'));

  const parser = format.open(source, ref);
  const stream = decompress(
    guardBody(
      body,
      ref,
      signal,
      options.stallTimeoutMs ?? DEFAULT_STALL_TIMEOUT_MS,
      expectedLength(response, ref),
    ),
    { source },
  );
  const pending: CollectorEvent[] = [];
  // Events (a run of lines counts as its lines) and bytes of `pending`.
  let pendingEvents = 0;
  let pendingBytes = 0;
  let emitted = 0;
  let corrupt: CollectorError | undefined;

  const flush = async (all: boolean): Promise<void> => {
    while (
      pendingEvents >= limits.maxEvents ||
      pendingBytes >= limits.maxBytes ||
      (all && pending.length > 0)
    ) {
      // At most maxEvents events, or a single entry (a run of lines may hold more).
      let entries = 0;
      let events = 0;
      while (entries < pending.length) {
        const lines = (pending[entries] as CollectorEvent).lines ?? 1;
        if (entries > 0 && events + lines > limits.maxEvents) break;
        events += lines;
        entries++;
      }
      const batch = pending.splice(0, entries);
      pendingEvents -= events;
      pendingBytes = batchBytes(pending);
      emitted += events;
      await sink.emit(batch);
    }
  };
  const take = (parse: () => void): void => {
    const before = pending.length;
    try {
      parse();
    } finally {
      const added = pending.slice(before);
      pendingEvents += eventCount(added);
      pendingBytes += batchBytes(added);
    }
  };

  let first = true;
  try {
    try {
      for await (const chunk of stream) {
        // The first chunk holds at least the 4 bytes compression was detected from.
        if (first && !format.parquet && chunk.subarray(0, 4).equals(PARQUET_MAGIC)) {
          throw new CollectorError(ErrorCodes.OBJECT_UNSUPPORTED, 'a Parquet file, not read by this format', {
            details: { format: 'parquet', offset: 0 },
          });
        }
        first = false;
        take(() => parser.push(chunk, pending));
        if (pendingEvents >= limits.maxEvents || pendingBytes >= limits.maxBytes) await flush(false);
      }
      take(() => parser.end(pending));
    } catch (err) {
      if (
        isCollectorError(err, ErrorCodes.OBJECT_REJECTED) ||
        isCollectorError(err, ErrorCodes.OBJECT_UNSUPPORTED)
      ) {
        const detected = err.details.format;
        throw new ObjectRefusedError(ref, typeof detected === 'string' ? detected : format.name, err);
      }
      if (!isCollectorError(err, ErrorCodes.OBJECT_CORRUPT)) throw err;
      corrupt = err;
    }
    // Also after corruption: what was read before the problem is delivered.
    await flush(true);
  } finally {
    body.destroy?.();
  }
  return {
    events: emitted,
    dropped: parser.dropped,
    malformed: parser.malformed,
    compressedBytes: stream.compressedBytes,
    decompressedBytes: stream.decompressedBytes,
    ...(corrupt ? { corrupt } : {}),
  };
}

/**
 * The length the body must have: its Content-Length, else the size the notification announced when
 * the ETag shows the object is the one announced (a body delimited by the connection closing has
 * no length of its own).
 */
function expectedLength(
  response: { ContentLength?: number; ETag?: string },
  ref: S3ObjectRef,
): number | undefined {
  if (response.ContentLength !== undefined) return response.ContentLength;
  const unquoted = (etag: string | undefined): string | undefined => etag?.replace(/"/g, '');
  const announced = unquoted(ref.eTag);
  return announced !== undefined && announced === unquoted(response.ETag) ? ref.size : undefined;
}

/**
 * The response body, failing with ObjectUnreadableError when the transfer breaks off, ends before
 * `expectedBytes` (a connection closed early: the transport failed, not the content), or stalls
 * (no bytes for `stallMs` while we wait for them — time spent waiting on the output does not
 * count), and with the signal's reason when it aborts.
 */
async function* guardBody(
  body: AsyncIterable<Uint8Array> & { destroy?(err?: Error): void },
  ref: S3ObjectRef,
  signal: AbortSignal,
  stallMs: number,
  expectedBytes: number | undefined,
): AsyncGenerator<Uint8Array> {
  let received = 0;
  const iterator = body[Symbol.asyncIterator]();
  let timer: NodeJS.Timeout | undefined;
  let rejectWait: ((err: unknown) => void) | undefined;
  const onAbort = (): void => rejectWait?.(signal.reason);
  signal.addEventListener('abort', onAbort, { once: true });
  try {
    for (;;) {
      signal.throwIfAborted();
      let next: IteratorResult<Uint8Array>;
      try {
        next = await new Promise<IteratorResult<Uint8Array>>((resolve, reject) => {
          rejectWait = reject;
          timer = setTimeout(
            () =>
              reject(
                Object.assign(new Error(`no data from S3 for ${stallMs / 1000} s`), { name: 'TimeoutError' }),
              ),
            stallMs,
          );
          iterator.next().then(resolve, reject);
        });
      } catch (err) {
        if (signal.aborted) throw signal.reason;
        throw new ObjectUnreadableError(ref, 'reading the GetObject body', err);
      } finally {
        clearTimeout(timer);
        rejectWait = undefined;
      }
      if (next.done) {
        if (expectedBytes !== undefined && received < expectedBytes) {
          const short = new Error(`the body ended after ${received} of ${expectedBytes} bytes`);
          throw new ObjectUnreadableError(
            ref,
            'reading the GetObject body',
            Object.assign(short, { name: 'IncompleteBody' }),
          );
        }
        return;
      }
      received += next.value.length;
      yield next.value;
    }
  } finally {
    signal.removeEventListener('abort', onAbort);
    // Frees the connection when reading stops early (corrupt content, failure, abort).
    body.destroy?.();
  }
}

function errorCode(err: unknown): string {
  const e = err as { name?: unknown; Code?: unknown; code?: unknown };
  for (const v of [e.Code, e.name, e.code])
    if (typeof v === 'string' && v !== 'Error' && v.length > 0) return v;
  return 'Unknown';
}

/** Worth trying again later: throttling, a server-side failure, or no HTTP answer at all (network). */
function isTransient(err: unknown): boolean {
  if (isThrottling(err)) return true;
  const e = err as { $fault?: unknown; $retryable?: unknown; $metadata?: { httpStatusCode?: number } };
  if (e.$fault === 'server' || e.$retryable !== undefined) return true;
  const status = e.$metadata?.httpStatusCode;
  return status === undefined || status >= 500;
}
