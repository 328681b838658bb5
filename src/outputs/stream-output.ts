import { connect as netConnect, isIP, type Socket } from 'node:net';
import {
  checkServerIdentity,
  connect as tlsConnect,
  createSecureContext,
  type SecureContext,
} from 'node:tls';
import { z } from 'zod';
import { CollectorError, ErrorCodes, describeError } from '../core/errors.js';
import { eventCount, type CollectorEvent } from '../core/batch.js';
import { backoffSchema } from './backoff-schema.js';
import { ConnectionPool } from './connection-pool.js';
import type { OutputContext } from './definition.js';
import type { Accepted, Output } from './output.js';
import { SyslogEncoder, type SyslogLineOptions } from './syslog-line.js';
import { loadTlsMaterial, type TlsFiles } from './tls-material.js';

/** Connection settings shared by devo_platform and syslog (TCP/TLS); defaults differ per output. */
export function connectionFields(defaults: { connections: number; recycleAfterSeconds: number }) {
  return {
    connections: z
      .number()
      .int()
      .min(1)
      .max(64)
      .default(defaults.connections)
      .describe('Parallel connections; each write goes whole to one of them.'),
    connect_timeout_seconds: z
      .number()
      .positive()
      .default(10)
      .describe('Time allowed to open a connection, TLS handshake included.'),
    recycle_after_seconds: z
      .number()
      .int()
      .min(0)
      .default(defaults.recycleAfterSeconds)
      .describe(
        'Close each connection gracefully and open a new one after about this many seconds (±10 %), so load balancers can spread connections; 0 = never.',
      ),
    reconnect: backoffSchema.prefault({}).describe('Backoff between connection attempts after a failure.'),
    resend_window_bytes: z
      .number()
      .int()
      .min(0)
      .max(1024 * 1024 * 1024)
      .default(16 * 1024 * 1024)
      .describe(
        'Bytes already flushed that each connection keeps and sends again if it breaks: a flush only means the kernel took them, and what sat in socket buffers when the receiver failed would be lost. Bounds the duplicates after a failure. Events are acknowledged at their source (SQS delete, checkpoint) only once their bytes left this window (or the receiver closed cleanly after reading them). Each connection copies them into a buffer of this size (at most 1 GiB), filled as it sends; 0 keeps nothing (and confirms on flush).',
      ),
    resend_window_seconds: z
      .number()
      .positive()
      .default(30)
      .describe(
        'Flushed data older than this is taken as received and not sent again after a break: older than this before the last flush, or this old while nothing waits to be written. Its events are then acknowledged at their source.',
      ),
  };
}

type ConnectionFields = ReturnType<typeof connectionFields>;
export type ConnectionConfig = { [K in keyof ConnectionFields]: z.output<ConnectionFields[K]> };

export interface StreamOutputSettings {
  address: string;
  port: number;
  transport: 'tls' | 'tcp';
  /** TLS only: `ca` verifies the server (system CAs when absent), `cert` + `key` authenticate us. */
  tls: TlsFiles;
  verifyHostname: boolean;
  line: Omit<SyslogLineOptions, 'hostname'>;
  connection: ConnectionConfig;
}

/** OpenSSL / Node codes of a server certificate that failed verification: a configuration problem, logged as an error. */
const VERIFY_CODES = new Set([
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'CERT_SIGNATURE_FAILURE',
  'CERT_NOT_YET_VALID',
  'CERT_HAS_EXPIRED',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'CERT_CHAIN_TOO_LONG',
  'CERT_REVOKED',
  'INVALID_CA',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'HOSTNAME_MISMATCH',
]);
/** Warn this long before the client certificate expires. */
const EXPIRY_WARNING_MS = 30 * 24 * 3600 * 1000;
/** Longest wait, closing a connection gracefully, for the receiver to close after reading everything. */
export const CLOSE_TIMEOUT_MS = 5_000;
/** See ConnectionPoolOptions#idleConfirmMs: a reconnect at most about this often, only when idle. */
const IDLE_CONFIRM_MS = 1_000;

/**
 * Syslog over long-lived TCP or TLS connections: devo_platform (RFC 3164, newline framing,
 * TLS with a client certificate) and the generic syslog output. One Buffer per write goes to the
 * connection pool; the write resolves when it was flushed to the kernel.
 */
export class SyslogStreamOutput implements Output {
  readonly tracksConnection = true;
  private readonly encoder: SyslogEncoder;
  private readonly pool: ConnectionPool;
  private readonly target: string;
  private secureContext: SecureContext | undefined;
  private starting: Promise<void> | undefined;
  private stopped = false;

  constructor(
    private readonly settings: StreamOutputSettings,
    private readonly ctx: OutputContext,
  ) {
    this.encoder = new SyslogEncoder({ ...settings.line, hostname: ctx.hostname });
    this.target = `${settings.address}:${settings.port}`;
    const c = settings.connection;
    this.pool = new ConnectionPool({
      name: ctx.name,
      target: this.target,
      connections: c.connections,
      connect: (signal) => this.connect(signal),
      reconnect: c.reconnect,
      recycleAfterMs: c.recycle_after_seconds * 1000,
      resendWindowBytes: c.resend_window_bytes,
      resendWindowMs: c.resend_window_seconds * 1000,
      closeTimeoutMs: CLOSE_TIMEOUT_MS,
      idleConfirmMs: IDLE_CONFIRM_MS,
      logger: ctx.logger,
      health: ctx.health,
      metrics: ctx.metrics,
    });
  }

  get name(): string {
    return this.ctx.name;
  }

  /** Bytes held in memory (queued, in flight, resend windows). */
  get bufferedBytes(): number {
    return this.pool.bufferedBytes;
  }

  start(): Promise<void> {
    this.starting ??= this.open();
    return this.starting;
  }

  async write(events: readonly CollectorEvent[]): Promise<Accepted | void> {
    if (this.stopped) throw new CollectorError(ErrorCodes.OUTPUT_STOPPED, `output ${this.name} is stopped`);
    if (events.length === 0) return;
    await this.start();
    const data = this.encoder.encode(events);
    const sent = await this.pool.send(data);
    this.ctx.metrics.outputEvents.inc({ output: this.name }, eventCount(events));
    this.ctx.metrics.outputBytes.inc({ output: this.name }, data.length);
    return sent;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.pool.stop();
  }

  private async open(): Promise<void> {
    const { logger, name } = this.ctx;
    if (this.settings.transport === 'tls') {
      const material = await loadTlsMaterial(
        this.settings.tls,
        {
          configDir: this.ctx.configDir,
          configKey: `outputs.${name}.config`,
        },
        this.ctx.secrets,
      );
      // One context for every connection: the files are parsed once, and a bad combination fails here.
      try {
        this.secureContext = createSecureContext({
          minVersion: 'TLSv1.2',
          ...(material.ca ? { ca: material.ca } : {}),
          ...(material.cert ? { cert: material.cert } : {}),
          ...(material.key ? { key: material.key } : {}),
        });
      } catch (err) {
        throw new CollectorError(
          ErrorCodes.TLS_MATERIAL,
          `output ${name}: the TLS files of outputs.${name}.config cannot be used together: ${describeError(err)}`,
          { cause: err },
        );
      }
      if (material.certValidTo) {
        const left = material.certValidTo.getTime() - Date.now();
        const message = `output ${name}: client certificate ${material.certSubject} is valid until ${material.certValidTo.toISOString()}`;
        const fields = { event: 'tls_certificate_valid_until', output: name, validTo: material.certValidTo };
        if (left < EXPIRY_WARNING_MS) logger.warn(fields, `${message}: renew it soon`);
        else logger.info(fields, message);
      }
      if (!this.settings.verifyHostname) {
        logger.warn(
          {
            event: 'tls_hostname_unverified',
            output: name,
            configKey: `outputs.${name}.config.verify_hostname`,
          },
          `output ${name}: verify_hostname is false: the server certificate is checked against the CA but not against ${this.settings.address}`,
        );
      }
    }
    if (this.stopped) return;
    this.pool.start();
  }

  private connect(signal: AbortSignal): Promise<Socket> {
    const { address: host, port, connection } = this.settings;
    const timeoutMs = connection.connect_timeout_seconds * 1000;
    return new Promise<Socket>((resolve, reject) => {
      const tls = this.settings.transport === 'tls';
      const socket = tls
        ? tlsConnect({
            host,
            port,
            secureContext: this.secureContext!,
            // SNI carries names only; an IP address is checked against the certificate's IP entries.
            ...(isIP(host) ? {} : { servername: host }),
            rejectUnauthorized: true,
            checkServerIdentity: this.settings.verifyHostname ? checkServerIdentity : () => undefined,
          })
        : netConnect({ host, port });
      const fail = (err: Error): void => {
        cleanup();
        socket.destroy();
        reject(this.connectError(err, tls));
      };
      const ready = (): void => {
        cleanup();
        socket.setNoDelay(true);
        socket.setKeepAlive(true, 30_000);
        resolve(socket);
      };
      const onAbort = (): void => fail(new Error('output stopped'));
      const timer = setTimeout(
        () => fail(new Error(`no ${tls ? 'TLS session' : 'connection'} within ${timeoutMs / 1000} s`)),
        timeoutMs,
      );
      const cleanup = (): void => {
        clearTimeout(timer);
        signal.removeEventListener('abort', onAbort);
        socket.off('error', fail);
        socket.off(tls ? 'secureConnect' : 'connect', ready);
      };
      socket.once('error', fail);
      socket.once(tls ? 'secureConnect' : 'connect', ready);
      if (signal.aborted) onAbort();
      else signal.addEventListener('abort', onAbort, { once: true });
    });
  }

  private connectError(err: Error, tls: boolean): CollectorError {
    const code = (err as { code?: unknown }).code;
    const verification = tls && typeof code === 'string' && VERIFY_CODES.has(code);
    const hint = verification
      ? ' (server certificate rejected: check the CA chain, the address and verify_hostname)'
      : '';
    return new CollectorError(ErrorCodes.OUTPUT_UNAVAILABLE, `${describeError(err)}${hint}`, {
      cause: err,
      details: { target: this.target, tlsVerification: verification },
    });
  }
}
