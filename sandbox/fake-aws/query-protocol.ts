import { AwsError, type AuthProblem } from './errors.js';
import type { HttpReply, Protocol, RawRequest } from './protocol.js';
import { escapeXml, xmlElement, type XmlValue } from './xml.js';

const AUTH_ERRORS: Record<AuthProblem, [string, string, number]> = {
  missing: ['MissingAuthenticationToken', 'Request is missing Authentication Token', 403],
  malformed: [
    'IncompleteSignature',
    'Authorization header requires Credential, SignedHeaders, Signature and X-Amz-Date.',
    400,
  ],
  'unknown-key': ['InvalidClientTokenId', 'The security token included in the request is invalid.', 403],
  'bad-token': ['InvalidClientTokenId', 'The security token included in the request is invalid.', 403],
  expired: ['ExpiredToken', 'The security token included in the request is expired', 403],
};

/** AWS query protocol: form-encoded Action/Version/params in, `<ActionResponse>` XML out. */
export function queryProtocol(xmlns: string, version: string): Protocol {
  const headers = (requestId: string): Record<string, string> => ({
    'content-type': 'text/xml',
    'x-amzn-requestid': requestId,
  });
  return {
    parse(req: RawRequest) {
      const form = new URLSearchParams(req.query);
      if (req.method === 'POST')
        for (const [k, v] of new URLSearchParams(req.body.toString('utf8'))) form.set(k, v);
      const operation = form.get('Action');
      if (!operation) throw new AwsError('MissingAction', 'Missing Action', 400);
      form.delete('Action');
      form.delete('Version');
      return { operation, params: Object.fromEntries(form) };
    },
    reply(operation, output, requestId): HttpReply {
      const body =
        `<${operation}Response xmlns="${xmlns}">` +
        xmlElement(`${operation}Result`, (output ?? {}) as XmlValue) +
        `<ResponseMetadata><RequestId>${requestId}</RequestId></ResponseMetadata></${operation}Response>`;
      return { status: 200, headers: headers(requestId), body };
    },
    errorReply(err, requestId): HttpReply {
      const body =
        `<ErrorResponse xmlns="${xmlns}"><Error><Type>${err.fault}</Type><Code>${escapeXml(err.code)}</Code>` +
        `<Message>${escapeXml(err.message)}</Message></Error><RequestId>${requestId}</RequestId></ErrorResponse>`;
      return { status: err.status, headers: { ...headers(requestId), ...err.headers }, body };
    },
    malformedReply(operation, requestId): HttpReply {
      return {
        status: 200,
        headers: headers(requestId),
        body: `<${operation}Response xmlns="${xmlns}"><${operation}Res`,
      };
    },
    authError(problem) {
      const [code, message, status] = AUTH_ERRORS[problem];
      return new AwsError(code, message, status);
    },
    unknownOperation: (operation) =>
      new AwsError('InvalidAction', `Could not find operation ${operation} for version ${version}`, 400),
  };
}
