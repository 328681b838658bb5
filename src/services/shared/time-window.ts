import { ErrorCodes, isCollectorError } from '../../core/errors.js';
import { CheckpointSequencer } from '../../core/checkpoints.js';
import type { WorkerPosition } from '../../telemetry/health.js';
import type { PullTask, WorkerContext } from '../definition.js';

/** How a pull service's checkpoints look and where its windows end. */
export interface WindowSpec<T> {
  /** Worker name, for logs. */
  worker: string;
  /** State key of the checkpoint. */
  key: string;
  /** The service's `start_time`, if set. */
  startTime: string | undefined;
  /** A window ends this long before now (settle_delay_seconds, metrics: delay_seconds). */
  settleMs: number;
  /** Window ends are multiples of this (1 s for LookupEvents, the period for metrics). */
  alignMs: number;
  /** The checkpoint of a first run reading events stamped from `from` (epoch ms) on. */
  initial(from: number): T;
  /** A saved value as a checkpoint, or undefined when it is none. */
  parse(saved: unknown): T | undefined;
  /** Epoch ms from which the checkpoint reads. */
  fromOf(checkpoint: T): number;
}

/** A state folder that cannot be written is said at most this often (the gauge shows it all along). */
const UNSAVED_WARN_EVERY_MS = 60_000;

/**
 * The time-window cursor of every pull service (CloudTrail API, CloudWatch Logs, metrics).
 *
 * - The first run starts at `start_time`, or else at the first pull (its second), and that start
 *   is saved at once: a restart before the first window closes neither skips nor slides it.
 * - Each pull may read up to end(): now − settle delay, aligned down. A window is read, delivered,
 *   and only then checkpointed (sequencer()); a restart resumes where delivery got to.
 * - The position delivery got to is kept in memory too: when the state cannot be saved, pulls go on
 *   from there (no re-reading, so no growing duplicates), the save is retried with every
 *   checkpoint and at every pull, and the condition shows in `collector_state_unsaved`.
 */
export class WindowCursor<T> {
  private reached: T | undefined;
  private unsavedValue: T | undefined;
  private unsavedSince: number | undefined;
  private lastWarned = -Infinity;

  /** What replicas lease: this checkpoint. */
  readonly task: PullTask;

  constructor(
    private readonly ctx: WorkerContext,
    private readonly spec: WindowSpec<T>,
  ) {
    this.task = {
      key: spec.key,
      forget: () => {
        this.reached = undefined;
        // What this replica could not save is another's to read again now.
        this.unsavedValue = undefined;
        this.unsavedSince = undefined;
        ctx.metrics.stateUnsaved.set({ service: ctx.serviceName, region: ctx.region }, 0);
      },
    };
  }

  /** Where this pull starts: the delivered position, else the saved one, else a first start (saved at once). */
  async resume(): Promise<T> {
    if (this.reached !== undefined) {
      if (this.unsavedValue !== undefined) await this.save(this.unsavedValue);
      return this.reached;
    }
    const { spec } = this;
    const saved = spec.parse(await this.ctx.state.get(spec.key));
    const start =
      saved ??
      spec.initial(
        spec.startTime !== undefined
          ? Date.parse(spec.startTime)
          : Math.floor(this.ctx.clock.now() / 1000) * 1000,
      );
    this.reached = start;
    if (saved === undefined) await this.save(start);
    this.announce(start, saved !== undefined ? 'checkpoint' : spec.startTime ? 'start_time' : 'first_pull');
    return start;
  }

  /** End (exclusive, epoch ms) of what a pull may read now: now − settle delay, aligned down. */
  end(): number {
    const { alignMs, settleMs } = this.spec;
    return Math.floor((this.ctx.clock.now() - settleMs) / alignMs) * alignMs;
  }

  /** Checkpoints of this pull's batches: each becomes the position once delivered, and is saved. */
  sequencer(): CheckpointSequencer<T> {
    const { lease } = this.ctx;
    const { key } = this.spec;
    return new CheckpointSequencer<T>(
      async (checkpoint) => {
        this.reached = checkpoint;
        await this.save(checkpoint);
      },
      lease && { guard: () => lease.guard(key), fence: () => lease.fence(key) },
    );
  }

  /**
   * For health: the epoch ms delivery reaches (lag is measured from it; undefined before the first
   * pull), and since when the latest position could not be saved (a restart now would read again
   * from the last saved one).
   */
  position(): WorkerPosition {
    return {
      behindSince: this.reached === undefined ? undefined : this.spec.fromOf(this.reached),
      stateUnsavedSince: this.unsavedSince,
    };
  }

  private async save(checkpoint: T): Promise<void> {
    const { ctx, spec } = this;
    const labels = { service: ctx.serviceName, region: ctx.region };
    try {
      await ctx.state.set(spec.key, checkpoint);
    } catch (err) {
      if (!isCollectorError(err, ErrorCodes.STATE_WRITE_FAILED)) throw err;
      this.unsavedValue = checkpoint;
      this.unsavedSince ??= ctx.clock.now();
      ctx.metrics.stateUnsaved.set(labels, 1);
      ctx.metrics.errors.inc({ ...labels, code: ErrorCodes.STATE_WRITE_FAILED });
      const now = ctx.clock.now();
      if (now - this.lastWarned >= UNSAVED_WARN_EVERY_MS) {
        this.lastWarned = now;
        ctx.logger.warn(
          {
            event: 'state_unsaved',
            worker: spec.worker,
            key: spec.key,
            code: ErrorCodes.STATE_WRITE_FAILED,
            err,
          },
          'cannot save the checkpoint: pulling on from the position in memory and retrying the save (a restart now would read again from the last saved position)',
        );
      }
      return;
    }
    if (this.unsavedValue !== undefined) {
      this.unsavedValue = undefined;
      this.unsavedSince = undefined;
      this.lastWarned = -Infinity;
      ctx.metrics.stateUnsaved.set(labels, 0);
      ctx.logger.info(
        { event: 'state_saved_again', worker: spec.worker, key: spec.key },
        'checkpoint saved again',
      );
    }
  }

  /** Says from when this worker reads and when its first window closes (the first events arrive after it). */
  private announce(start: T, origin: 'checkpoint' | 'start_time' | 'first_pull'): void {
    const { alignMs, settleMs, worker } = this.spec;
    const from = this.spec.fromOf(start);
    // The first pull at or after this time reads a non-empty window: end() > from.
    const closes = Math.max(this.ctx.clock.now(), (Math.floor(from / alignMs) + 1) * alignMs + settleMs);
    this.ctx.logger.info(
      {
        event: 'window_start',
        worker,
        origin,
        from: new Date(from).toISOString(),
        firstWindowCloses: new Date(closes).toISOString(),
        settleSeconds: settleMs / 1000,
      },
      `${worker} reads events from ${new Date(from).toISOString()} (${origin}); first events expected after ${new Date(closes).toISOString()}, at the first pull from then on`,
    );
  }
}
