import { AwsError, type AuthProblem } from './errors.js';
import type { HttpReply, Params, Protocol, RawRequest } from './protocol.js';
import { isObject } from './params.js';

export interface JsonProtocolOptions {
  version: '1.0' | '1.1';
  /** X-Amz-Target prefixes the service answers to (`AmazonSQS`, `Logs_20140328`...). */
  targets: readonly string[];
  /**
   * Services migrated from the query protocol (SQS, CloudWatch) also send the legacy error code in
   * `x-amzn-query-error`, which the SDK prefers over `__type` for naming the error.
   */
  queryCompatible?: boolean;
  /** Smithy namespace written before `#` in `__type`, as SQS and CloudWatch do. */
  errorNamespace?: string;
}

/** AWS JSON 1.0 / 1.1: POST /, X-Amz-Target names the operation, JSON in and out. */
export function jsonProtocol(options: JsonProtocolOptions): Protocol {
  const contentType = `application/x-amz-json-${options.version}`;
  const headers = (requestId: string): Record<string, string> => ({
    'content-type': contentType,
    'x-amzn-requestid': requestId,
  });
  const legacy = options.queryCompatible === true;
  const authErrors: Record<AuthProblem, () => AwsError> = {
    missing: () =>
      new AwsError('MissingAuthenticationTokenException', 'Missing Authentication Token', 403, {
        queryCode: 'MissingAuthenticationToken',
      }),
    malformed: () =>
      new AwsError(
        'IncompleteSignatureException',
        'Authorization header requires Credential, SignedHeaders, Signature and X-Amz-Date.',
        400,
        {
          queryCode: 'IncompleteSignature',
        },
      ),
    'unknown-key': () =>
      new AwsError(
        'UnrecognizedClientException',
        'The security token included in the request is invalid.',
        legacy ? 403 : 400,
        {
          queryCode: 'InvalidClientTokenId',
        },
      ),
    'bad-token': () =>
      new AwsError(
        'UnrecognizedClientException',
        'The security token included in the request is invalid.',
        legacy ? 403 : 400,
        {
          queryCode: 'InvalidClientTokenId',
        },
      ),
    expired: () =>
      new AwsError(
        'ExpiredTokenException',
        'The security token included in the request is expired',
        legacy ? 403 : 400,
        {
          queryCode: 'ExpiredToken',
        },
      ),
  };
  return {
    targets: options.targets,
    parse(req: RawRequest) {
      const target = String(req.headers['x-amz-target'] ?? '');
      const dot = target.lastIndexOf('.');
      const operation = target.slice(dot + 1);
      if (req.method !== 'POST' || dot < 0 || !options.targets.includes(target.slice(0, dot))) {
        throw new AwsError('UnknownOperationException', `Unknown operation ${target}`, 400);
      }
      const text = req.body.toString('utf8');
      let params: unknown = {};
      try {
        if (text.trim()) params = JSON.parse(text);
      } catch {
        throw new AwsError('SerializationException', 'Request body is not valid JSON.', 400);
      }
      if (!isObject(params))
        throw new AwsError('SerializationException', 'Request body must be a JSON object.', 400);
      return { operation, params: params as Params };
    },
    reply(_operation, output, requestId): HttpReply {
      return { status: 200, headers: headers(requestId), body: JSON.stringify(output ?? {}) };
    },
    errorReply(err, requestId): HttpReply {
      const type = options.errorNamespace ? `${options.errorNamespace}#${err.code}` : err.code;
      const extra: Record<string, string> = legacy
        ? { 'x-amzn-query-error': `${err.queryCode};${err.fault}` }
        : {};
      return {
        status: err.status,
        headers: { ...headers(requestId), ...extra, ...err.headers },
        body: JSON.stringify({ __type: type, message: err.message, ...err.fields }),
      };
    },
    malformedReply(_operation, requestId): HttpReply {
      return { status: 200, headers: headers(requestId), body: '{"NextToken":"eyJwIjpb' };
    },
    authError: (problem) => authErrors[problem](),
    unknownOperation: (operation) =>
      new AwsError('UnknownOperationException', `Unknown operation ${operation}`, 400),
  };
}
