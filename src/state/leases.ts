import type { Redis } from 'ioredis';

/**
 * Leases on Redis for replicas that share pull tasks: one holder per task at a time, with a TTL,
 * and a fencing token (a per-task counter, incremented at every acquisition) inside the holder's
 * value. Renewal, release and fenced checkpoint writes are Lua scripts that first check that the
 * lease still holds this exact value, so a replica whose lease expired — paused, partitioned — has
 * every later write refused atomically, even if it never noticed. Replicas announce themselves
 * with a heartbeat key each (with the same TTL); the live ones are those keys.
 */

/** A lease this replica holds: its Redis value, `<replica>:<token>`. */
export interface Lease {
  readonly task: string;
  readonly token: number;
  readonly holder: string;
}

// KEYS: lease, fencing counter. ARGV: replica id, ttl ms. Returns the new token, or 0 if held.
const ACQUIRE = `
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
local token = redis.call('INCR', KEYS[2])
redis.call('SET', KEYS[1], ARGV[1] .. ':' .. token, 'PX', ARGV[2])
return token`;

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

/** What SCAN matches literally: a key prefix may hold glob characters. */
function globEscape(text: string): string {
  return text.replace(/[*?[\]\\]/g, '\\$&');
}

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

  /** Takes the task if nobody holds it; undefined when another replica does. */
  async acquire(task: string): Promise<Lease | undefined> {
    const token = Number(
      await this.redis.eval(
        ACQUIRE,
        2,
        this.leaseKey(task),
        `${this.prefix}fence:${task}`,
        this.replicaId,
        this.ttlMs,
      ),
    );
    return token > 0 ? { task, token, holder: `${this.replicaId}:${token}` } : undefined;
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

  /** Says this replica is alive for one TTL. */
  async heartbeat(): Promise<void> {
    await this.redis.set(`${this.prefix}replica:${this.replicaId}`, '1', 'PX', this.ttlMs);
  }

  /** At shutdown: the others count this replica out at once. */
  async leave(): Promise<void> {
    await this.redis.del(`${this.prefix}replica:${this.replicaId}`);
  }

  /** Replicas whose heartbeat has not expired (this one included once it beat). */
  async liveReplicas(): Promise<number> {
    let cursor = '0';
    // SCAN may return a key twice.
    const live = new Set<string>();
    const match = `${globEscape(this.prefix)}replica:*`;
    do {
      const [next, keys] = await this.redis.scan(cursor, 'MATCH', match, 'COUNT', 100);
      cursor = next;
      for (const k of keys) live.add(k);
    } while (cursor !== '0');
    return live.size;
  }
}
