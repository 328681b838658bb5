import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';
import type { TestPki } from '../../sandbox/certs.js';

export interface Received {
  method: string;
  path: string;
  encoding: string | undefined;
  body: string;
  rawBytes: number;
}

/** An HTTPS server on 127.0.0.1 whose answers the test scripts: `answer` gives the status (and headers) per request. */
export class FakeDevo {
  readonly requests: Received[] = [];
  readonly times: number[] = [];
  private server!: Server;
  port = 0;
  /** Requests being handled now, and the most at once since last reset. */
  open = 0;
  mostOpen = 0;
  answer: (req: Received, index: number) => { status: number; headers?: Record<string, string> } = () => ({
    status: 200,
  });

  async start(tls: Pick<TestPki, 'server'>): Promise<this> {
    this.server = createServer({ cert: tls.server.cert, key: tls.server.key }, (req, res) =>
      this.handle(req, res),
    );
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', () => resolve()));
    this.port = (this.server.address() as AddressInfo).port;
    return this;
  }

  /** Requests that were answered 2xx, in order. */
  get accepted(): Received[] {
    return this.requests.filter((_, i) => this.statuses[i]! < 300);
  }

  private readonly statuses: number[] = [];

  private handle(req: IncomingMessage, res: ServerResponse): void {
    this.mostOpen = Math.max(this.mostOpen, ++this.open);
    res.on('close', () => this.open--);
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks);
      const encoding = req.headers['content-encoding'];
      const received: Received = {
        method: req.method ?? '',
        path: req.url ?? '',
        encoding,
        body: (encoding === 'gzip' ? gunzipSync(raw) : raw).toString('utf8'),
        rawBytes: raw.length,
      };
      const index = this.requests.push(received) - 1;
      this.times.push(Date.now());
      const { status, headers } = this.answer(received, index);
      this.statuses.push(status);
      res.writeHead(status, headers).end(status < 300 ? '' : 'no');
    });
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
