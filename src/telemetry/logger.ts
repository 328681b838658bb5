import { pino, type Logger, type DestinationStream } from 'pino';
import type { Secrets } from './secrets.js';

export type { Logger };

/** Key names whose values are never logged, wherever they appear in a log record. */
const REDACT_PATHS = [
  'access_key',
  'access_secret',
  'secretAccessKey',
  'sessionToken',
  'token',
  'key',
  'password',
  '*.access_key',
  '*.access_secret',
  '*.secretAccessKey',
  '*.sessionToken',
  '*.token',
  '*.key',
  '*.password',
  'credentials',
  '*.credentials',
];

export interface LoggerOptions {
  /** The process's secrets registry: every record is scrubbed of what it holds. */
  secrets: Secrets;
  debug?: boolean;
  level?: string;
  destination?: DestinationStream;
}

export function createLogger(options: LoggerOptions): Logger {
  const { secrets } = options;
  const level = options.level ?? (options.debug ? 'debug' : 'info');
  return pino(
    {
      level,
      base: { app: 'devo-aws-collector' },
      redact: { paths: REDACT_PATHS, censor: '[REDACTED]' },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: {
        level: (label) => ({ level: label }),
        log: (obj) => secrets.scrubDeep(obj) as Record<string, unknown>,
      },
      serializers: {
        err: (err: unknown) => serializeError(err, secrets),
      },
      hooks: {
        logMethod(args, method) {
          // Scrub interpolated message strings too, not only structured fields.
          const scrubbed = args.map((a) => (typeof a === 'string' ? secrets.scrub(a) : a)) as typeof args;
          method.apply(this, scrubbed);
        },
      },
    },
    options.destination ?? pino.destination({ fd: 2, sync: false }),
  );
}

function serializeError(err: unknown, secrets: Secrets): Record<string, unknown> {
  if (!(err instanceof Error)) return { message: secrets.scrub(String(err)) };
  const out: Record<string, unknown> = { type: err.name, message: secrets.scrub(err.message) };
  const e = err as Error & { code?: unknown; details?: unknown; $metadata?: { httpStatusCode?: number } };
  if (e.code !== undefined) out.code = e.code;
  if (e.details !== undefined) out.details = secrets.scrubDeep(e.details);
  if (e.$metadata?.httpStatusCode !== undefined) out.httpStatus = e.$metadata.httpStatusCode;
  if (err.cause !== undefined) out.cause = serializeError(err.cause, secrets);
  return out;
}

/**
 * Node's own warnings (MaxListeners, the AWS SDK's Node version notice) become log records: the
 * default printer writes plain text to stderr, which breaks a JSON-lines log. Replaces it.
 */
export function logProcessWarnings(logger: Logger): void {
  process.removeAllListeners('warning');
  process.on('warning', (warning: Error & { code?: unknown }) =>
    logger.warn(
      { event: 'process_warning', warning: warning.name, ...(warning.code ? { code: warning.code } : {}) },
      warning.message,
    ),
  );
}

/** A logger that writes nowhere, for tests and library use. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
