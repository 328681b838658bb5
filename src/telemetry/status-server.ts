import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Metrics } from './metrics.js';

export interface StatusServer {
  port: number;
  close(): Promise<void>;
}

/** /healthz (JSON: in-flight window) and /metrics (Prometheus text) on 127.0.0.1. */
export async function startStatusServer(
  port: number,
  metrics: Metrics,
  inFlight: () => { events: number; bytes: number; batches: number },
): Promise<StatusServer> {
  const server = createServer((req, res) => {
    if (req.url === '/healthz') {
      res
        .writeHead(200, { 'content-type': 'application/json' })
        .end(JSON.stringify({ status: 'ok', inFlight: inFlight() }));
    } else if (req.url === '/metrics') {
      metrics.registry.metrics().then(
        (text) => res.writeHead(200, { 'content-type': metrics.registry.contentType }).end(text),
        () => res.writeHead(500).end(),
      );
    } else {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve, reject) =>
    server.once('error', reject).listen(port, '127.0.0.1', resolve),
  );
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        // close() alone waits for every connection that is not idle between requests, including
        // one that connected and never sent a request: shutdown would hang until Node's timeouts.
        server.closeAllConnections();
      }),
  };
}
