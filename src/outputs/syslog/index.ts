import { z } from 'zod';
import { backoffSchema } from '../backoff-schema.js';
import type { OutputDefinition } from '../definition.js';
import { SyslogStreamOutput, connectionFields } from '../stream-output.js';
import { SyslogUdpOutput } from './udp.js';

const schema = z
  .strictObject({
    address: z.string().min(1).describe('Syslog server host name or IP address.'),
    port: z.number().int().min(1).max(65535).default(514).describe('Syslog server port.'),
    protocol: z
      .enum(['tcp', 'tls', 'udp'])
      .default('tcp')
      .describe(
        'tcp and tls: at-least-once over long-lived connections (as devo_platform). udp: one datagram per event, lossy (a write is accepted, and confirmed, once sent, whether or not it arrives).',
      ),
    framing: z
      .enum(['newline', 'octet-counting'])
      .default('newline')
      .describe(
        'tcp/tls only (RFC 6587). newline: each message ends with a line feed, raw line breaks in messages are escaped as \\n / \\r. octet-counting: `LEN SP MSG`, messages kept as they are.',
      ),
    format: z
      .enum(['rfc3164', 'rfc5424'])
      .default('rfc3164')
      .describe(
        'rfc3164: `<PRI>Mmm dd HH:MM:SS host tag: message`. rfc5424: `<PRI>1 YYYY-MM-DDTHH:MM:SSZ host tag - - - message` (tag as APP-NAME, at most 48 characters). Times are UTC.',
      ),
    facility: z.number().int().min(0).max(23).default(1).describe('Syslog facility (1 = user).'),
    severity: z.number().int().min(0).max(7).default(6).describe('Syslog severity (6 = informational).'),
    ca: z
      .string()
      .min(1)
      .optional()
      .describe(
        'tls: CA certificate(s) (PEM) the server must chain to; the system CAs when absent. Path relative to the configuration file or its certs/ folder.',
      ),
    cert: z
      .string()
      .min(1)
      .optional()
      .describe('tls: client certificate (PEM), with key; same path rules as ca.'),
    key: z
      .string()
      .min(1)
      .optional()
      .describe('tls: private key of the client certificate (unencrypted PEM).'),
    verify_hostname: z
      .boolean()
      .default(true)
      .describe(
        'tls: check that the server certificate names `address`. Turning it off is logged as a warning.',
      ),
    ...connectionFields({ connections: 1, recycleAfterSeconds: 0 }),
    reconnect: backoffSchema
      .prefault({})
      .describe('Backoff between connection attempts (udp: between address lookups) after a failure.'),
  })
  .superRefine((config, issues) => {
    if ((config.cert === undefined) !== (config.key === undefined)) {
      issues.addIssue({
        code: 'custom',
        path: [config.cert === undefined ? 'cert' : 'key'],
        message: 'cert and key go together',
      });
    }
    if (config.protocol !== 'tls') {
      for (const field of ['ca', 'cert', 'key'] as const) {
        if (config[field] !== undefined) {
          issues.addIssue({
            code: 'custom',
            path: [field],
            message: `${field} applies to protocol tls only`,
          });
        }
      }
    }
  })
  .describe('Generic syslog over TCP, TLS (optional client certificate) or UDP, RFC 3164 or RFC 5424.');

export const definition: OutputDefinition<typeof schema> = {
  schema,
  create: (config, ctx) => {
    const line = { format: config.format, facility: config.facility, severity: config.severity };
    if (config.protocol === 'udp') {
      return new SyslogUdpOutput(
        { address: config.address, port: config.port, line, reconnect: config.reconnect },
        ctx,
      );
    }
    return new SyslogStreamOutput(
      {
        address: config.address,
        port: config.port,
        transport: config.protocol,
        tls: { ca: config.ca, cert: config.cert, key: config.key },
        verifyHostname: config.verify_hostname,
        line: { ...line, framing: config.framing },
        connection: config,
      },
      ctx,
    );
  },
};
