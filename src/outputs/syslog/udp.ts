import { createSocket, type Socket } from 'node:dgram';
import { isIP } from 'node:net';
import { CollectorError, ErrorCodes, describeError } from '../../core/errors.js';
import { singleMessages, type CollectorEvent } from '../../core/batch.js';
import { backoffDelay, sleep } from '../../core/backoff.js';
import { backoffOptions, type BackoffConfig } from '../backoff-schema.js';
import type { OutputContext } from '../definition.js';
import type { Output } from '../output.js';
import { SyslogEncoder, type SyslogLineOptions } from '../syslog-line.js';

export interface UdpOutputSettings {
  address: string;
  port: number;
  line: Omit<SyslogLineOptions, 'hostname' | 'framing'>;
  reconnect: BackoffConfig;
}

/**
 * Syslog over UDP, one datagram per event (RFC 5426). Lossy by nature: a write resolves once
 * its datagrams were handed to the kernel, with no knowledge of whether they arrived. Datagrams
 * the kernel refuses (e.g. larger than 64 KiB) are counted and logged, not retried.
 */
export class SyslogUdpOutput implements Output {
  private readonly encoder: SyslogEncoder;
  private readonly abort = new AbortController();
  private socket: Promise<Socket> | undefined;
  private stopped = false;

  constructor(
    private readonly settings: UdpOutputSettings,
    private readonly ctx: OutputContext,
  ) {
    // Framing does not apply to datagrams; message() writes unframed messages.
    this.encoder = new SyslogEncoder({ ...settings.line, framing: 'newline', hostname: ctx.hostname });
  }

  get name(): string {
    return this.ctx.name;
  }

  /** Sets the socket up in the background: an address that does not resolve yet is retried, not fatal. */
  async start(): Promise<void> {
    void this.ensureSocket();
  }

  async write(batchEvents: readonly CollectorEvent[]): Promise<void> {
    if (this.stopped) throw this.stoppedError();
    // One datagram a message.
    const events = singleMessages(batchEvents);
    if (events.length === 0) return;
    const socket = await this.ensureSocket();
    const now = Date.now();
    let bytes = 0;
    let failed = 0;
    let firstError: Error | undefined;
    await new Promise<void>((resolve) => {
      let pending = events.length;
      for (const event of events) {
        const datagram = Buffer.from(this.encoder.message(event, now));
        bytes += datagram.length;
        socket.send(datagram, (err) => {
          if (err) {
            failed++;
            firstError ??= err;
          }
          if (--pending === 0) resolve();
        });
      }
    });
    if (failed > 0) {
      this.ctx.logger.warn(
        { output: this.name, err: firstError },
        `output ${this.name}: ${failed} of ${events.length} datagrams were not sent (UDP does not retry): ${describeError(firstError)}`,
      );
    }
    this.ctx.metrics.outputEvents.inc({ output: this.name }, events.length - failed);
    this.ctx.metrics.outputBytes.inc({ output: this.name }, bytes);
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.abort.abort();
    const socket = await this.socket?.catch(() => undefined);
    if (socket) await new Promise<void>((resolve) => socket.close(() => resolve()));
  }

  private ensureSocket(): Promise<Socket> {
    if (!this.socket) {
      this.socket = this.open();
      // Rejects only on stop(); writes waiting on it get that rejection, start() does not wait.
      this.socket.catch(() => undefined);
    }
    return this.socket;
  }

  /** A connected socket (the address is resolved once); a failing lookup is retried with backoff. */
  private async open(): Promise<Socket> {
    const { address, port } = this.settings;
    const backoff = backoffOptions(this.settings.reconnect);
    for (let attempt = 0; ; attempt++) {
      if (this.stopped) throw this.stoppedError();
      const socket = createSocket(isIP(address) === 6 ? 'udp6' : 'udp4');
      try {
        await new Promise<void>((resolve, reject) => {
          socket.once('error', reject);
          socket.connect(port, address, () => {
            socket.off('error', reject);
            resolve();
          });
        });
        // Errors after connecting (ICMP port unreachable...) are expected with UDP: no receiver, no error to act on.
        socket.on('error', (err) =>
          this.ctx.logger.debug(
            { output: this.name, err },
            `output ${this.name}: UDP error: ${describeError(err)}`,
          ),
        );
        return socket;
      } catch (err) {
        socket.close();
        this.ctx.logger.warn(
          { output: this.name, err },
          `output ${this.name}: cannot set up UDP to ${address}:${port}: ${describeError(err)}; retrying with backoff`,
        );
        await sleep(backoffDelay(attempt, backoff), this.abort.signal);
      }
    }
  }

  private stoppedError(): CollectorError {
    return new CollectorError(ErrorCodes.OUTPUT_STOPPED, `output ${this.name} is stopped`);
  }
}
