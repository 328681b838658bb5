import type { Logger } from './logger.js';

/** Long work says how far it got at most this often. */
export const PROGRESS_EVERY_MS = 10_000;

export interface ProgressOptions {
  logger: Logger;
  /** What is reported on, for the message: e.g. `CloudTrail backfill in eu-west-1`. */
  what: string;
  /** Structured fields of every line (worker, ...). */
  fields: Record<string, unknown>;
  /** The time range the work covers (epoch ms, inclusive start, exclusive end). */
  from: number;
  to: number;
  everyMs?: number;
  clock?: () => number;
}

/**
 * Progress of work over a time range (a backfill, metrics catching up): logs the share of the
 * range covered, the window reached, events so far and an estimate of the time left (from the
 * pace so far), at most once every `everyMs`.
 */
export class ProgressReporter {
  private readonly clock: () => number;
  private readonly startedAt: number;
  private lastAt: number;

  constructor(private readonly options: ProgressOptions) {
    this.clock = options.clock ?? Date.now;
    this.startedAt = this.clock();
    this.lastAt = this.startedAt;
  }

  /** `coveredMs` of the range are done, reaching `reached` (epoch ms), with `events` so far. */
  update(coveredMs: number, reached: number, events: number): void {
    const now = this.clock();
    if (now - this.lastAt < (this.options.everyMs ?? PROGRESS_EVERY_MS)) return;
    this.lastAt = now;
    const { logger, what, fields, from, to } = this.options;
    const done = Math.min(1, Math.max(0, coveredMs / Math.max(1, to - from)));
    const etaSeconds = done > 0 ? Math.round(((now - this.startedAt) * (1 - done)) / done / 1000) : undefined;
    logger.info(
      {
        ...fields,
        percent: Math.round(done * 1000) / 10,
        events,
        position: new Date(reached).toISOString(),
        etaSeconds,
      },
      `${what}: ${(done * 100).toFixed(1)}% of the time range, up to ${new Date(reached).toISOString()}, ${events} events so far` +
        (etaSeconds === undefined ? '' : `, about ${etaSeconds} s left`),
    );
  }
}
