import { resolve } from 'node:path';
import { Sandbox, stopChild, type TagReport } from './environment.js';

export interface DemoOptions {
  workDir?: string;
  /** How long to wait for every event before giving up. */
  timeoutMs?: number;
  write?: (text: string) => void;
}

/**
 * `npm run demo`: the whole product on the local sandbox. Starts the fake AWS (seeded for every
 * service in two regions) and a Devo-compatible TLS receiver with mutual TLS, runs the collector
 * CLI against them until every produced event arrived, stops it with SIGTERM, and prints a table
 * per tag. Exit code 0 when nothing is missing and every SQS message was deleted.
 */
export async function runDemo(options: DemoOptions = {}): Promise<number> {
  // The sandbox's own SDK clients (rule setup) need no Node.js support notice in the demo's output.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const write = options.write ?? ((t: string) => void process.stdout.write(t));
  const workDir = resolve(options.workDir ?? '.demo');
  const started = Date.now();
  write(
    'Starting the sandbox: fake AWS (2 regions, every service) and a Devo TLS receiver with client certificates…\n',
  );
  const sandbox = await Sandbox.start({ workDir });
  try {
    const produced = [...sandbox.expected.values()].reduce((n, s) => n + s.size, 0);
    write(`Seeded ${produced} events. Running the collector: ${sandbox.configFile}\n`);
    const child = sandbox.startCollector();
    let exited = false;
    child.once('exit', () => (exited = true));
    const complete = await sandbox.waitComplete(options.timeoutMs ?? 50_000, () => exited);
    // Give the last acknowledgements (SQS deletes) a moment, then stop as an operator would.
    if (complete) await waitFor(() => sandbox.queuedMessages() === 0, 5_000);
    const code = await stopChild(child, 'SIGTERM');
    const queued = sandbox.queuedMessages();
    const rows = sandbox.report();
    write(`\n${table(rows)}\n`);
    const missing = rows.reduce((n, r) => n + r.missing, 0);
    write(
      [
        `Collector exit code: ${code}   SQS messages left in the queues: ${queued}   unexpected events: ${sandbox.unexpected}`,
        `Received events (as the Devo relay got them): ${sandbox.receivedFile}`,
        `Collector log: ${sandbox.logFile}`,
        `Finished in ${((Date.now() - started) / 1000).toFixed(1)} s.`,
        '',
      ].join('\n'),
    );
    const ok = complete && missing === 0 && queued === 0 && code === 0;
    write(ok ? 'OK: every produced event was received.\n' : `FAILED: ${missing} event(s) missing.\n`);
    return ok ? 0 : 1;
  } finally {
    await sandbox.stop();
  }
}

function table(rows: TagReport[]): string {
  const header = ['tag', 'produced', 'received', 'missing', 'duplicates'];
  const total: TagReport = rows.reduce(
    (t, r) => ({
      tag: 'total',
      produced: t.produced + r.produced,
      received: t.received + r.received,
      missing: t.missing + r.missing,
      duplicates: t.duplicates + r.duplicates,
    }),
    { tag: 'total', produced: 0, received: 0, missing: 0, duplicates: 0 },
  );
  const lines = [...rows, total].map((r) => [
    r.tag,
    String(r.produced),
    String(r.received),
    String(r.missing),
    String(r.duplicates),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]!.length)));
  const fmt = (cells: string[]) =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  const rule = widths.map((w) => '-'.repeat(w)).join('  ');
  return [fmt(header), rule, ...lines.slice(0, -1).map(fmt), rule, fmt(lines[lines.length - 1]!)].join('\n');
}

async function waitFor(condition: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
}
