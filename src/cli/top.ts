import { CollectorError, ErrorCodes, describeError } from '../errors.js';
import type { StatusSnapshot } from '../telemetry/status-server.js';

/** Largest /status answer read: a collector with thousands of workers stays well below. */
const MAX_STATUS_BYTES = 8 * 1024 * 1024;

/** GETs a collector's /status. */
export async function fetchStatus(baseUrl: string): Promise<StatusSnapshot> {
  const url = new URL('/status', baseUrl);
  let res: Response;
  try {
    res = await fetch(url, { signal: AbortSignal.timeout(5_000) });
  } catch (err) {
    throw new CollectorError(
      ErrorCodes.STATUS_UNAVAILABLE,
      `cannot reach ${url.href}: ${describeError(err)}`,
      {
        cause: err,
        details: { url: url.href },
      },
    );
  }
  const text = await res.text();
  if (!res.ok || text.length > MAX_STATUS_BYTES)
    throw new CollectorError(
      ErrorCodes.STATUS_UNAVAILABLE,
      `${url.href} answered HTTP ${res.status}${res.ok ? ` with more than ${MAX_STATUS_BYTES} bytes` : ''}`,
      { details: { url: url.href, status: res.status } },
    );
  return JSON.parse(text) as StatusSnapshot;
}

/**
 * One screen of `top`: a row per worker (events/s, lag, last success, errors) and per output
 * (events/s, bytes/s, connected). Rates are taken between `previous` and `current`.
 */
export function renderTop(current: StatusSnapshot, previous: StatusSnapshot | undefined): string {
  const seconds = previous ? (current.time - previous.time) / 1000 : 0;
  const rate = (now: number, before: number | undefined) =>
    before === undefined || seconds <= 0 ? '-' : ((now - before) / seconds).toFixed(1);
  const workerRows = current.workers.map((w) => {
    const before = previous?.workers.find((p) => p.task === w.task);
    const state = w.stuck ? 'STUCK' : w.lastError ? w.lastError.code : w.started ? 'ok' : 'starting';
    return [
      w.task,
      rate(w.events, before?.events),
      String(w.events),
      w.lagSeconds === null ? '-' : duration(w.lagSeconds),
      w.queueMessages === null ? '-' : String(w.queueMessages),
      w.lastSuccess === null ? 'never' : `${duration((current.time - Date.parse(w.lastSuccess)) / 1000)} ago`,
      String(w.errors),
      state,
    ];
  });
  const outputRows = current.outputs.map((o) => {
    const before = previous?.outputs.find((p) => p.name === o.name);
    const state = o.blocked ? `blocked ${o.blocked.code}` : o.connected ? 'connected' : 'disconnected';
    return [o.name, rate(o.events, before?.events), rate(o.bytes, before?.bytes), String(o.events), state];
  });
  const status = current.shuttingDown ? 'shutting down' : current.ok ? 'ready' : 'not ready';
  return [
    `devo-aws-collector — ${status} — in flight: ${current.inFlight.events} events, ${current.inFlight.bytes} bytes — ${new Date(current.time).toISOString()}`,
    '',
    table(['WORKER', 'EVENTS/S', 'EVENTS', 'LAG', 'QUEUED', 'LAST SUCCESS', 'ERRORS', 'STATE'], workerRows),
    '',
    table(['OUTPUT', 'EVENTS/S', 'BYTES/S', 'EVENTS', 'STATE'], outputRows),
    '',
  ].join('\n');
}

/** `top`: redraws every `intervalMs` until q or Ctrl-C; with `once`, prints one snapshot (rates over one interval). */
export async function runTop(options: { url: string; once: boolean; intervalMs: number }): Promise<void> {
  const { url, once, intervalMs } = options;
  let previous = await fetchStatus(url);
  if (once) {
    await new Promise((r) => setTimeout(r, intervalMs));
    process.stdout.write(renderTop(await fetchStatus(url), previous));
    return;
  }
  let stopped = false;
  const stdin = process.stdin;
  const stop = new Promise<void>((resolve) => {
    if (stdin.isTTY) stdin.setRawMode(true);
    stdin.on('data', (key: Buffer) => {
      const k = key.toString();
      // q, Ctrl-C
      if (k === 'q' || k === '\u0003') resolve();
    });
    process.once('SIGINT', () => resolve());
  }).then(() => {
    stopped = true;
  });
  // Alternate screen, cursor hidden: the terminal is left as it was on exit.
  process.stdout.write('\x1b[?1049h\x1b[?25l');
  try {
    while (!stopped) {
      let frame: string;
      try {
        const current = await fetchStatus(url);
        frame = renderTop(current, previous);
        previous = current;
      } catch (err) {
        frame = `${describeError(err)}\n(retrying; q to quit)\n`;
      }
      process.stdout.write(`\x1b[H\x1b[2J${frame}`);
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([stop, new Promise((r) => (timer = setTimeout(r, intervalMs)))]);
      clearTimeout(timer);
    }
  } finally {
    process.stdout.write('\x1b[?25h\x1b[?1049l');
    if (stdin.isTTY) stdin.setRawMode(false);
    stdin.pause();
  }
}

function table(header: string[], rows: string[][]): string {
  const all = [header, ...rows];
  const widths = header.map((_, i) => Math.max(...all.map((r) => r[i]!.length)));
  return all
    .map((r) =>
      r
        .map((cell, i) => cell.padEnd(widths[i]!))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

function duration(seconds: number): string {
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  if (s < 86_400) return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
  return `${Math.floor(s / 86_400)}d${String(Math.floor((s % 86_400) / 3600)).padStart(2, '0')}h`;
}
