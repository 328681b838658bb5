import { createHash, randomBytes } from 'node:crypto';
import { link, mkdir, open, unlink, utimes, writeFile, type FileHandle } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { CollectorError, ErrorCodes } from '../core/errors.js';

/**
 * The lock file inside a state directory: `{ pid, host }` of the process that owns the folder and,
 * where /proc tells them, its `start` (clock ticks after boot) and the `boot` id: a pid alone names
 * no process for long (a container's PID 1 is 1 again after a restart; pids are reused).
 */
export const LOCK_FILE = '.lock';

/** A lock file holds a few dozen bytes: a longer one is not a lock this code wrote. */
const MAX_LOCK_BYTES = 1024;
/** Stale locks taken over in one call: each needs a holder that died at once after taking over. */
const MAX_TAKEOVERS = 3;

export interface LockTiming {
  /** The owner touches its lock this often (its modification time says it lives). */
  refreshMs: number;
  /**
   * A lock whose owner cannot be checked (another host: a shared volume, or a container restarted
   * under a new hostname) is stale once not touched for this long; the margin covers clock skew.
   */
  staleMs: number;
}

const TIMING: LockTiming = { refreshMs: 15_000, staleMs: 60_000 };

interface Owner {
  pid: number;
  host: string;
  start?: number;
  boot?: string;
}

/** A lock (or takeover marker) as found: its inode and text identify it, its owner is parsed from the text. */
interface Found {
  ino: number;
  text: string;
  owner: Owner | undefined;
  /** Last touched (epoch ms). */
  mtimeMs: number;
}

/**
 * Makes `dir` this process's alone: two collectors on one folder would race on its checkpoints.
 * The lock file is written whole beside it and hard-linked into place (link fails if it exists),
 * so it is never seen half-written, and touched every `refreshMs` while held. A lock whose process
 * is gone (dead, or another incarnation of its pid) on this host is taken over; one from another
 * host cannot be checked, and is taken over once not touched for `staleMs`. Returns the release.
 */
export async function lockDirectory(dir: string, timing: LockTiming = TIMING): Promise<() => Promise<void>> {
  await mkdir(dir, { recursive: true });
  const file = join(dir, LOCK_FILE);
  const me: Owner = {
    pid: process.pid,
    host: hostname(),
    start: await startTime(process.pid),
    boot: await bootId(),
  };
  const tmp = join(dir, `${LOCK_FILE}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  await writeFile(tmp, JSON.stringify(me), { mode: 0o600 });
  try {
    for (let takeovers = 0; !(await linked(tmp, file)); takeovers++) {
      const found = await readLock(file);
      if (found === undefined) continue; // released meanwhile
      const owner = found.owner;
      if (takeovers >= MAX_TAKEOVERS || (await held(found, me, timing)))
        throw locked(dir, file, owner, timing);
      const busy = await takeOver(file, found, tmp, me, timing);
      if (busy) throw locked(dir, file, busy.owner, timing);
    }
  } finally {
    await unlink(tmp).catch(() => undefined);
  }
  const text = JSON.stringify(me);
  const ours = async (): Promise<boolean> => (await readLock(file))?.text === text;
  // Touched only while still ours: a lock another process took over is never kept alive from here.
  const refresh = setInterval(() => {
    void ours().then(
      async (yes) => {
        if (yes) await utimes(file, new Date(), new Date());
      },
      () => undefined,
    );
  }, timing.refreshMs);
  refresh.unref();
  return async () => {
    clearInterval(refresh);
    // Only our own lock: never remove one another process took over.
    if (await ours()) await unlink(file).catch(() => undefined);
  };
}

/** Whether the owner of `found` still holds it: checked on this host, by its touches from another. */
async function held(found: Found, me: Owner, timing: LockTiming): Promise<boolean> {
  const { owner } = found;
  if (owner?.host === me.host) return stillRuns(owner, me);
  return Date.now() - found.mtimeMs < timing.staleMs;
}

/**
 * Removes the stale lock `stale` so that no live lock is ever removed. Two processes may find the
 * same stale lock; if each unlinked what it found, the later could unlink the lock the earlier had
 * just linked, and both would run. So only the process that links a marker named after the stale
 * lock's text (a dead incarnation's: it never comes back) removes it, after checking, under the
 * marker, that the lock is still that one. A marker whose own holder died is stale in turn: the next
 * is named after both. Markers go only once the stale lock is gone, so none is ever taken twice
 * while it matters. Returns the marker of a live process taking over now (it wins), else undefined.
 */
async function takeOver(
  file: string,
  stale: Found,
  tmp: string,
  me: Owner,
  timing: LockTiming,
): Promise<Found | undefined> {
  const markers: string[] = [];
  for (let chain = stale.text; ;) {
    const marker = takeoverMarker(file, chain);
    if (await linked(tmp, marker)) {
      markers.push(marker);
      break;
    }
    const holder = await readLock(marker);
    if (holder === undefined) continue; // its holder finished: ours to take now
    if (await held(holder, me, timing)) return holder;
    markers.push(marker);
    chain += holder.text;
  }
  const now = await readLock(file);
  if (now?.ino === stale.ino && now.text === stale.text) await unlink(file);
  for (const marker of markers) await unlink(marker).catch(() => undefined);
  return undefined;
}

/** The marker of a takeover of the stale lock(s) `chain` (their texts, one after another). */
export function takeoverMarker(file: string, chain: string): string {
  return `${file}.takeover-${createHash('sha256').update(chain).digest('hex').slice(0, 16)}`;
}

/**
 * Whether the process that wrote `owner` on this host still runs. Where /proc tells, the same
 * incarnation must run: same boot, same start time (a container's new PID 1, or a pid now used by
 * another program, holds nothing). Our own pid holds a lock only if this very process wrote it.
 */
async function stillRuns(owner: Owner, me: Owner): Promise<boolean> {
  if (owner.boot !== undefined && me.boot !== undefined && owner.boot !== me.boot) return false;
  if (owner.pid === me.pid) return me.start !== undefined && owner.start === me.start;
  if (!alive(owner.pid)) return false;
  if (owner.start === undefined) return true;
  const start = await startTime(owner.pid);
  return start === undefined || start === owner.start;
}

function locked(dir: string, file: string, owner: Owner | undefined, timing: LockTiming): CollectorError {
  const elsewhere =
    owner?.host === hostname()
      ? ''
      : ` (a lock from another host is taken over once not touched for ${timing.staleMs / 1000} s)`;
  return new CollectorError(
    ErrorCodes.STATE_LOCKED,
    `state directory ${dir} is in use by process ${owner?.pid ?? '?'} on ${owner?.host ?? '?'} (${file})${elsewhere}; run one collector per state directory, or share a redis between replicas`,
    { details: { directory: dir, pid: owner?.pid, host: owner?.host } },
  );
}

/** Links `from` at `to`; false if `to` exists. */
async function linked(from: string, to: string): Promise<boolean> {
  try {
    await link(from, to);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  }
}

/** The lock at `file`, undefined if there is none; one that cannot be read or parsed has no owner. */
async function readLock(file: string): Promise<Found | undefined> {
  const read = await readSmall(file, MAX_LOCK_BYTES);
  if (read === undefined) return undefined;
  const { ino, mtimeMs, text } = read;
  return { ino, mtimeMs, text: text ?? '', owner: text === undefined ? undefined : parseOwner(text) };
}

/** The owner in a lock's text; a lock written before `start` and `boot` existed has only pid and host. */
function parseOwner(text: string): Owner | undefined {
  let owner: Partial<Owner>;
  try {
    owner = JSON.parse(text) as Partial<Owner>;
  } catch {
    return undefined;
  }
  // kill(0 or less, 0) would ask about a process group or every process, not one process.
  if (!Number.isSafeInteger(owner.pid) || owner.pid! <= 0 || typeof owner.host !== 'string') return undefined;
  return {
    pid: owner.pid!,
    host: owner.host,
    ...(Number.isSafeInteger(owner.start) ? { start: owner.start } : {}),
    ...(typeof owner.boot === 'string' ? { boot: owner.boot } : {}),
  };
}

/** Field 22 of /proc/<pid>/stat: when the process started, in clock ticks after boot. */
async function startTime(pid: number): Promise<number | undefined> {
  const stat = await readProc(`/proc/${pid}/stat`);
  // The name (field 2) is in parentheses and may hold spaces or parentheses: count after the last ')'.
  const fields = stat?.slice(stat.lastIndexOf(')') + 2).split(' ');
  const start = Number(fields?.[22 - 3]);
  return Number.isSafeInteger(start) ? start : undefined;
}

async function bootId(): Promise<string | undefined> {
  return (await readProc('/proc/sys/kernel/random/boot_id'))?.trim() || undefined;
}

async function readProc(path: string): Promise<string | undefined> {
  return (await readSmall(path, 4096))?.text;
}

/**
 * The inode and text (at most `max` bytes) of the file at `path`; undefined if there is none, no
 * text if it cannot be read or is longer. /proc files report no size: read, not stat.
 */
async function readSmall(
  path: string,
  max: number,
): Promise<{ ino: number; mtimeMs: number; text?: string } | undefined> {
  let handle: FileHandle;
  try {
    handle = await open(path, 'r');
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ENOENT' ? undefined : { ino: -1, mtimeMs: Date.now() };
  }
  try {
    const { ino, mtimeMs } = await handle.stat();
    const buffer = Buffer.alloc(max + 1);
    let length = 0;
    for (let n = 1; n > 0 && length <= max; length += n)
      n = (await handle.read(buffer, length, max + 1 - length)).bytesRead;
    return length > max ? { ino, mtimeMs } : { ino, mtimeMs, text: buffer.toString('utf8', 0, length) };
  } catch {
    return { ino: -1, mtimeMs: Date.now() };
  } finally {
    await handle.close();
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
