import { z } from 'zod';
import type { OutputDefinition } from '../definition.js';
import { SyslogStreamOutput, connectionFields } from '../stream-output.js';

const schema = z
  .strictObject({
    address: z
      .string()
      .min(1)
      .describe('Devo relay or collector address, e.g. collector-us.devo.io (also -eu, -ca, -ap).'),
    port: z.number().int().min(1).max(65535).default(443).describe('Port of the relay or collector.'),
    type: z
      .enum(['SSL', 'TCP'])
      .default('SSL')
      .describe('SSL: TLS 1.2+ with the domain certificate (Devo). TCP: plain text, for local testing only.'),
    chain: z
      .string()
      .min(1)
      .optional()
      .describe(
        'CA chain (PEM) the server certificate must chain to; path relative to the configuration file or its certs/ folder.',
      ),
    cert: z.string().min(1).optional().describe('Domain client certificate (PEM); same path rules as chain.'),
    key: z
      .string()
      .min(1)
      .optional()
      .describe('Private key of the client certificate (unencrypted PEM); same path rules as chain.'),
    verify_hostname: z
      .boolean()
      .default(true)
      .describe('Check that the server certificate names `address`. Turning it off is logged as a warning.'),
    ...connectionFields({ connections: 2, recycleAfterSeconds: 3600 }),
  })
  .superRefine((config, issues) => {
    if (config.type !== 'SSL') return;
    for (const field of ['chain', 'cert', 'key'] as const) {
      if (config[field] === undefined) {
        issues.addIssue({ code: 'custom', path: [field], message: `${field} is required when type is SSL` });
      }
    }
  })
  .describe(
    'Devo over TLS with the domain client certificate: one line per event, `<14>Mmm dd HH:MM:SS host tag: message` (RFC 3164 header, UTC time), newline-terminated, raw line breaks in messages escaped as \\n / \\r.',
  );

export const definition: OutputDefinition<typeof schema> = {
  schema,
  create: (config, ctx) => {
    if (config.type === 'TCP') {
      ctx.logger.warn(
        { event: 'output_unencrypted', output: ctx.name, configKey: `outputs.${ctx.name}.config.type` },
        `output ${ctx.name}: type TCP sends events unencrypted and unauthenticated; Devo requires SSL`,
      );
    }
    return new SyslogStreamOutput(
      {
        address: config.address,
        port: config.port,
        transport: config.type === 'SSL' ? 'tls' : 'tcp',
        tls: config.type === 'SSL' ? { ca: config.chain, cert: config.cert, key: config.key } : {},
        verifyHostname: config.verify_hostname,
        line: { format: 'rfc3164', framing: 'newline', facility: 1, severity: 6 },
        connection: config,
      },
      ctx,
    );
  },
};
