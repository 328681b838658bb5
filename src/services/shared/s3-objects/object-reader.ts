import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { isThrottling } from '../../../aws/throttling.js';
import { CollectorError, ErrorCodes, describeError, isCollectorError } from '../../../core/errors.js';
import { decompress } from '../../../formats/compression.js';
import { isParquet, ParquetTextStream, type RangeReader } from '../../../formats/parquet.js';
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
    // A size limit of ours refused the object (a Parquet row group): S3 is not at fault, and
    // reading it again cannot help before the limit is raised.
    const limit = isCollectorError(cause, ErrorCodes.OBJECT_LIMIT_EXCEEDED) ? cause : undefined;
    const transient = limit === undefined && isTransient(cause);
    const awsCode = limit?.code ?? errorCode(cause);
    super(
      limit?.code ?? (transient ? ErrorCodes.AWS_CALL_FAILED : ErrorCodes.OBJECT_UNREADABLE),
      `s3://${ref.bucket}/${ref.key} (${ref.region}): ${operation} failed: ${describeError(cause)}`,
      {
        cause,
        details: {
          ...limit?.details,
          bucket: ref.bucket,
          key: ref.key,
          region: ref.region,
          awsCode,
          operation,
        },
      },
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
  const size = expectedLength(response, ref);
  const guarded = guardBody(body, ref, signal, options.stallTimeoutMs ?? DEFAULT_STALL_TIMEOUT_MS, size);
  const { head, all } = await peek(guarded, 4);
  let stream: AsyncIterable<Buffer> & { compressedBytes: number; decompressedBytes: number };
  const parquet = format.parquet?.(ref.key);
  if (parquet !== undefined && isParquet(head)) {
    // Parquet is read from its footer: this body is not needed, ranged GETs of the same version
    // read the footer and one row group at a time.
    await guarded.return(undefined);
    if (size === undefined) {
      throw new ObjectUnreadableError(
        ref,
        'GetObject',
        new Error('no Content-Length: cannot locate the Parquet footer'),
      );
    }
    stream = new ParquetTextStream(rangeReader(s3, ref, response.ETag, signal), size, parquet, source);
  } else {
    stream = decompress(all, { source });
  }
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
        if (first && parquet === undefined && isParquet(chunk)) {
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
      // Refused by a size limit before anything was read: the message is kept, as for S3 failures.
      if (isCollectorError(err, ErrorCodes.OBJECT_LIMIT_EXCEEDED))
        throw new ObjectUnreadableError(ref, 'reading', err);
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

/** Reads byte ranges of the object, of the version first read (If-Match on its ETag). */
function rangeReader(
  s3: S3Client,
  ref: S3ObjectRef,
  eTag: string | undefined,
  signal: AbortSignal,
): RangeReader {
  return async (start, end) => {
    const range = `bytes=${start}-${end - 1}`;
    const operation = `GetObject ${range}`;
    let bytes: Uint8Array;
    try {
      const response = await s3.send(
        new GetObjectCommand({ Bucket: ref.bucket, Key: ref.key, Range: range, IfMatch: eTag }),
        { abortSignal: signal },
      );
      if (!response.Body) throw new Error('no body in the response');
      bytes = await response.Body.transformToByteArray();
    } catch (err) {
      if (signal.aborted) throw signal.reason;
      throw new ObjectUnreadableError(ref, operation, err);
    }
    if (bytes.length !== end - start) {
      const short = new Error(`the body holds ${bytes.length} of ${end - start} bytes`);
      throw new ObjectUnreadableError(ref, operation, Object.assign(short, { name: 'IncompleteBody' }));
    }
    return bytes;
  };
}

/**
 * The first `n` bytes of a stream (fewer if it is shorter), read ahead, and the whole stream,
 * those bytes included.
 */
async function peek(
  stream: AsyncIterator<Uint8Array>,
  n: number,
): Promise<{ head: Uint8Array; all: AsyncIterable<Uint8Array> }> {
  const first: Uint8Array[] = [];
  let length = 0;
  let done = false;
  while (length < n) {
    const next = await stream.next();
    if (next.done) {
      done = true;
      break;
    }
    first.push(next.value);
    length += next.value.length;
  }
  async function* all(): AsyncGenerator<Uint8Array> {
    yield* first;
    if (done) return;
    for (;;) {
      const next = await stream.next();
      if (next.done) return;
      yield next.value;
    }
  }
  return { head: Buffer.concat(first).subarray(0, n), all: all() };
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
