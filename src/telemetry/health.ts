/**
 * What /healthz, /readyz, /status and `top` report: components report into it as things happen
 * (the scheduler for pulls, outputs for their connections, the collector for shutdown), and it
 * answers from that, on an injected clock.
 */

/** A named state that needs attention (e.g. an output refused with 401), and since when (epoch ms). */
export interface Condition {
  code: string;
  since: number;
}

/** A worker is stuck when work is pending and no pull finished (nor batch was acknowledged) for this many periods... */
export const STUCK_AFTER_PERIODS = 3;
/** ...and at least this long: one SQS long poll of an empty queue alone takes 20 s. */
export const STUCK_AFTER_MIN_MS = 60_000;

/** Error codes that say the process, not one source, is in trouble. */
const PROCESS_ERROR_CODES = new Set(['STATE_WRITE_FAILED', 'STATE_UNREADABLE']);

export interface WorkerLabels {
  service: string;
  region: string;
  /** The worker's name (one service × region may run several: audit-events-all has two). */
  task: string;
}

/** What a worker tells about how far behind it is, when asked (see ServiceWorker.position). */
export interface WorkerPosition {
  /** Epoch ms the worker's delivered data is behind from: the saved checkpoint, or the oldest message held. */
  behindSince?: number;
  /** Since when (epoch ms) the worker's latest checkpoint could not be saved: a process-level condition. */
  stateUnsavedSince?: number;
  /** Messages waiting in the worker's queue (SQS ApproximateNumberOfMessages, sampled each period). */
  queueMessages?: number;
}

export interface WorkerStatus extends WorkerLabels {
  periodSeconds: number;
  started: boolean;
  pullsInProgress: number;
  lastSuccess: string | null;
  lastError: Condition | null;
  stuck: boolean;
  lagSeconds: number | null;
  queueMessages: number | null;
}

export interface OutputStatus {
  name: string;
  connectedOnce: boolean;
  connected: boolean;
  blocked: Condition | null;
}

export interface HealthReport {
  ok: boolean;
  shuttingDown: boolean;
  conditions: Condition[];
  workers: WorkerStatus[];
  outputs: OutputStatus[];
}

/** What the scheduler reports about one worker. */
export class WorkerHealth {
  started = false;
  pullsInProgress = 0;
  lastSuccessAt: number | undefined;
  /** The failure of the last pull, if it failed: its error code and since when pulls fail. */
  lastFailure: Condition | undefined;
  /** Last time work moved: a pull finished or a batch was acknowledged. */
  private movedAt: number;

  constructor(
    readonly labels: WorkerLabels,
    readonly periodMs: number,
    private readonly clock: () => number,
    private readonly position: () => WorkerPosition = () => ({}),
  ) {
    this.movedAt = clock();
  }

  start(): void {
    this.started = true;
    this.movedAt = this.clock();
  }

  pullStarted(): void {
    this.pullsInProgress++;
  }

  /** A pull ended: `errorCode` when it failed (after its retries). */
  pullFinished(errorCode?: string): void {
    this.pullsInProgress--;
    this.movedAt = this.clock();
    if (errorCode === undefined) {
      this.lastSuccessAt = this.movedAt;
      this.lastFailure = undefined;
    } else if (this.lastFailure?.code !== errorCode) {
      this.lastFailure = { code: errorCode, since: this.movedAt };
    }
  }

  /** A batch this worker read was delivered: success, though the pull may go on (SQS, backfills). */
  acknowledged(): void {
    this.movedAt = this.lastSuccessAt = this.clock();
  }

  get stuck(): boolean {
    const limit = Math.max(STUCK_AFTER_PERIODS * this.periodMs, STUCK_AFTER_MIN_MS);
    return this.pullsInProgress > 0 && this.clock() - this.movedAt > limit;
  }

  /** Seconds the delivered data is behind now, or undefined when the worker does not know. */
  lagSeconds(): number | undefined {
    const since = this.position().behindSince;
    return since === undefined ? undefined : Math.max(0, (this.clock() - since) / 1000);
  }

  queueMessages(): number | undefined {
    return this.position().queueMessages;
  }

  stateUnsavedSince(): number | undefined {
    return this.position().stateUnsavedSince;
  }

  status(): WorkerStatus {
    return {
      ...this.labels,
      periodSeconds: this.periodMs / 1000,
      started: this.started,
      pullsInProgress: this.pullsInProgress,
      lastSuccess: iso(this.lastSuccessAt),
      lastError: this.lastFailure ?? null,
      stuck: this.stuck,
      lagSeconds: this.lagSeconds() ?? null,
      queueMessages: this.queueMessages() ?? null,
    };
  }
}

/** What an output reports about its connection to its destination. */
export class OutputHealth {
  connectedOnce = false;
  connected = false;
  blocked: Condition | undefined;

  constructor(
    readonly name: string,
    private readonly clock: () => number,
  ) {}

  /** Can carry data now (TLS handshake done, an HTTP request answered, a file opened). */
  up(): void {
    this.connectedOnce = true;
    this.connected = true;
    this.blocked = undefined;
  }

  /** Lost its destination for now; retrying. */
  down(): void {
    this.connected = false;
  }

  /** Refused for good until someone acts (e.g. devo_http answered 401): `code` is a stable error code. */
  block(code: string): void {
    this.connected = false;
    if (this.blocked?.code !== code) this.blocked = { code, since: this.clock() };
  }

  status(): OutputStatus {
    return {
      name: this.name,
      connectedOnce: this.connectedOnce,
      connected: this.connected,
      blocked: this.blocked ?? null,
    };
  }
}

export class Health {
  private readonly workers: WorkerHealth[] = [];
  private readonly outputs: OutputHealth[] = [];
  private shuttingDown = false;

  constructor(
    private readonly clock: () => number = Date.now,
    /**
     * Whether a restart may fix a failing state store (a file store: a full or read-only disk an
     * operator frees). A shared Redis may not: its outage is ridden out in place (pull tasks pause,
     * SQS services go on), and a restarted process could not start until it is back.
     */
    private readonly restartFixesState = true,
  ) {}

  worker(labels: WorkerLabels, periodMs: number, position?: () => WorkerPosition): WorkerHealth {
    const w = new WorkerHealth(labels, periodMs, this.clock, position);
    this.workers.push(w);
    return w;
  }

  output(name: string): OutputHealth {
    const o = new OutputHealth(name, this.clock);
    this.outputs.push(o);
    return o;
  }

  /** A batch read by the workers of `service` in `region` was acknowledged. */
  acknowledged(service: string, region: string): void {
    for (const w of this.workers)
      if (w.labels.service === service && w.labels.region === region) w.acknowledged();
  }

  get workerHealth(): readonly WorkerHealth[] {
    return this.workers;
  }

  get outputHealth(): readonly OutputHealth[] {
    return this.outputs;
  }

  /**
   * Process-level conditions: the state store failing a worker's last pull, or a checkpoint that
   * cannot be saved (the worker pulls on from memory), is not the worker's problem but the
   * process's (a restart or an operator may fix it).
   */
  conditions(): Condition[] {
    const found = new Map<string, Condition>();
    const add = (c: Condition): void => {
      const seen = found.get(c.code);
      if (!seen || seen.since > c.since) found.set(c.code, c);
    };
    for (const w of this.workers) {
      const unsavedSince = w.stateUnsavedSince();
      if (unsavedSince !== undefined) add({ code: 'STATE_WRITE_FAILED', since: unsavedSince });
      const failure = w.lastFailure;
      if (failure && PROCESS_ERROR_CODES.has(failure.code)) add(failure);
    }
    return [...found.values()];
  }

  shutdown(): void {
    this.shuttingDown = true;
  }

  private report(ok: boolean): HealthReport {
    return {
      ok,
      shuttingDown: this.shuttingDown,
      conditions: this.conditions(),
      workers: this.workers.map((w) => w.status()),
      outputs: this.outputs.map((o) => o.status()),
    };
  }

  /** /healthz: alive, no worker stuck, no process-level condition a restart may fix. */
  live(): HealthReport {
    const failing = this.restartFixesState && this.conditions().length > 0;
    return this.report(!failing && !this.workers.some((w) => w.stuck));
  }

  /** /readyz: every output connected once and none refused for good, every worker started, not shutting down. */
  ready(): HealthReport {
    return this.report(
      !this.shuttingDown &&
        this.outputs.every((o) => o.connectedOnce && !o.blocked) &&
        this.workers.every((w) => w.started),
    );
  }
}

function iso(ms: number | undefined): string | null {
  return ms === undefined ? null : new Date(ms).toISOString();
}
