/**
 * Errors with a stable `code` (for logs, metrics and tests) and a `cause`, in the manner of
 * undici's lib/core/errors.js. Messages name the place (config key, file, queue, S3 key); they
 * never carry secrets.
 */
export const ErrorCodes = {
  CONFIG_INVALID: 'CONFIG_INVALID',
  CONFIG_UNREADABLE: 'CONFIG_UNREADABLE',
  SECRET_UNAVAILABLE: 'SECRET_UNAVAILABLE',
  STATE_UNREADABLE: 'STATE_UNREADABLE',
  STATE_WRITE_FAILED: 'STATE_WRITE_FAILED',
  /** Another process holds the state directory (two collectors on one folder would race on its checkpoints). */
  STATE_LOCKED: 'STATE_LOCKED',
  /** The Redis of `globals.persistence` cannot be reached at start. */
  STATE_UNREACHABLE: 'STATE_UNREACHABLE',
  /** This replica no longer holds the lease of a pull task: its deliveries and checkpoint writes are refused. */
  LEASE_LOST: 'LEASE_LOST',
  AWS_CALL_FAILED: 'AWS_CALL_FAILED',
  /** An account's target_assume_role could not be assumed (AccessDenied, a wrong external id...). */
  ASSUME_ROLE_FAILED: 'ASSUME_ROLE_FAILED',
  /** AWS asked us to slow down (a throttling error after the SDK's own retries). */
  AWS_THROTTLED: 'AWS_THROTTLED',
  QUEUE_NOT_FOUND: 'QUEUE_NOT_FOUND',
  LOG_GROUP_NOT_FOUND: 'LOG_GROUP_NOT_FOUND',
  OBJECT_UNREADABLE: 'OBJECT_UNREADABLE',
  OBJECT_CORRUPT: 'OBJECT_CORRUPT',
  /** A part of an object exceeds a configured size limit (a Parquet row group): its message is kept. */
  OBJECT_LIMIT_EXCEEDED: 'OBJECT_LIMIT_EXCEEDED',
  /** An object in a format the collector does not read (e.g. Parquet without a reader): its message is kept. */
  OBJECT_UNSUPPORTED: 'OBJECT_UNSUPPORTED',
  /** The selected format's parser refuses the object (not of that format): its message is kept. */
  OBJECT_REJECTED: 'OBJECT_REJECTED',
  /** A message that kept failing was deleted after max_receive_count receives (no redrive policy). */
  MESSAGE_DROPPED: 'MESSAGE_DROPPED',
  OUTPUT_CONFIG: 'OUTPUT_CONFIG',
  OUTPUT_UNAVAILABLE: 'OUTPUT_UNAVAILABLE',
  OUTPUT_REJECTED: 'OUTPUT_REJECTED',
  OUTPUT_STOPPED: 'OUTPUT_STOPPED',
  TLS_MATERIAL: 'TLS_MATERIAL',
  SHUTTING_DOWN: 'SHUTTING_DOWN',
  STATUS_UNAVAILABLE: 'STATUS_UNAVAILABLE',
} as const;

export type ErrorCode = (typeof ErrorCodes)[keyof typeof ErrorCodes];

export class CollectorError extends Error {
  readonly code: ErrorCode;
  /** Structured, secret-free context (queue, region, bucket, key, file...). */
  readonly details: Readonly<Record<string, unknown>>;

  constructor(
    code: ErrorCode,
    message: string,
    options: { cause?: unknown; details?: Record<string, unknown> } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'CollectorError';
    this.code = code;
    this.details = Object.freeze({ ...options.details });
  }
}

/** What work cut short by the collector's shutdown fails with (batches released, messages returned). */
export function shuttingDownError(cause?: unknown): CollectorError {
  return new CollectorError(ErrorCodes.SHUTTING_DOWN, 'collector is shutting down', { cause });
}

export function isCollectorError(err: unknown, code?: ErrorCode): err is CollectorError {
  return err instanceof CollectorError && (code === undefined || err.code === code);
}

/** A one-line description of any thrown value, for logs. */
export function describeError(err: unknown): string {
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code ?? (err as { name?: unknown }).name;
    return code && code !== 'Error' ? `${String(code)}: ${err.message}` : err.message;
  }
  return String(err);
}
