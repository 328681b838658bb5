import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createTestPki, writeTestPki } from '../certs.js';
import { DevoReceiver } from '../devo-receiver.js';
import { startFakeAws, type FakeAws } from '../fake-aws/index.js';
import { identityOf, seedSandbox, type SeedNames } from './seed.js';

/** The built CLI, as users run it: beside this file in dist/, or dist/ itself when tests run the sources. */
const CLI = fileURLToPath(
  new URL(
    import.meta.url.includes('/dist/') ? '../../src/cli/main.js' : '../../dist/src/cli/main.js',
    import.meta.url,
  ),
);

export interface SandboxOptions {
  /** Folder for the configuration, certificates, state, received events and logs (emptied first). */
  workDir: string;
  regions?: string[];
  /** Multiplies the amount of generated data. */
  scale?: number;
  /** Extra `globals` lines for the generated configuration (YAML, two-space indented). */
  globals?: Record<string, string | number>;
  /** SQS visibility timeout used by every SQS-fed service. */
  visibilityTimeoutSeconds?: number;
}

export interface TagReport {
  tag: string;
  produced: number;
  received: number;
  missing: number;
  duplicates: number;
}

/**
 * A complete sandbox: the fake AWS seeded for every service, a Devo-compatible TLS receiver with
 * mutual TLS (certificates made on the fly), and a collector configuration enabling every service
 * in every region. Used by `npm run demo` and by the end-to-end crash test.
 */
export class Sandbox {
  /** tag → identity → times received. */
  private readonly received = new Map<string, Map<string, number>>();
  unexpected = 0;

  private constructor(
    readonly fake: FakeAws,
    readonly receiver: DevoReceiver,
    readonly expected: Map<string, Set<string>>,
    readonly queues: { region: string; name: string }[],
    readonly configFile: string,
    readonly receivedFile: string,
    readonly logFile: string,
    readonly workDir: string,
  ) {}

  static async start(options: SandboxOptions): Promise<Sandbox> {
    const regions = options.regions ?? ['us-east-1', 'eu-west-1'];
    const workDir = options.workDir;
    await rm(workDir, { recursive: true, force: true });
    await mkdir(join(workDir, 'certs'), { recursive: true });
    const fake = await startFakeAws();
    const names: SeedNames = {
      inputId: 'demo',
      serviceEventsQueue: 'devo-cwe-123456789012.fifo',
      securityHubQueue: 'devo-securityhub-findings',
      cloudTrailQueue: 'devo-cloudtrail-files.fifo',
      logGroups: ['/aws/lambda/orders-api', '/aws/ecs/billing-worker'],
      startTime: new Date(Math.floor(Date.now() / 1000) * 1000 - 3_600_000),
    };
    const { expected, queues } = await seedSandbox(fake, regions, names, options.scale ?? 1);

    const pki = await createTestPki();
    const files = await writeTestPki(join(workDir, 'certs'), pki);
    const receivedFile = join(workDir, 'received.log');
    // The receiver starts first (the configuration needs its port); it reports to the sandbox once made.
    const ref: { sandbox?: Sandbox } = {};
    const receiver = await DevoReceiver.start(pki, {
      file: receivedFile,
      onEvent: (e) => ref.sandbox?.record(e.tag, e.message),
    });

    const configFile = join(workDir, 'collector.yaml');
    await writeFile(
      configFile,
      configuration(options, regions, names, fake.endpoint, receiver.port, files, join(workDir, 'state')),
    );
    ref.sandbox = new Sandbox(
      fake,
      receiver,
      expected,
      queues,
      configFile,
      receivedFile,
      join(workDir, 'collector.log'),
      workDir,
    );
    return ref.sandbox;
  }

  private record(tag: string, message: string): void {
    const wanted = this.expected.get(tag);
    let id: string;
    try {
      id = identityOf(tag, message);
    } catch {
      this.unexpected += 1;
      return;
    }
    if (!wanted?.has(id)) {
      this.unexpected += 1;
      return;
    }
    let seen = this.received.get(tag);
    if (!seen) this.received.set(tag, (seen = new Map()));
    seen.set(id, (seen.get(id) ?? 0) + 1);
  }

  report(): TagReport[] {
    return [...this.expected.entries()]
      .map(([tag, ids]) => {
        const seen = this.received.get(tag) ?? new Map<string, number>();
        let duplicates = 0;
        for (const n of seen.values()) duplicates += n - 1;
        return { tag, produced: ids.size, received: seen.size, missing: ids.size - seen.size, duplicates };
      })
      .sort((a, b) => a.tag.localeCompare(b.tag));
  }

  get complete(): boolean {
    return this.report().every((r) => r.missing === 0);
  }

  /** Messages still in the queues (visible or in flight): zero once everything was delivered and deleted. */
  queuedMessages(): number {
    let n = 0;
    for (const q of this.queues) {
      const s = this.fake.sqs.stats(q.region, q.name);
      n += s.visible + s.inFlight + s.delayed;
    }
    return n;
  }

  /** Starts the collector as a child process (`run --config`), its log appended to `logFile`. */
  startCollector(): ChildProcess {
    const log = createWriteStream(this.logFile, { flags: 'a' });
    const child = spawn(process.execPath, [CLI, 'run', '--config', this.configFile], {
      cwd: this.workDir,
      env: {
        ...process.env,
        DEMO_AWS_SECRET: 'sandbox-secret-access-key',
        AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout!.pipe(log, { end: false });
    child.stderr!.pipe(log, { end: false });
    child.once('exit', () => log.end());
    return child;
  }

  /** Waits until every produced event arrived (true), or `timeoutMs` passed (false). */
  async waitComplete(timeoutMs: number, stop?: () => boolean): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (!this.complete) {
      if (Date.now() > deadline || stop?.()) return false;
      await new Promise((r) => setTimeout(r, 100));
    }
    return true;
  }

  async stop(): Promise<void> {
    await this.receiver.stop();
    await this.fake.stop();
  }
}

/** Ends a child process with `signal` and resolves with its exit code (or signal name). */
export function stopChild(child: ChildProcess, signal: NodeJS.Signals): Promise<number | string> {
  if (child.exitCode !== null || child.signalCode !== null)
    return Promise.resolve(child.exitCode ?? child.signalCode ?? 'unknown');
  return new Promise((resolve) => {
    child.once('exit', (code, sig) => resolve(code ?? sig ?? 'unknown'));
    child.kill(signal);
  });
}

function configuration(
  options: SandboxOptions,
  regions: string[],
  names: SeedNames,
  endpoint: string,
  port: number,
  files: { chain: string; cert: string; key: string },
  stateDir: string,
): string {
  const r = `[${regions.join(', ')}]`;
  const visibility = options.visibilityTimeoutSeconds ?? 30;
  const globals = Object.entries(options.globals ?? {})
    .map(([k, v]) => `  ${k}: ${v}\n`)
    .join('');
  return `# Generated by the sandbox: every service, in ${regions.join(' and ')}, against the local fake AWS.
globals:
  name: devo-aws-collector sandbox
  shutdown_grace_seconds: 10
  persistence:
    type: filesystem
    config:
      directory_name: ${JSON.stringify(stateDir)}
${globals}
outputs:
  devo_sandbox:
    type: devo_platform
    config:
      address: 127.0.0.1
      port: ${port}
      type: SSL
      chain: ${JSON.stringify(files.chain)}
      cert: ${JSON.stringify(files.cert)}
      key: ${JSON.stringify(files.key)}

inputs:
  aws:
    id: ${names.inputId}
    endpoint: ${endpoint}
    credentials:
      access_key: AKIASANDBOXCOLLECTOR
      access_secret: \${DEMO_AWS_SECRET}
    services:
      service-events-all:
        cloudwatch_sqs_queue_name: devo-cwe-<account_id>.fifo
        auto_event_type: true
        request_period_in_seconds: 5
        visibility_timeout_seconds: ${visibility}
        regions: ${r}
      sqs-cloudwatch-consumer:
        cloudwatch_sqs_queue_name: ${names.securityHubQueue}
        request_period_in_seconds: 5
        visibility_timeout_seconds: ${visibility}
        regions: ${r}
      audit-events-all:
        types: [audits_api, audits_s3]
        auto_event_type: true
        start_time: ${names.startTime.toISOString()}
        audit_sqs_queue_name: ${names.cloudTrailQueue}
        request_period_in_seconds: 5
        visibility_timeout_seconds: ${visibility}
        regions: ${r}
      metrics-all:
        start_time: ${names.startTime.toISOString()}
        period_in_seconds: 60
        delay_seconds: 0
        request_period_in_seconds: 600
        regions: ${r}
      cwl_orders:
        types: [logs]
        log_group: ${names.logGroups[0]}
        start_time: ${names.startTime.toISOString()}
        request_period_in_seconds: 5
        regions: ${r}
      cwl_billing:
        types: [logs]
        log_group: ${names.logGroups[1]}
        start_time: ${names.startTime.toISOString()}
        request_period_in_seconds: 5
        regions: ${r}
      non-cloudwatch-logs:
        request_period_in_seconds: 5
        visibility_timeout_seconds: ${visibility}
        regions: ${r}
`;
}
