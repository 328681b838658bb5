import type { FinalizeRequestMiddleware, MiddlewareStack } from '@smithy/types';
import { backoffDelay, sleep } from '../core/backoff.js';
import { systemClock, type Clock } from '../core/clock.js';
import { CollectorError, ErrorCodes } from '../core/errors.js';
import { isThrottling } from './throttling.js';

/**
 * Request pacing for AWS APIs with per account+region quotas (CloudTrail LookupEvents: 2/s,
 * CloudWatch Logs FilterLogEvents: 5/s). One limiter per API × account × region, shared by every
 * worker of the process, so two services reading the same account and region share the quota.
 *
 * The limiter is a sliding window rather than a bucket with a refill rate: it grants at most
 * `perSecond` requests in any window of one second (plus a small margin for the time a request
 * takes to reach AWS), which is how AWS counts, so bursts of `perSecond` are allowed but the
 * quota is never exceeded, whatever the timing of the callers.
 */
export interface RateLimiter {
  /** Resolves when a request may be sent now. Resolves early (without a grant) when `signal` aborts. */
  acquire(signal?: AbortSignal): Promise<void>;
}

export interface RateLimitOptions {
  /**
   * false: every limiter grants at once. For benchmarks that measure the collector itself
   * against a local fake; never for real AWS, where the quotas are enforced by throttling.
   */
  enabled: boolean;
}

const WINDOW_MS = 1_000;
/**
 * Spacing beyond the window, so jitter between sending and arrival cannot put one request too many
 * in AWS's window: on a busy 2-core machine the first request of a window (a new connection, a
 * busy event loop) was seen arriving over 50 ms after its grant.
 */
const MARGIN_MS = 100;

/** A limiter grants at most its `perSecond` requests in any window this long (ms). */
export const LIMITER_WINDOW_MS = WINDOW_MS + MARGIN_MS;

const UNLIMITED: RateLimiter = { acquire: () => Promise.resolve() };

/**
 * The limiters of one collector, one per API, account and region (created on first use), so every
 * worker calling an API in an account and region shares its quota. Given to workers in their
 * context (WorkerContext.rateLimits).
 */
export class RateLimits {
  private readonly limiters = new Map<string, SlidingWindowLimiter>();

  constructor(
    private readonly options: RateLimitOptions = { enabled: true },
    /** The limiters' time: the collector's clock, so pacing is tested on a simulated one. */
    private readonly clock: Clock = systemClock,
  ) {}

  limiter(api: string, accountId: string, region: string, perSecond: number): RateLimiter {
    if (!this.options.enabled) return UNLIMITED;
    const key = `${api}|${accountId}|${region}`;
    let limiter = this.limiters.get(key);
    if (!limiter) {
      limiter = new SlidingWindowLimiter(perSecond, LIMITER_WINDOW_MS, this.clock);
      this.limiters.set(key, limiter);
    }
    return limiter;
  }
}

export class SlidingWindowLimiter implements RateLimiter {
  /** Times of the last `limit` grants, oldest first. */
  private readonly grants: number[] = [];
  /** Callers are served one at a time, in order, so each grant is computed from the real previous ones. */
  private queue: Promise<void> = Promise.resolve();

  constructor(
    private readonly limit: number,
    private readonly windowMs: number,
    private readonly clock: Clock = systemClock,
  ) {
    if (!(limit >= 1 && Number.isInteger(limit)))
      throw new RangeError(`rate limit must be a positive integer, got ${limit}`);
  }

  acquire(signal?: AbortSignal): Promise<void> {
    const turn = this.queue.then(() => this.wait(signal));
    this.queue = turn;
    return turn;
  }

  private async wait(signal: AbortSignal | undefined): Promise<void> {
    while (!signal?.aborted) {
      const now = this.clock.now();
      const at = this.grants.length < this.limit ? now : this.grants[0]! + this.windowMs;
      if (now >= at) {
        // The time the caller really goes ahead: a late timer must not squeeze the next grants closer.
        this.grants.push(now);
        if (this.grants.length > this.limit) this.grants.shift();
        return;
      }
      // Timers may also fire early by wall-clock time, hence the loop.
      await this.clock.sleep(at - now, signal);
    }
  }
}

/**
 * Paces every HTTP attempt of `command` with `limiter`, the SDK's own retries included: the
 * limiter sits inside the retry loop (right after the retry middleware), so a retried request
 * takes a slot like any other. Call before `client.send(command)`.
 */
export function paceAttempts<I extends object, O extends object>(
  command: { middlewareStack: MiddlewareStack<I, O> },
  limiter: RateLimiter,
  signal?: AbortSignal,
): void {
  const pace: FinalizeRequestMiddleware<I, O> = (next) => async (args) => {
    await limiter.acquire(signal);
    return next(args);
  };
  command.middlewareStack.addRelativeTo(pace, {
    name: 'collectorRateLimit',
    relation: 'after',
    toMiddleware: 'retryMiddleware',
    override: true,
  });
}

export interface ThrottleRetryOptions {
  signal: AbortSignal;
  /** Names the call and its place for the error, e.g. `CloudTrail LookupEvents in eu-west-1`. */
  what: string;
  /** Rounds after the SDK's own retries gave up (default 8; about 4 minutes at most). */
  rounds?: number;
  baseMs?: number;
  maxMs?: number;
  onThrottled?: (attempt: number, delayMs: number) => void;
}

/**
 * Calls `fn` again, with exponential backoff and jitter, while AWS answers with throttling after
 * the SDK exhausted its own retries. The caller's position (window, page token) is kept, so
 * nothing is skipped; if throttling never ends, the error is AWS_CALL_FAILED and the pull resumes
 * later from its checkpoint.
 */
export async function retryThrottled<T>(fn: () => Promise<T>, opts: ThrottleRetryOptions): Promise<T> {
  const rounds = opts.rounds ?? 8;
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      if (!isThrottling(err) || opts.signal.aborted) throw err;
      if (attempt >= rounds) {
        throw new CollectorError(
          ErrorCodes.AWS_CALL_FAILED,
          `${opts.what}: still throttled after ${attempt + 1} rounds of retries`,
          {
            cause: err,
          },
        );
      }
      const delay = Math.max(
        opts.baseMs ?? 500,
        backoffDelay(attempt, { baseMs: opts.baseMs ?? 500, maxMs: opts.maxMs ?? 30_000 }),
      );
      opts.onThrottled?.(attempt + 1, delay);
      await sleep(delay, opts.signal);
    }
  }
}
