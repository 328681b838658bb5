import { mkdtemp, rm } from 'node:fs/promises';
import { createServer as createNetServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { after, before } from 'node:test';
import { join } from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import { createServer as createTlsServer, type TlsOptions } from 'node:tls';
import { createTestPki, writeTestPki, type TestPki } from '../../sandbox/certs.js';
import type { OutputContext } from '../../src/outputs/definition.js';
import { createLogger } from '../../src/telemetry/logger.js';
import { Metrics } from '../../src/telemetry/metrics.js';
import { Secrets } from '../../src/telemetry/secrets.js';

export interface LogRecord {
  level: string;
  msg: string;
  [key: string]: unknown;
}

/** An OutputContext whose logs are kept (as the real logger writes them, scrubbing included). */
export function testContext(name: string, configDir: string): { ctx: OutputContext; logs: LogRecord[] } {
  const logs: LogRecord[] = [];
  const secrets = new Secrets();
  const logger = createLogger({
    secrets,
    level: 'debug',
    destination: { write: (line: string) => void logs.push(JSON.parse(line) as LogRecord) },
  });
  return { ctx: { name, configDir, logger, metrics: new Metrics(), secrets, hostname: 'testhost' }, logs };
}

/** Before the file's tests, a test PKI written to a temporary folder (removed after them), given to `use`. */
export function withTestPki(use: (pki: TestPki, dir: string) => void): void {
  let remove: (() => Promise<void>) | undefined;
  before(async () => {
    const pki = await createTestPki();
    const temp = await tempDir();
    remove = temp.remove;
    await writeTestPki(temp.dir, pki);
    use(pki, temp.dir);
  });
  after(() => remove?.());
}

/** A temporary folder, removed by the returned function. */
export async function tempDir(): Promise<{ dir: string; remove: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'devo-outputs-'));
  return { dir, remove: () => rm(dir, { recursive: true, force: true }) };
}

export interface ReceiverOptions {
  /** TLS server options; plain TCP when absent. */
  tls?: TlsOptions;
  /** Called for each complete line (newline framing); by default lines are kept in `lines`. */
  onLine?: (line: string) => void;
  /** false: accepts connections and never reads from them (a stalled receiver). */
  read?: boolean;
}

/**
 * A syslog receiver on 127.0.0.1 (TCP or TLS). It can go away (closing every connection
 * abruptly, as a crashed server would) and come back on the same port.
 */
export class Receiver {
  readonly lines: string[] = [];
  /** Raw bytes per connection, in arrival order (for octet-counting checks). */
  readonly raw: Buffer[][] = [];
  connections = 0;
  tlsErrors: Error[] = [];
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  port = 0;

  private constructor(private readonly options: ReceiverOptions) {}

  static async start(options: ReceiverOptions = {}): Promise<Receiver> {
    const receiver = new Receiver(options);
    await receiver.listen(0);
    return receiver;
  }

  get openSockets(): number {
    return this.sockets.size;
  }

  /** Stops reading from every connection (the client's writes back up). */
  pause(): void {
    for (const socket of this.sockets) socket.pause();
  }

  resume(): void {
    for (const socket of this.sockets) socket.resume();
  }

  /** Closes every connection at once and stops listening. */
  async goAway(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    for (const socket of this.sockets) socket.destroy();
    this.sockets.clear();
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** Listens again on the same port. */
  async comeBack(): Promise<void> {
    await this.listen(this.port);
  }

  async close(): Promise<void> {
    await this.goAway();
  }

  private async listen(port: number): Promise<void> {
    const onSocket = (socket: Socket): void => this.accept(socket);
    const server = this.options.tls ? createTlsServer(this.options.tls, onSocket) : createNetServer(onSocket);
    server.on('tlsClientError', (err: Error) => this.tlsErrors.push(err));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve());
    });
    this.server = server;
    this.port = (server.address() as AddressInfo).port;
  }

  private accept(socket: Socket): void {
    this.connections++;
    this.sockets.add(socket);
    // A peer that closes its side gets ours closed too (allowHalfOpen is off), as a syslog server does.
    socket.on('error', () => undefined);
    socket.on('close', () => this.sockets.delete(socket));
    if (this.options.read === false) {
      socket.pause();
      return;
    }
    const chunks: Buffer[] = [];
    this.raw.push(chunks);
    let partial = '';
    const decoder = new StringDecoder('utf8');
    const onLine = this.options.onLine ?? ((line: string) => this.lines.push(line));
    socket.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      const text = partial + decoder.write(chunk);
      let start = 0;
      for (let end = text.indexOf('\n'); end !== -1; end = text.indexOf('\n', start)) {
        onLine(text.slice(start, end));
        start = end + 1;
      }
      partial = text.slice(start);
    });
  }
}
