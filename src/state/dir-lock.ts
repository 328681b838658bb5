import { randomBytes } from 'node:crypto';
import { link, mkdir, readFile, unlink, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { CollectorError, ErrorCodes } from '../core/errors.js';

/** The lock file inside a state directory: `{ pid, host }` of the process that owns the folder. */
export const LOCK_FILE = '.lock';

interface Owner {
  pid: number;
  host: string;
}

/**
 * Makes `dir` this process's alone: two collectors on one folder would race on its checkpoints.
 * The lock file is written whole beside it and hard-linked into place (link fails if it exists),
 * so it is never seen half-written. A lock left by a dead process of this host is taken over; one
 * from another host (a shared volume) cannot be checked and is refused. Returns the release.
 */
export async function lockDirectory(dir: string): Promise<() => Promise<void>> {
  await mkdir(dir, { recursive: true });
  const file = join(dir, LOCK_FILE);
  const me: Owner = { pid: process.pid, host: hostname() };
  const tmp = join(dir, `${LOCK_FILE}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  await writeFile(tmp, JSON.stringify(me), { mode: 0o600 });
  try {
    for (let attempt = 0; ; attempt++) {
      try {
        await link(tmp, file);
        break;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      }
      const owner = await readOwner(file);
      if (attempt === 0 && owner !== undefined && owner.host === me.host && !alive(owner.pid)) {
        await unlink(file).catch(() => undefined);
        continue;
      }
      throw new CollectorError(
        ErrorCodes.STATE_LOCKED,
        `state directory ${dir} is in use by process ${owner?.pid ?? '?'} on ${owner?.host ?? '?'} (${file}); run one collector per state directory, or share a redis between replicas`,
        { details: { directory: dir, pid: owner?.pid, host: owner?.host } },
      );
    }
  } finally {
    await unlink(tmp).catch(() => undefined);
  }
  return async () => {
    // Only our own lock: never remove one another process took over.
    const owner = await readOwner(file);
    if (owner?.pid === me.pid && owner.host === me.host) await unlink(file).catch(() => undefined);
  };
}

async function readOwner(file: string): Promise<Owner | undefined> {
  try {
    const owner = JSON.parse(await readFile(file, 'utf8')) as Partial<Owner>;
    return typeof owner.pid === 'number' && typeof owner.host === 'string'
      ? { pid: owner.pid, host: owner.host }
      : undefined;
  } catch {
    return undefined;
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists, under another user.
    return (err as NodeJS.ErrnoException).code !== 'ESRCH';
  }
}
