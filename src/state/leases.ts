import type { Redis } from 'ioredis';

/**
 * Leases on Redis for replicas that share pull tasks: one holder per task at a time, with a TTL,
 * and a fencing token (a per-task counter, incremented at every acquisition) inside the holder's
 * value. Renewal, release and fenced checkpoint writes are Lua scripts that first check that the
 * lease still holds this exact value, so a replica whose lease expired — paused, partitioned — has
 * every later write refused atomically, even if it never noticed. Replicas of one configuration
 * (one group: the same pull tasks) announce themselves in a sorted set scored by when each one's
 * heartbeat expires, in Redis's own time; the live ones are those not expired. Other collectors on
 * the same Redis and key prefix, with other tasks, are not counted.
 */

/** A lease this replica holds: its Redis value, `<replica>:<token>`. */
export interface Lease {
  readonly task: string;
  readonly token: number;
  readonly holder: string;
  /** The replica that acquired the task before this lease (undefined: nobody yet). */
  readonly previous: string | undefined;
}

// KEYS: lease, fencing counter, last acquirer. ARGV: replica id, ttl ms. Returns { new token, the
// previous acquirer or false }, or { 0, ms until the holder's lease expires } if held.
const ACQUIRE = `
if redis.call('EXISTS', KEYS[1]) == 1 then return { 0, redis.call('PTTL', KEYS[1]) } end
local token = redis.call('INCR', KEYS[2])
redis.call('SET', KEYS[1], ARGV[1] .. ':' .. token, 'PX', ARGV[2])
local previous = redis.call('GET', KEYS[3])
redis.call('SET', KEYS[3], ARGV[1])
return { token, previous }`;

// KEYS: lease. ARGV: holder, ttl ms. 1 if still ours (and extended).
const RENEW = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
return redis.call('PEXPIRE', KEYS[1], ARGV[2])`;

// KEYS: lease. ARGV: holder, ms the lease stays closed to others (0: released at once).
const RELEASE = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
if tonumber(ARGV[2]) > 0 then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return redis.call('DEL', KEYS[1])`;

// KEYS: lease, state key. ARGV: holder, value. 1 if written; 0 if the lease is not (or no longer) ours.
const FENCED_SET = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[2], ARGV[2])
return 1`;

// KEYS: the group's replicas. ARGV: replica id, ttl ms. Counts this replica live for a TTL from
// now in Redis's time (so the replicas' clocks need not agree), drops the expired ones and returns
// { how many are live, ms until the next other replica's heartbeat expires, or -1 }. The set
// itself goes when every replica of the group stopped beating.
const BEAT = `
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local ttl = tonumber(ARGV[2])
redis.call('ZADD', KEYS[1], now + ttl, ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
redis.call('PEXPIRE', KEYS[1], 2 * ttl)
local next = -1
local first = redis.call('ZRANGE', KEYS[1], 0, 1, 'WITHSCORES')
for i = 1, #first, 2 do
  if first[i] ~= ARGV[1] then next = tonumber(first[i + 1]) - now break end
end
return { redis.call('ZCARD', KEYS[1]), next }`;

export class RedisLeases {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    /** This replica (unique per process). */
    readonly replicaId: string,
    readonly ttlMs: number,
  ) {}

  private leaseKey(task: string): string {
    return `${this.prefix}lease:${task}`;
  }

  /** Takes the task if nobody holds it; when another replica does, how long its lease lasts yet. */
  async acquire(task: string): Promise<Lease | { heldForMs: number }> {
    const [token, second] = (await this.redis.eval(
      ACQUIRE,
      3,
      this.leaseKey(task),
      `${this.prefix}fence:${task}`,
      `${this.prefix}acquirer:${task}`,
      this.replicaId,
      this.ttlMs,
    )) as [number, string | number | null | undefined];
    if (token === 0) return { heldForMs: Number(second) };
    const previous = typeof second === 'string' ? second : undefined;
    return { task, token, holder: `${this.replicaId}:${token}`, previous };
  }

  /** Extends the lease by a TTL; false when it is no longer ours (expired, or another took it). */
  async renew(lease: Lease): Promise<boolean> {
    return Number(await this.redis.eval(RENEW, 1, this.leaseKey(lease.task), lease.holder, this.ttlMs)) === 1;
  }

  /** True while Redis still names this lease the holder of its task. */
  async holds(lease: Lease): Promise<boolean> {
    return (await this.redis.get(this.leaseKey(lease.task))) === lease.holder;
  }

  /** Gives the task up, free for others after `closedMs` (0: at once). Does nothing if no longer ours. */
  async release(lease: Lease, closedMs = 0): Promise<void> {
    await this.redis.eval(RELEASE, 1, this.leaseKey(lease.task), lease.holder, closedMs);
  }

  /** Writes `value` at `key` only while `lease` is the task's current lease; false when refused. */
  async fencedSet(lease: Lease, key: string, value: string): Promise<boolean> {
    return (
      Number(await this.redis.eval(FENCED_SET, 2, this.leaseKey(lease.task), key, lease.holder, value)) === 1
    );
  }

  /** The sorted set of the live replicas of `group`. */
  replicasKey(group: string): string {
    return `${this.prefix}replicas:${group}`;
  }

  /**
   * Says this replica of `group` is alive for one TTL; returns how many of the group are (this one
   * included), and in how long the next other one's heartbeat expires unless it beats again.
   */
  async beat(group: string): Promise<{ live: number; nextExpiryMs: number | undefined }> {
    const [live, next] = (await this.redis.eval(
      BEAT,
      1,
      this.replicasKey(group),
      this.replicaId,
      this.ttlMs,
    )) as [number, number];
    return { live: Number(live), nextExpiryMs: next < 0 ? undefined : Number(next) };
  }

  /** At shutdown: the others count this replica out at once. */
  async leave(group: string): Promise<void> {
    await this.redis.zrem(this.replicasKey(group), this.replicaId);
  }
}
