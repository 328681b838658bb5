import { Redis } from 'ioredis';
import { CollectorError, ErrorCodes } from '../core/errors.js';
import type { Secrets } from '../telemetry/secrets.js';
import type { StateStore } from './store.js';

export interface RedisStoreOptions {
  host: string;
  port: number;
  password?: string | undefined;
  db: number;
  tls: boolean;
  key_prefix: string;
}

/** State kept in Redis. A SET is atomic, so readers see the previous or the new value. */
export class RedisStateStore implements StateStore {
  private readonly redis: Redis;
  private closed = false;

  constructor(
    private readonly options: RedisStoreOptions,
    secrets: Secrets,
  ) {
    secrets.register(options.password);
    this.redis = new Redis({
      host: options.host,
      port: options.port,
      db: options.db,
      lazyConnect: true,
      maxRetriesPerRequest: 5,
      ...(options.password ? { password: options.password } : {}),
      ...(options.tls ? { tls: {} } : {}),
    });
    // Connection errors surface on the calls that need the connection; this keeps them out of stderr.
    this.redis.on('error', () => undefined);
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
      await this.redis.set(
        this.options.key_prefix + key,
        JSON.stringify({ key, savedAt: new Date().toISOString(), value }),
      );
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
    await this.redis.quit().catch(() => this.redis.disconnect());
  }
}
