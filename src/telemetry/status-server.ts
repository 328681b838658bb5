import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Health, HealthReport, OutputStatus, WorkerStatus } from './health.js';
import type { Metrics } from './metrics.js';

export interface StatusServer {
  port: number;
  close(): Promise<void>;
}

export interface StatusSources {
  metrics: Metrics;
  health: Health;
  inFlight: () => { events: number; bytes: number; batches: number };
}

/** /status: the health report with counters, which `top` turns into rates. */
export interface StatusSnapshot extends HealthReport {
  /** Epoch ms the snapshot was taken. */
  time: number;
  inFlight: { events: number; bytes: number; batches: number };
  workers: (WorkerStatus & { events: number; errors: number })[];
  outputs: (OutputStatus & { events: number; bytes: number })[];
}

/**
 * /healthz (alive, no worker stuck), /readyz (outputs connected once, workers started, not
 * shutting down) — JSON with per-worker detail, 200 or 503 — /status (JSON for `top`) and
 * /metrics (Prometheus text), on `address:port`.
 */
/** The paths the status server answers (probes and scrapers are pointed at them). */
export const STATUS_PATHS = {
  live: '/healthz',
  ready: '/readyz',
  status: '/status',
  metrics: '/metrics',
} as const;

export async function startStatusServer(
  address: string,
  port: number,
  sources: StatusSources,
): Promise<StatusServer> {
  const { metrics, health } = sources;
  const server = createServer((req, res) => {
    const path = (req.url ?? '').split('?')[0];
    if (path === STATUS_PATHS.live) sendReport(res, health.live(), sources);
    else if (path === STATUS_PATHS.ready) sendReport(res, health.ready(), sources);
    else if (path === STATUS_PATHS.status) {
      snapshot(sources).then(
        (s) => sendJson(res, 200, s),
        () => res.writeHead(500).end(),
      );
    } else if (path === STATUS_PATHS.metrics) {
      metrics.registry.metrics().then(
        (text) => res.writeHead(200, { 'content-type': metrics.registry.contentType }).end(text),
        () => res.writeHead(500).end(),
      );
    } else {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(port, address, resolve));
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

function sendReport(res: ServerResponse, report: HealthReport, sources: StatusSources): void {
  sendJson(res, report.ok ? 200 : 503, { ...report, inFlight: sources.inFlight() });
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}

async function snapshot({ metrics, health, inFlight }: StatusSources): Promise<StatusSnapshot> {
  const report = health.ready();
  const workers = await Promise.all(
    report.workers.map(async (w) => {
      const where = { service: w.service, region: w.region };
      return {
        ...w,
        events: await metrics.total('collector_events_delivered_total', where),
        errors: await metrics.total('collector_errors_total', where),
      };
    }),
  );
  const outputs = await Promise.all(
    report.outputs.map(async (o) => ({
      ...o,
      events: await metrics.total('collector_output_events_total', { output: o.name }),
      bytes: await metrics.total('collector_output_bytes_total', { output: o.name }),
    })),
  );
  return { ...report, time: Date.now(), inFlight: inFlight(), workers, outputs };
}
