import { randomBytes } from 'node:crypto';
import { setMaxListeners } from 'node:events';
import { hostname } from 'node:os';
import { resolve } from 'node:path';
import { runAutoSetup } from '../aws/auto-setup.js';
import { AwsClients } from '../aws/clients.js';
import { RateLimits } from '../aws/rate-limiter.js';
import type { LoadedConfig } from '../config/loader.js';
import { accountsOf, servicesOf, type AccountConfig } from '../config/accounts.js';
import type { AwsInputConfig, CollectorConfig } from '../config/schema.js';
import { describeError } from '../core/errors.js';
import { outputDefinitions } from '../outputs/registry.js';
import type { Output } from '../outputs/output.js';
import { definitionFor } from '../services/registry.js';
import type { ServiceWorker } from '../services/definition.js';
import { planAutoSetup } from '../services/plans.js';
import { workerContext } from './worker-context.js';
import { accountWorker } from './account-worker.js';
import { FileStateStore } from '../state/file-store.js';
import { RedisStateStore } from '../state/redis-store.js';
import type { StateStore } from '../state/store.js';
import type { Logger } from '../telemetry/logger.js';
import type { Secrets } from '../telemetry/secrets.js';
import { Health, type WorkerHealth } from '../telemetry/health.js';
import { Metrics } from '../telemetry/metrics.js';
import { startStatusServer, type StatusServer } from '../telemetry/status-server.js';
import { systemClock } from '../core/clock.js';
import { Delivery } from './delivery.js';
import { runWorker } from './scheduler.js';
import { TaskLeases } from './task-leases.js';

/** Longest wait for workers to hand back what they hold (SQS releases) at shutdown. */
export const WORKER_STOP_TIMEOUT_MS = 10_000;
/** Longest wait at shutdown, once the outputs closed, for what they accepted to be confirmed. */
export const CONFIRM_DRAIN_TIMEOUT_MS = 5_000;

interface RunningWorker {
  worker: ServiceWorker;
  service: string;
  region: string;
  periodMs: number;
  retries: number;
  health: WorkerHealth;
  /** With the worker's account, when inputs.aws.accounts is set. */
  logger: Logger;
}

/** Who a set of workers runs as: an account of inputs.aws.accounts (or the input's credentials alone), its clients and services. */
interface Target {
  account: AccountConfig | undefined;
  aws: AwsClients;
  /** The input's services, in the account's regions when it lists some. */
  services: AwsInputConfig['services'];
  logger: Logger;
}

export interface CollectorOptions {
  logger: Logger;
  /** The process's secrets registry (the logger's): outputs, state and AWS clients register theirs. */
  secrets: Secrets;
  /** Base folder for a relative filesystem state folder (default: the working directory). */
  cwd?: string;
}

/**
 * The composition root: builds outputs, state, AWS clients, delivery and one worker per
 * enabled service × region from a validated configuration, runs them, and shuts down cleanly.
 */
export class Collector {
  readonly metrics = new Metrics();
  readonly health: Health;
  readonly delivery: Delivery;
  readonly outputs: Output[];
  readonly state: StateStore;
  /** One per account of inputs.aws.accounts; without accounts, the input's credentials alone. */
  private readonly targets: Target[];
  private readonly workers: RunningWorker[] = [];
  /** With a Redis state store: the pull tasks this replica leases. */
  private readonly taskLeases: TaskLeases | undefined;
  private readonly abort = new AbortController();
  /** API rate limits shared by this collector's workers (per API, account and region). */
  private readonly rateLimits = new RateLimits();
  private loops: Promise<void>[] = [];
  private status: StatusServer | undefined;
  private stopping: Promise<void> | undefined;
  private readonly logger: Logger;
  private readonly config: CollectorConfig;

  constructor(
    private readonly loaded: LoadedConfig,
    options: CollectorOptions,
  ) {
    this.config = loaded.config;
    this.logger = options.logger;
    this.health = new Health(Date.now, this.config.globals.persistence.type !== 'redis');
    // Every worker's AWS calls listen to this signal while under way: more than Node's default of
    // 10 listeners is normal (services × regions × concurrent calls), not a leak.
    setMaxListeners(0, this.abort.signal);
    this.metrics.track(this.health);
    const g = this.config.globals;
    const host = hostname();
    const p = g.persistence;
    if (p.type === 'redis') {
      const store = new RedisStateStore(p.config, options.secrets);
      const replica = `${host}:${process.pid}:${randomBytes(3).toString('hex')}`;
      this.taskLeases = new TaskLeases({
        store,
        leases: store.leases(replica, p.config.lease_ttl_seconds * 1000),
        clock: systemClock,
        logger: this.logger.child({ replica }),
        metrics: this.metrics,
      });
      this.state = this.taskLeases.state;
    } else {
      this.state = new FileStateStore(resolve(options.cwd ?? process.cwd(), p.config.directory_name));
    }
    this.outputs = Object.entries(this.config.outputs).map(([name, o]) => {
      const { type, config } = o as { type: string; config: unknown };
      const def = outputDefinitions[type]!;
      return def.create(config, {
        name,
        configDir: loaded.dir,
        logger: this.logger,
        metrics: this.metrics,
        secrets: options.secrets,
        hostname: host,
        health: this.health.output(name),
      });
    });
    this.delivery = new Delivery(
      this.outputs,
      { maxEvents: g.max_in_flight_events, maxBytes: g.max_in_flight_bytes },
      this.metrics,
      this.logger,
      // An acknowledged batch is progress for the stuck check, though the pull goes on.
      (labels) => this.health.acknowledged(labels.service, labels.region),
    );
    const input = this.config.inputs.aws;
    this.targets = accountsOf(input).map((account) => {
      const services = servicesOf(input, account);
      const firstRegion = Object.values(services).find((s) => s !== undefined)?.regions[0] ?? 'us-east-1';
      const credentials = account
        ? {
            ...input.credentials,
            target_assume_role: account.target_assume_role,
            assume_role_external_id: account.assume_role_external_id,
          }
        : input.credentials;
      const aws = new AwsClients({
        credentials,
        secrets: options.secrets,
        endpoint: input.endpoint,
        stsRegion: firstRegion,
        sessionName: `devo-aws-collector-${input.id}`,
      });
      const logger = account ? this.logger.child({ account: account.id }) : this.logger;
      return { account, aws, services, logger };
    });
    if (!input.enabled) {
      this.logger.warn('inputs.aws.enabled is false: nothing will be collected');
      return;
    }
    for (const target of this.targets) this.addWorkers(target);
  }

  /** The AWS clients of the input's credentials (of its first account, with inputs.aws.accounts). */
  get aws(): AwsClients {
    return this.targets[0]!.aws;
  }

  /** One worker per service × region (× task) of `target`. */
  private addWorkers({ account, aws, services, logger }: Target): void {
    const input = this.config.inputs.aws;
    for (const [serviceName, serviceConfig] of Object.entries(services)) {
      if (!serviceConfig) continue;
      const def = definitionFor(serviceName, serviceConfig);
      for (const region of serviceConfig.regions) {
        const ctx = workerContext(
          {
            inputId: input.id,
            aws,
            state: this.state,
            logger: this.logger,
            metrics: this.metrics,
            ackMessages: input.ack_messages,
            signal: this.abort.signal,
            clock: systemClock,
            rateLimits: this.rateLimits,
            delivery: this.delivery,
            ...(this.taskLeases && { lease: this.taskLeases.checks }),
          },
          serviceName,
          region,
          account?.id,
        );
        const periodMs = serviceConfig.request_period_in_seconds * 1000;
        for (const created of def.createWorkers(serviceConfig as never, ctx)) {
          const { task } = created;
          const inAccount = account ? accountWorker(created, account, aws) : created;
          const worker =
            this.taskLeases && task
              ? this.taskLeases.lease(inAccount, task, { service: serviceName, region })
              : inAccount;
          const health = this.health.worker(
            { service: serviceName, region, task: worker.name },
            periodMs,
            () => worker.position?.() ?? {},
          );
          this.workers.push({
            worker,
            service: serviceName,
            region,
            periodMs,
            retries: serviceConfig.pull_retries,
            health,
            logger,
          });
        }
      }
    }
  }

  get workerNames(): string[] {
    return this.workers.map((w) => w.worker.name);
  }

  /** Starts outputs (fails fast on bad certificates), then every worker. */
  async start(): Promise<void> {
    const g = this.config.globals;
    await this.state.open();
    if (g.status_port !== undefined)
      this.status = await startStatusServer(g.status_address, g.status_port, {
        metrics: this.metrics,
        health: this.health,
        inFlight: () => this.delivery.inFlight,
      });
    for (const [i, output] of this.outputs.entries()) {
      await output.start();
      if (!output.tracksConnection) this.health.outputHealth[i]!.up();
    }
    const input = this.config.inputs.aws;
    // Never throws: what could not be set up is logged, and those workers retry like any other.
    if (input.enabled && input.auto_setup) {
      await Promise.all(
        this.targets.map((target) =>
          runAutoSetup({
            plans: planAutoSetup({ id: input.id, services: target.services }),
            aws: target.aws,
            logger: target.logger,
            signal: this.abort.signal,
          }),
        ),
      );
      // stop() came during the setup: start no worker.
      if (this.abort.signal.aborted) return;
    }
    this.logger.info(
      { event: 'collector_started', workers: this.workerNames, outputs: this.outputs.map((o) => o.name) },
      `started ${this.workers.length} worker(s) and ${this.outputs.length} output(s)`,
    );
    this.loops = this.workers.map((w) =>
      runWorker(
        w.worker,
        { periodMs: w.periodMs, retries: w.retries, backoff: { baseMs: 1_000, maxMs: 30_000 } },
        this.abort.signal,
        w.logger,
        this.metrics,
        { service: w.service, region: w.region },
        systemClock,
        w.health,
      ).catch((err: unknown) =>
        w.logger.error(
          { event: 'worker_stopped', worker: w.worker.name, err },
          `worker stopped: ${describeError(err)}`,
        ),
      ),
    );
    this.taskLeases?.start();
  }

  /**
   * Stops pulling, gives in-flight events `grace` to be delivered, releases the rest to their
   * sources (SQS messages become visible again, checkpoints stay where delivery got), saves
   * state and closes everything. Safe before start() and safe twice.
   */
  stop(graceMs: number = this.config.globals.shutdown_grace_seconds * 1000): Promise<void> {
    this.stopping ??= this.shutdown(graceMs);
    return this.stopping;
  }

  private async shutdown(graceMs: number): Promise<void> {
    const deadline = Date.now() + graceMs;
    this.logger.info(
      { event: 'collector_stopping', inFlight: this.delivery.inFlight, graceMs },
      'stopping: no new pulls; delivering what is in flight',
    );
    this.health.shutdown();
    this.taskLeases?.quiesce();
    this.abort.abort();
    // Nothing new is admitted: a pull waiting for room releases its batch at once instead of
    // holding shutdown for the whole grace period.
    this.delivery.close();
    await withTimeout(Promise.allSettled(this.loops), Math.max(0, deadline - Date.now()));
    const drained = await this.delivery.drain(Math.max(0, deadline - Date.now()));
    if (!drained)
      this.logger.warn(
        { event: 'grace_period_over', inFlight: this.delivery.inFlight },
        'grace period over: releasing undelivered events to their sources',
      );
    // Stopping outputs rejects their pending writes, which releases those batches; stream outputs
    // close gracefully, confirming what their receivers read and giving up (releasing) the rest.
    await Promise.allSettled(this.outputs.map((o) => o.stop()));
    await this.delivery.drain(CONFIRM_DRAIN_TIMEOUT_MS, 'confirmed');
    // Releasing SQS messages needs AWS; if AWS is unreachable, their visibility timeout releases them.
    await withTimeout(Promise.allSettled(this.workers.map((w) => w.worker.stop())), WORKER_STOP_TIMEOUT_MS);
    await this.status?.close();
    // Every checkpoint is saved by now: the tasks are free for the other replicas at once.
    await this.taskLeases?.stop();
    await this.state.close();
    for (const target of this.targets) target.aws.destroy();
    this.logger.info({ event: 'collector_stopped' }, 'stopped');
  }
}

async function withTimeout(promise: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([promise, new Promise<void>((r) => (timer = setTimeout(r, ms)))]);
  clearTimeout(timer);
}
