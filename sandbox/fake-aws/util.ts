import { createHash, randomBytes, randomUUID } from 'node:crypto';

export const DEFAULT_ACCOUNT_ID = '123456789012';

export const md5Hex = (data: string | Buffer): string => createHash('md5').update(data).digest('hex');
export const sha256Hex = (data: string | Buffer): string => createHash('sha256').update(data).digest('hex');
export const newUuid = (): string => randomUUID();

/** Random string over [A-Z2-7], the alphabet of AWS access key ids. */
export function randomKeyChars(length: number): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  const bytes = randomBytes(length);
  let out = '';
  for (const b of bytes) out += alphabet[b & 31];
  return out;
}

/** AWS-style request id: 16 upper-case hex digits (S3) or a UUID (JSON services). */
export const newRequestId = (): string => randomBytes(8).toString('hex').toUpperCase();

/** ISO 8601 without milliseconds, as STS and CloudTrail write times. */
export const isoSeconds = (ms: number): string =>
  new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');

/** A timestamp given as Date, epoch ms or ISO string, in epoch ms. */
export function toMillis(value: Date | number | string): number {
  const ms = value instanceof Date ? value.getTime() : typeof value === 'number' ? value : Date.parse(value);
  if (!Number.isFinite(ms)) throw new TypeError(`not a timestamp: ${String(value)}`);
  return ms;
}

/** Waits `ms`, or less if `signal` aborts; resolves either way. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const done = (): void => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}

/**
 * Pagination tokens: the position to resume after, bound to the request parameters that define
 * the result set, so a token replayed with other parameters is refused as AWS refuses it.
 */
export function encodeToken(position: unknown, query: unknown): string {
  return Buffer.from(JSON.stringify({ p: position, q: queryHash(query) })).toString('base64url');
}

/** The position of a token made by `encodeToken` for the same `query`, or undefined if invalid. */
export function decodeToken(token: string, query: unknown): unknown {
  try {
    const parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as {
      p?: unknown;
      q?: unknown;
    };
    return parsed.q === queryHash(query) && parsed.p !== undefined ? parsed.p : undefined;
  } catch {
    return undefined;
  }
}

const queryHash = (query: unknown): string => sha256Hex(JSON.stringify(query ?? null)).slice(0, 16);

/** Per account and region state (queues, log groups, metrics...), created on first use. */
export class Regional<T> {
  private readonly map = new Map<string, T>();
  constructor(private readonly create: () => T) {}

  get(accountId: string, region: string): T {
    const key = `${accountId}/${region}`;
    let value = this.map.get(key);
    if (value === undefined) {
      value = this.create();
      this.map.set(key, value);
    }
    return value;
  }
}

/** Binary search: index of the first element for which `isAfter` is true (array sorted by it). */
export function lowerBound<T>(items: readonly T[], isAfter: (item: T) => boolean): number {
  let lo = 0;
  let hi = items.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (isAfter(items[mid] as T)) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/** The first `limit` items of a lazy sequence, and whether any follow (for NextToken). */
export function takePage<T>(items: Iterable<T>, limit: number): { page: T[]; more: boolean } {
  const page: T[] = [];
  for (const item of items) {
    if (page.length === limit) return { page, more: true };
    page.push(item);
  }
  return { page, more: false };
}
