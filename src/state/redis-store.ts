import { Redis } from 'ioredis';
import { CollectorError, ErrorCodes } from '../core/errors.js';
import type { Secrets } from '../telemetry/secrets.js';
import { RedisLeases, type Lease } from './leases.js';
import type { StateStore } from './store.js';

export interface RedisStoreOptions {
  host: string;
  port: number;
  password?: string | undefined;
  db: number;
  tls: boolean;
  key_prefix: string;
}

/** Longest wait for a lease command: a renewal stuck on a lost connection must not outlast the lease. */
export const LEASE_COMMAND_TIMEOUT_MS = 2_000;
/**
 * Longest wait for a state read or write: a Redis cut off without the connection closing (a
 * partition) fails the pull with a clear error, retried, instead of hanging it for TCP's minutes.
 */
const STATE_COMMAND_TIMEOUT_MS = 10_000;

/** State kept in Redis. A SET is atomic, so readers see the previous or the new value. */
export class RedisStateStore implements StateStore {
  private readonly redis: Redis;
  private leaseConnection: Redis | undefined;
  private closed = false;

  constructor(
    private readonly options: RedisStoreOptions,
    secrets: Secrets,
    commandTimeoutMs = STATE_COMMAND_TIMEOUT_MS,
  ) {
    secrets.register(options.password);
    this.redis = new Redis({
      host: options.host,
      port: options.port,
      db: options.db,
      lazyConnect: true,
      maxRetriesPerRequest: 5,
      commandTimeout: commandTimeoutMs,
      ...(options.password ? { password: options.password } : {}),
      ...(options.tls ? { tls: {} } : {}),
    });
    // Connection errors surface on the calls that need the connection; this keeps them out of stderr.
    this.redis.on('error', () => undefined);
  }

  /**
   * Connects, or fails naming the host and port (never the password): a replica that cannot reach
   * its Redis must not start as if it were alone.
   */
  async open(): Promise<void> {
    try {
      await this.redis.connect();
      await this.redis.ping();
    } catch (err) {
      throw new CollectorError(
        ErrorCodes.STATE_UNREACHABLE,
        `cannot reach redis at ${this.options.host}:${this.options.port}: ${(err as Error).message}`,
        { cause: err, details: { host: this.options.host, port: this.options.port } },
      );
    }
  }

  /** The leases of replica `replicaId`, on a connection of their own whose commands time out. */
  leases(replicaId: string, ttlMs: number): RedisLeases {
    const connection = this.redis.duplicate({
      commandTimeout: Math.min(LEASE_COMMAND_TIMEOUT_MS, ttlMs / 3),
      maxRetriesPerRequest: 0,
    });
    connection.on('error', () => undefined);
    this.leaseConnection = connection;
    return new RedisLeases(connection, this.options.key_prefix, replicaId, ttlMs);
  }

  /** Saves like set(), but only while `lease` is its task's current lease (else LEASE_LOST). */
  async setFenced(leases: RedisLeases, lease: Lease, key: string, value: unknown): Promise<void> {
    let written: boolean;
    try {
      written = await leases.fencedSet(lease, this.options.key_prefix + key, encode(key, value));
    } catch (err) {
      throw new CollectorError(
        ErrorCodes.STATE_WRITE_FAILED,
        `cannot save state to ${this.where(key)}: ${(err as Error).message}`,
        { cause: err },
      );
    }
    if (!written)
      throw new CollectorError(
        ErrorCodes.LEASE_LOST,
        `checkpoint at ${this.where(key)} not saved: the lease of task ${lease.task} (token ${lease.token}) has moved on`,
        { details: { task: lease.task, token: lease.token } },
      );
  }

  private where(key: string): string {
    return `redis ${this.options.host}:${this.options.port} key ${this.options.key_prefix}${key}`;
  }

  async get<T = unknown>(key: string): Promise<T | undefined> {
    let text: string | null;
    try {
      text = await this.redis.get(this.options.key_prefix + key);
    } catch (err) {
      throw new CollectorError(
        ErrorCodes.STATE_UNREADABLE,
        `cannot read state from ${this.where(key)}: ${(err as Error).message}`,
        { cause: err },
      );
    }
    if (text === null) return undefined;
    try {
      return (JSON.parse(text) as { value: T }).value;
    } catch (err) {
      throw new CollectorError(
        ErrorCodes.STATE_UNREADABLE,
        `state at ${this.where(key)} is not valid JSON; fix or delete it`,
        { cause: err },
      );
    }
  }

  async set(key: string, value: unknown): Promise<void> {
    try {
      await this.redis.set(this.options.key_prefix + key, encode(key, value));
    } catch (err) {
      throw new CollectorError(
        ErrorCodes.STATE_WRITE_FAILED,
        `cannot save state to ${this.where(key)}: ${(err as Error).message}`,
        { cause: err },
      );
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const connection of [this.redis, this.leaseConnection])
      await connection?.quit().catch(() => connection.disconnect());
  }
}

function encode(key: string, value: unknown): string {
  return JSON.stringify({ key, savedAt: new Date().toISOString(), value });
}
