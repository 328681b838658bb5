import { createWriteStream, type WriteStream } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { createServer, type Server, type TLSSocket } from 'node:tls';
import type { TestPki } from './certs.js';

/** One event as Devo's relay would take it: the syslog tag names the table. */
export interface ReceivedEvent {
  tag: string;
  message: string;
}

/** `<14>Mmm dd HH:MM:SS <hostname> <tag>: <message>` — RFC 3164 as Devo's collectors send it. */
const LINE = /^<\d{1,3}>[A-Z][a-z]{2} [ \d]\d \d{2}:\d{2}:\d{2} \S+ ([^\s:]+): (.*)$/s;

export function parseDevoLine(line: string): ReceivedEvent | undefined {
  const m = LINE.exec(line);
  return m ? { tag: m[1]!, message: m[2]! } : undefined;
}

/**
 * A local stand-in for Devo's TLS relay (collector-<region>.devo.io:443): TLS with a required
 * client certificate signed by the demo CA, newline-framed syslog lines. Every received line is
 * appended to `file` (when given) and handed to `onEvent`.
 */
export class DevoReceiver {
  private readonly sockets = new Set<TLSSocket>();
  private out: WriteStream | undefined;
  lines = 0;
  malformed = 0;
  refused = 0;

  private constructor(
    private readonly server: Server,
    private readonly onEvent: (event: ReceivedEvent) => void,
  ) {}

  static async start(
    pki: TestPki,
    options: { file?: string; onEvent: (event: ReceivedEvent) => void; port?: number },
  ): Promise<DevoReceiver> {
    const server = createServer({
      key: pki.server.key,
      cert: pki.server.cert,
      ca: pki.ca.cert,
      requestCert: true,
      rejectUnauthorized: true,
      minVersion: 'TLSv1.2',
    });
    const receiver = new DevoReceiver(server, options.onEvent);
    if (options.file) receiver.out = createWriteStream(options.file, { flags: 'a' });
    server.on('secureConnection', (socket) => receiver.accept(socket));
    server.on('tlsClientError', () => (receiver.refused += 1));
    await new Promise<void>((resolve, reject) =>
      server.once('error', reject).listen(options.port ?? 0, '127.0.0.1', resolve),
    );
    return receiver;
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  private accept(socket: TLSSocket): void {
    this.sockets.add(socket);
    socket.setEncoding('utf8');
    let pending = '';
    socket.on('data', (chunk: string) => {
      pending += chunk;
      let nl: number;
      while ((nl = pending.indexOf('\n')) >= 0) {
        this.line(pending.slice(0, nl));
        pending = pending.slice(nl + 1);
      }
    });
    socket.on('error', () => undefined);
    socket.on('close', () => this.sockets.delete(socket));
  }

  private line(line: string): void {
    this.lines += 1;
    this.out?.write(`${line}\n`);
    const event = parseDevoLine(line);
    if (event) this.onEvent(event);
    else this.malformed += 1;
  }

  async stop(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    const out = this.out;
    if (out) await new Promise<void>((resolve) => out.end(resolve));
  }
}
