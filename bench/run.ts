import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BenchResult } from './types.js';

/**
 * `npm run bench`: every pipeline's figures in one run. Each benchmark runs in its own process,
 * so its peak RSS is its own; each prints its results as JSON lines. `--write FILE` also writes
 * the Markdown report (docs/benchmarks.md).
 */
const BENCHES = ['devo-tls', 'formats', 'sqs-events', 's3-objects', 'api-services', 'replicas'];
const here = dirname(fileURLToPath(import.meta.url));

async function runOne(name: string): Promise<BenchResult[]> {
  const ext = import.meta.url.endsWith('.ts') ? '.ts' : '.js';
  const child = spawn(process.execPath, [...process.execArgv, join(here, `${name}${ext}`)], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  if (code !== 0) throw new Error(`benchmark ${name} exited with ${code}`);
  return out
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as BenchResult);
}

function fmt(n: number | undefined, digits = 0): string {
  return n === undefined
    ? ''
    : n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
}

export function markdownTable(results: BenchResult[]): string {
  const rows = results.map(
    (r) =>
      `| ${r.name} | ${fmt(r.events)} | ${fmt(r.seconds, 2)} | ${fmt(r.eventsPerSecond)} | ${fmt(r.megabytesPerSecond, 1)} | ${fmt(r.peakRssMb)} | ${(r.notes ?? '').replaceAll('|', '\\|')} |`,
  );
  return [
    '| pipeline | events | seconds | events/s | MB/s | peak RSS MB | notes |',
    '|---|---:|---:|---:|---:|---:|---|',
    ...rows,
  ].join('\n');
}

function machine(): string {
  const cpu = cpus();
  return `${cpu.length} × ${cpu[0]?.model ?? 'unknown CPU'}, ${Math.round(totalmem() / 2 ** 30)} GiB RAM, Node.js ${process.version}, ${process.platform}/${process.arch}`;
}

async function main(): Promise<void> {
  const writeIndex = process.argv.indexOf('--write');
  const only = process.argv.slice(2).filter((a, i, all) => !a.startsWith('--') && all[i - 1] !== '--write');
  const results: BenchResult[] = [];
  for (const name of only.length > 0 ? only : BENCHES) {
    process.stderr.write(`bench: ${name}…\n`);
    const r = await runOne(name);
    results.push(...r);
    process.stdout.write(`${markdownTable(r)}\n\n`);
  }
  const table = markdownTable(results);
  process.stdout.write(`All figures:\n\n${table}\n\nMachine: ${machine()}\n`);
  if (writeIndex >= 0) {
    const file = process.argv[writeIndex + 1] ?? 'docs/benchmarks.md';
    writeFileSync(
      file,
      `# Benchmarks

Measured by \`npm run bench\` (reproduce with \`npm ci && npm run bench -- --write docs/benchmarks.md\`) on
${new Date().toISOString().slice(0, 10)}: ${machine()}.

Every benchmark runs in its own process against local stand-ins (the sandbox's fake AWS over HTTP on
127.0.0.1, a TLS receiver with client-certificate authentication, a local file), so the figures
include the stand-ins' own CPU on the same two cores. Peak RSS is that process's. On a shared virtual machine,
repeated runs of the same code vary by 20–40%: compare figures from one run, and re-run before concluding.

${table}
`,
    );
    process.stderr.write(`bench: wrote ${file}\n`);
  }
}

await main();
