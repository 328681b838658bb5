/**
 * An error as an AWS service reports it. Each protocol renders it its own way (JSON `__type`,
 * query/REST XML `<Code>`); the direct seeding APIs throw it too, so tests see the same codes the
 * SDK would.
 */
export class AwsError extends Error {
  override readonly name = 'AwsError';
  /** Error code as the protocol writes it: the JSON shape name or the XML `<Code>`. */
  readonly code: string;
  readonly status: number;
  /** Code of the legacy query API, sent in `x-amzn-query-error` by query-compatible JSON services. */
  readonly queryCode: string;
  readonly fault: 'Sender' | 'Receiver';
  /** Extra response headers (e.g. S3's `x-amz-bucket-region`). */
  readonly headers: Readonly<Record<string, string>>;
  /** Extra fields of the error body (e.g. S3's `<Key>`, `<BucketName>`). */
  readonly fields: Readonly<Record<string, string>>;

  constructor(
    code: string,
    message: string,
    status = 400,
    options: { queryCode?: string; headers?: Record<string, string>; fields?: Record<string, string> } = {},
  ) {
    super(message);
    this.code = code;
    this.status = status;
    this.queryCode = options.queryCode ?? code;
    this.fault = status >= 500 ? 'Receiver' : 'Sender';
    this.headers = { ...options.headers };
    this.fields = { ...options.fields };
  }
}

/** Reasons a request's credentials are refused, mapped to each protocol's own error codes. */
export type AuthProblem = 'missing' | 'malformed' | 'unknown-key' | 'bad-token' | 'expired';

/** The generic server-side failures most services share (S3, SQS, STS, CloudTrail...). */
export function serverError(status: 500 | 503): AwsError {
  return status === 500
    ? new AwsError('InternalError', 'We encountered an internal error. Please try again.', 500, {
        queryCode: 'InternalError',
      })
    : new AwsError('ServiceUnavailable', 'Service is unavailable. Please try again later.', 503, {
        queryCode: 'ServiceUnavailable',
      });
}
