import type { IncomingHttpHeaders } from 'node:http';
import type { Readable } from 'node:stream';
import type { AuthProblem, AwsError } from './errors.js';
import type { Identity } from './identity.js';

export type ServiceName = 'sts' | 'sqs' | 's3' | 'cloudtrail' | 'cloudwatch' | 'logs' | 'eventbridge';

/** A request whose body has been read (and, for S3, aws-chunked decoded by the S3 protocol). */
export interface RawRequest {
  method: string;
  /** Path as sent, still percent-encoded. */
  path: string;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

export interface HttpReply {
  status: number;
  headers: Record<string, string>;
  body?: string | Buffer | Readable;
  /** Destroy the connection after `body` although content-length promised more (a cut transfer). */
  cutShort?: boolean;
  /** Destroy the connection after this many bytes of `body` (a transfer cut midway). */
  cutAfter?: number;
  /** With cutAfter: no content-length, the body ends where the connection closes. */
  closeDelimited?: boolean;
}

export type Params = Record<string, unknown>;

export interface RequestContext {
  identity: Identity;
  region: string;
  requestId: string;
  /** The server's own address, for URLs it hands out (queue URLs). */
  endpoint: string;
  /** Aborts when the client goes away or the server stops, ending long polls and delays. */
  signal: AbortSignal;
  raw: RawRequest;
}

/** One wire protocol: how operations and inputs are read and how outputs and errors are written. */
export interface Protocol {
  /** X-Amz-Target prefixes that route a request here (JSON protocols). */
  readonly targets?: readonly string[];
  /** Operation name and input; throws AwsError for an unreadable request. */
  parse(req: RawRequest): { operation: string; params: Params };
  reply(operation: string, output: unknown, requestId: string): HttpReply;
  errorReply(err: AwsError, requestId: string, req: RawRequest): HttpReply;
  /** A 200 whose body the SDK cannot use, for the 'malformed' fault. */
  malformedReply(operation: string, requestId: string): HttpReply;
  authError(problem: AuthProblem): AwsError;
  unknownOperation(operation: string): AwsError;
}

export type Operation = (params: Params, ctx: RequestContext) => unknown;

export interface ServiceDef {
  readonly name: ServiceName;
  readonly protocol: Protocol;
  readonly operations: Readonly<Record<string, Operation>>;
  /** The error this service answers with when it throttles a caller. */
  throttlingError(): AwsError;
  /** The error this service answers with on an internal failure (500) or when unavailable (503). */
  serverError(status: 500 | 503): AwsError;
}
