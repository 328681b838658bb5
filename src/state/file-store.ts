import { createHash, randomBytes } from 'node:crypto';
import { mkdir, open, readFile, rename, unlink } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { CollectorError, ErrorCodes } from '../core/errors.js';
import { lockDirectory } from './dir-lock.js';
import type { StateStore } from './store.js';

/**
 * One JSON file per key in a folder. Writes are atomic and durable: the new value goes to a
 * temporary file that is fsynced, renamed over the old one, and the folder is fsynced, so a
 * crash at any moment leaves either the previous or the new value — never a torn file.
 */
export class FileStateStore implements StateStore {
  readonly dir: string;
  /** Writes to one key are serialised so an older value never lands after a newer one. */
  private readonly chains = new Map<string, Promise<void>>();

  private unlock: (() => Promise<void>) | undefined;

  constructor(dir: string) {
    this.dir = resolve(dir);
  }

  async open(): Promise<void> {
    this.unlock ??= await lockDirectory(this.dir);
  }

  fileFor(key: string): string {
    const name = encodeURIComponent(key);
    // File names stop at 255 bytes and a log group name alone may have 512 characters: a longer key
    // keeps a readable prefix and a hash of the whole key. Shorter keys keep the name they always had.
    if (name.length <= MAX_NAME) return join(this.dir, `${name}.json`);
    const hash = createHash('sha256').update(key).digest('hex').slice(0, 32);
    return join(this.dir, `${name.slice(0, 180)}~${hash}.json`);
  }

  async get<T = unknown>(key: string): Promise<T | undefined> {
    await this.chains.get(key);
    const file = this.fileFor(key);
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw unreadable(file, err);
    }
    try {
      return (JSON.parse(text) as { value: T }).value;
    } catch (err) {
      throw unreadable(file, err);
    }
  }

  set(key: string, value: unknown): Promise<void> {
    const previous = this.chains.get(key) ?? Promise.resolve();
    const next = previous.catch(() => undefined).then(() => this.write(key, value));
    this.chains.set(key, next);
    void next
      .finally(() => {
        if (this.chains.get(key) === next) this.chains.delete(key);
      })
      .catch(() => undefined);
    return next;
  }

  private async write(key: string, value: unknown): Promise<void> {
    const file = this.fileFor(key);
    // Beside the file (the rename stays in the folder); its name is cut so the suffix fits any key.
    const suffix = `${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
    const tmp = join(this.dir, `${basename(file).slice(0, 220)}.${suffix}`);
    const body = JSON.stringify({ key, savedAt: new Date().toISOString(), value });
    try {
      await mkdir(this.dir, { recursive: true });
      const handle = await open(tmp, 'w', 0o600);
      try {
        await handle.writeFile(body);
        await handle.sync();
      } finally {
        await handle.close();
      }
      await rename(tmp, file);
      await syncDir(this.dir);
    } catch (err) {
      await unlink(tmp).catch(() => undefined);
      throw new CollectorError(
        ErrorCodes.STATE_WRITE_FAILED,
        `cannot save state file ${file}: ${(err as Error).message}`,
        {
          cause: err,
          details: { file },
        },
      );
    }
  }

  async close(): Promise<void> {
    await Promise.allSettled([...this.chains.values()]);
    await this.unlock?.();
    this.unlock = undefined;
  }
}

/** Longest encoded key used as is in a file name: with `.json`, the most a file name may have. */
const MAX_NAME = 250;

async function syncDir(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

function unreadable(file: string, err: unknown): CollectorError {
  return new CollectorError(
    ErrorCodes.STATE_UNREADABLE,
    `state file ${file} is unreadable (${(err as Error).message}); fix or remove it — the collector will not silently start over`,
    { cause: err, details: { file } },
  );
}
