import { createHash } from 'node:crypto';
import { CollectorError, ErrorCodes, describeError, isCollectorError } from '../core/errors.js';
import type { Clock } from '../core/clock.js';
import type { PullTask, ServiceWorker } from '../services/definition.js';
import type { Lease, RedisLeases } from '../state/leases.js';
import type { RedisStateStore } from '../state/redis-store.js';
import type { StateStore } from '../state/store.js';
import type { Logger } from '../telemetry/logger.js';
import type { Metrics } from '../telemetry/metrics.js';

/**
 * A task handed over stays closed to others this long after its last pull: the APIs' quotas
 * (LookupEvents: 2 a second per region) count calls over one second, whoever makes them.
 */
const HANDOVER_CLOSED_MS = 1_100;
/** After a heartbeat or lease is due to expire in Redis, the round that acts on it comes this much later. */
const EXPIRY_MARGIN_MS = 20;

interface TaskState {
  readonly task: PullTask;
  readonly labels: { service: string; region: string; task: string };
  /** The lease while this replica holds the task. */
  lease: Lease | undefined;
  /** The lease the latest pull started under: its deliveries and checkpoints are fenced by it. */
  pullLease: Lease | undefined;
  /** Local time until which the lease is trusted: the start of its latest renewal + TTL. */
  validUntil: number;
  pulling: boolean;
  /** Above the fair share: the pull under way ends at its next batch, and the task is given up. */
  handOver: boolean;
}

export interface TaskLeasesOptions {
  store: RedisStateStore;
  leases: RedisLeases;
  clock: Clock;
  logger: Logger;
  metrics: Metrics;
}

/**
 * Shares the pull tasks of replicas on one Redis: each holds at most its fair share (tasks ÷ live
 * replicas of the same tasks, rounded up), renews its leases every third of the TTL, takes free
 * tasks while below its share, and hands tasks over at a window boundary while above it (idle ones
 * first; a pulling one ends its pull before its next batch). A task pulls only while its lease is
 * held; each batch is checked against the lease in Redis before it is handed to delivery and
 * locally again right before it is written, and checkpoint writes are fenced by it, so a replica
 * whose lease moved on never delivers a window or moves a checkpoint again. SQS services are not
 * leased: every replica consumes their queues.
 */
export class TaskLeases {
  private readonly tasks = new Map<string, TaskState>();
  private readonly abort = new AbortController();
  private loop: Promise<void> | undefined;
  private redisDown = false;
  /** Shutting down: leases are kept (renewed) until stop(), none taken or handed over. */
  private closing = false;
  /**
   * When the next round is due sooner than a third of the TTL: another replica's heartbeat, or the
   * lease of a task this replica wants, expires then (a dead replica's tasks move at once).
   */
  private wakeInMs: number | undefined;
  private readonly ttlMs: number;
  /** See `group` (set once the tasks are known: at the first round). */
  private groupId: string | undefined;

  constructor(private readonly o: TaskLeasesOptions) {
    this.ttlMs = o.leases.ttlMs;
  }

  /** `worker` pulling only while this replica holds its task. */
  lease(worker: ServiceWorker, task: PullTask, labels: { service: string; region: string }): ServiceWorker {
    const t: TaskState = {
      task,
      labels: { ...labels, task: worker.name },
      lease: undefined,
      pullLease: undefined,
      validUntil: -Infinity,
      pulling: false,
      handOver: false,
    };
    this.tasks.set(task.key, t);
    this.groupId = undefined;
    this.o.metrics.leaseHeld.set(t.labels, 0);
    return {
      name: worker.name,
      position: () => (t.lease ? (worker.position?.() ?? {}) : {}),
      stop: () => worker.stop(),
      pull: () => this.pull(t, worker),
    };
  }

  /** The state store of leased workers: checkpoint writes of a leased task are fenced by its lease. */
  get state(): StateStore {
    const { store, leases } = this.o;
    return {
      open: () => store.open(),
      close: () => store.close(),
      get: (key) => store.get(key),
      set: (key, value) => {
        const t = this.taskOf(key);
        if (!t) return store.set(key, value);
        // Redis refuses the write if the lease moved on (the fence): no local expiry check needed.
        const lease = heldPullLease(t);
        if (!lease) return Promise.reject(lost(t, 'the lease is no longer held'));
        return store.setFenced(leases, lease, key, value);
      },
    };
  }

  /** WorkerContext.lease: the checks of the batches of a leased task, by its checkpoint key. */
  readonly checks = {
    /** Before a batch is handed to delivery: the lease the pull started under is still this replica's, here and in Redis. */
    guard: async (key: string): Promise<void> => {
      const t = this.taskOf(key);
      if (!t) return;
      this.check(t);
      // A rebalance asked for the task: this batch boundary is the window boundary it is given up at.
      if (t.handOver) throw lost(t, 'handed over to another replica (rebalance)');
      let holds: boolean;
      try {
        holds = await this.o.leases.holds(heldPullLease(t)!);
      } catch (err) {
        throw lost(t, `redis cannot confirm the lease: ${describeError(err)}`);
      }
      if (!holds) {
        this.dropped(t, 'taken');
        throw lost(t, 'another replica took the task');
      }
    },
    /**
     * Right before delivery writes a batch (it may have waited for room in the window since the
     * guard): the lease is still held here and cannot have expired in Redis.
     */
    fence: (key: string): void => {
      const t = this.taskOf(key);
      if (t) this.check(t);
    },
  };

  private check(t: TaskState): void {
    if (!heldPullLease(t) || this.o.clock.now() >= t.validUntil) throw lost(t, 'the lease is no longer held');
  }

  /** The replicas that count each other: those of the same configuration, which lease the same tasks. */
  private get group(): string {
    this.groupId ??= createHash('sha256')
      .update([...this.tasks.keys()].sort().join('\n'))
      .digest('hex')
      .slice(0, 16);
    return this.groupId;
  }

  /** The task a checkpoint key belongs to: its own key, or a key under it (one group of an entry). */
  private taskOf(key: string): TaskState | undefined {
    const exact = this.tasks.get(key);
    if (exact) return exact;
    for (const [taskKey, t] of this.tasks) if (key.startsWith(`${taskKey}/`)) return t;
    return undefined;
  }

  /** Beats, renews and balances every third of the TTL until stop(); nothing without tasks. */
  start(): void {
    if (this.tasks.size > 0) this.loop ??= this.run();
  }

  /**
   * At the start of shutdown: the leases are kept and renewed until stop(), but no task is taken
   * or handed over any more, as the batches in flight are not yet acknowledged (another replica
   * taking a task now would read them again).
   */
  quiesce(): void {
    this.closing = true;
  }

  /** After the last checkpoint was saved: gives every task up at once and leaves. Safe twice. */
  async stop(): Promise<void> {
    this.closing = true;
    this.abort.abort();
    await this.loop;
    for (const t of this.tasks.values()) if (t.lease) await this.release(t, 'shutdown', 0);
    await this.o.leases.leave(this.group).catch(() => undefined);
  }

  private async run(): Promise<void> {
    const { clock } = this.o;
    const every = this.ttlMs / 3;
    // Beat once and wait a round before taking anything, so replicas started together count each
    // other first and split the tasks without handing them over.
    await this.beat();
    while (await clock.sleep(Math.min(every, this.wakeInMs ?? every), this.abort.signal)) {
      try {
        await this.round();
      } catch (err) {
        this.o.logger.error(
          { event: 'lease_round_failed', err },
          `lease round failed: ${describeError(err)}`,
        );
      }
    }
  }

  private async pull(t: TaskState, worker: ServiceWorker): Promise<void> {
    const lease = t.lease;
    if (!lease) return;
    // A new lease: another replica may have moved the checkpoint since this one last pulled, unless
    // this replica was the task's last holder (nobody held it in between: e.g. a renewal came too
    // late under load), when the position in memory is still the task's.
    if (t.pullLease !== lease && lease.previous !== this.o.leases.replicaId) t.task.forget();
    t.pullLease = lease;
    t.pulling = true;
    try {
      await worker.pull();
    } catch (err) {
      // Lost while pulling: nothing more was delivered or saved; the loss is logged where found.
      if (!isCollectorError(err, ErrorCodes.LEASE_LOST)) throw err;
    } finally {
      t.pulling = false;
      if (t.handOver && t.lease && !this.closing) await this.release(t, 'rebalance', HANDOVER_CLOSED_MS);
      t.handOver = false;
    }
  }

  /** Live replicas of the group, this one counted; undefined when Redis cannot be reached. */
  private async beat(): Promise<number | undefined> {
    try {
      const { live, nextExpiryMs } = await this.o.leases.beat(this.group);
      this.wakeIn(nextExpiryMs);
      return Math.max(1, live);
    } catch (err) {
      this.unreachable(err);
      return undefined;
    }
  }

  private wakeIn(expiresInMs: number | undefined): void {
    if (expiresInMs !== undefined)
      this.wakeInMs = Math.min(this.wakeInMs ?? Infinity, expiresInMs + EXPIRY_MARGIN_MS);
  }

  /**
   * One round (start() runs one every third of the TTL): beat, renew, give up beyond the share,
   * take free tasks up to it; while shutting down, only beat and renew.
   */
  async round(): Promise<void> {
    const { leases, clock, metrics } = this.o;
    this.wakeInMs = undefined;
    const live = await this.beat();
    const up = live !== undefined;
    for (const t of this.tasks.values()) {
      if (!t.lease) continue;
      const started = clock.now();
      let renewed: boolean | undefined;
      if (up) {
        try {
          renewed = await leases.renew(t.lease);
        } catch (err) {
          this.unreachable(err);
        }
      }
      if (renewed === true) t.validUntil = started + this.ttlMs;
      else if (renewed === false) this.dropped(t, 'taken');
      // Unconfirmed: held until it would expire in Redis, then paused (another may take it then).
      else if (clock.now() >= t.validUntil) this.dropped(t, 'unrenewable');
    }
    if (!up || this.closing) return;
    if (this.redisDown) {
      this.redisDown = false;
      this.o.logger.info({ event: 'redis_reachable' }, 'redis reachable again: pull tasks resume');
    }
    metrics.replicasLive.set(live);
    const share = Math.ceil(this.tasks.size / live);
    // Idle tasks are given up first: a pulling one (a long backfill) stops only at its next batch.
    const held = [...this.tasks.values()].filter((t) => t.lease).sort((a, b) => +a.pulling - +b.pulling);
    for (const t of held.slice(0, Math.max(0, held.length - share))) {
      if (t.pulling) t.handOver = true;
      else await this.release(t, 'rebalance', HANDOVER_CLOSED_MS);
    }
    let holding = Math.min(held.length, share);
    // In a random order, so replicas looking at once try different tasks first.
    const free = [...this.tasks.values()].filter((t) => !t.lease).sort(() => Math.random() - 0.5);
    for (const t of free) {
      if (holding >= share) break;
      const started = clock.now();
      let lease: Lease | { heldForMs: number };
      try {
        lease = await leases.acquire(t.task.key);
      } catch (err) {
        this.unreachable(err);
        return;
      }
      if ('heldForMs' in lease) {
        this.wakeIn(lease.heldForMs);
        continue;
      }
      t.lease = lease;
      t.validUntil = started + this.ttlMs;
      holding++;
      metrics.leaseHeld.set(t.labels, 1);
      this.o.logger.info(
        {
          event: 'lease_taken',
          task: t.labels.task,
          checkpointKey: t.task.key,
          fence: lease.token,
          share,
          live,
        },
        `took task ${t.labels.task} (${holding} of a share of ${share}, ${live} replica(s) live)`,
      );
    }
  }

  private async release(t: TaskState, reason: 'rebalance' | 'shutdown', closedMs: number): Promise<void> {
    const lease = t.lease;
    if (!lease) return;
    t.lease = undefined;
    this.o.metrics.leaseHeld.set(t.labels, 0);
    try {
      await this.o.leases.release(lease, closedMs);
    } catch (err) {
      this.unreachable(err);
    }
    this.o.logger.info(
      { event: 'lease_released', task: t.labels.task, checkpointKey: t.task.key, fence: lease.token, reason },
      `gave up task ${t.labels.task} (${reason})`,
    );
  }

  /** The lease is gone (taken after it expired, or not renewed in time): the task pauses here. */
  private dropped(t: TaskState, reason: 'taken' | 'unrenewable'): void {
    const lease = t.lease;
    if (!lease) return;
    t.lease = undefined;
    this.o.metrics.leaseHeld.set(t.labels, 0);
    this.o.metrics.errors.inc({
      service: t.labels.service,
      region: t.labels.region,
      code: ErrorCodes.LEASE_LOST,
    });
    this.o.logger.warn(
      {
        event: 'lease_lost',
        task: t.labels.task,
        checkpointKey: t.task.key,
        fence: lease.token,
        reason,
        code: ErrorCodes.LEASE_LOST,
      },
      reason === 'taken'
        ? `lost task ${t.labels.task}: another replica holds it now`
        : `lost task ${t.labels.task}: its lease could not be renewed in time; it pauses until redis is back`,
    );
  }

  private unreachable(err: unknown): void {
    if (this.redisDown) return;
    this.redisDown = true;
    this.o.logger.warn(
      { event: 'redis_unreachable', code: ErrorCodes.STATE_UNREACHABLE, err },
      `redis unreachable: leases cannot be renewed; pull tasks pause once their leases expire (SQS services go on): ${describeError(err)}`,
    );
  }
}

/** The lease the task's pull started under, while it is still the one held. */
function heldPullLease(t: TaskState): Lease | undefined {
  return t.pullLease !== undefined && t.lease === t.pullLease ? t.pullLease : undefined;
}

function lost(t: TaskState, why: string): CollectorError {
  return new CollectorError(ErrorCodes.LEASE_LOST, `task ${t.labels.task}: ${why}`, {
    details: { task: t.labels.task, checkpointKey: t.task.key },
  });
}
