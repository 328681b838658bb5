import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, readdirSync, readFileSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { ErrorCodes, isCollectorError } from '../../src/core/errors.js';
import { LOCK_FILE, lockDirectory, takeoverMarker } from '../../src/state/dir-lock.js';
import { FileStateStore } from '../../src/state/file-store.js';
import { tempDir } from '../helpers/paths.js';

const linux = existsSync('/proc/self/stat');
const host = hostname();

/** A pid free now: a process that has exited. */
function deadPid(): number {
  return Number(
    spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']).stdout.toString(),
  );
}

/** Another live process (the caller kills it). */
async function idleProcess(): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1 << 30)'], { stdio: 'ignore' });
  await once(child, 'spawn');
  return child;
}

/** Field 22 of /proc/<pid>/stat (start time in ticks after boot), read here independently of the lock's code. */
function procStart(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]);
}

function bootId(): string {
  return readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
}

function writeLock(dir: string, owner: Record<string, unknown>): void {
  writeFileSync(join(dir, LOCK_FILE), JSON.stringify(owner));
}

/** Takes the lock, checks it records this process, releases it and checks nothing stays behind. */
async function takeAndRelease(dir: string): Promise<void> {
  const release = await lockDirectory(dir);
  const owner = JSON.parse(readFileSync(join(dir, LOCK_FILE), 'utf8')) as Record<string, unknown>;
  assert.equal(owner.pid, process.pid);
  await release();
  assert.deepEqual(readdirSync(dir), []);
}

test('a state directory is opened by one store at a time; a lock left by a dead process is taken over', async () => {
  const { dir, cleanup } = tempDir();
  try {
    const a = new FileStateStore(dir);
    await a.open();
    const b = new FileStateStore(dir);
    await assert.rejects(b.open(), (err) => {
      assert.ok(isCollectorError(err, ErrorCodes.STATE_LOCKED));
      assert.equal(err.details.directory, dir);
      assert.equal(err.details.pid, process.pid);
      assert.ok(err.message.includes(dir));
      return true;
    });
    await a.close();
    await b.open();
    await b.close();
    assert.deepEqual(readdirSync(dir), [], 'the lock goes with the store, no temporary file stays');

    // A process that died without closing: its pid is free now.
    writeLock(dir, { pid: deadPid(), host });
    const c = new FileStateStore(dir);
    await c.open();
    await c.close();
  } finally {
    cleanup();
  }
});

test(
  'the lock records the process incarnation; a lock of an earlier incarnation of our pid or of PID 1 (a restarted container) is taken over',
  { skip: !linux && 'no /proc' },
  async () => {
    const { dir, cleanup } = tempDir();
    try {
      const release = await lockDirectory(dir);
      // Readable by the old code too: pid and host are still there.
      assert.deepEqual(JSON.parse(readFileSync(join(dir, LOCK_FILE), 'utf8')), {
        pid: process.pid,
        host,
        start: procStart(process.pid),
        boot: bootId(),
      });
      await release();

      // We hold no lock yet: our pid in it is an earlier process (OOM-killed PID 1 of this container).
      writeLock(dir, { pid: process.pid, host, start: procStart(process.pid) - 1, boot: bootId() });
      await takeAndRelease(dir);
      // PID 1 runs, but it is not the process that wrote the lock.
      writeLock(dir, { pid: 1, host, start: procStart(1) + 1, boot: bootId() });
      await takeAndRelease(dir);
    } finally {
      cleanup();
    }
  },
);

test(
  'a lock of a live process is refused while it is that process (same start, same boot), naming directory, pid and host; else taken over',
  { skip: !linux && 'no /proc' },
  async () => {
    const { dir, cleanup } = tempDir();
    const other = await idleProcess();
    try {
      const pid = other.pid!;
      writeLock(dir, { pid, host, start: procStart(pid), boot: bootId() });
      await assert.rejects(lockDirectory(dir), (err) => {
        assert.ok(isCollectorError(err, ErrorCodes.STATE_LOCKED));
        assert.deepEqual(err.details, { directory: dir, pid, host });
        return true;
      });
      // The pid now belongs to another program than the one that locked.
      writeLock(dir, { pid, host, start: procStart(pid) + 1, boot: bootId() });
      await takeAndRelease(dir);
      // Written before the last boot.
      writeLock(dir, { pid, host, start: procStart(pid), boot: 'a-boot-before' });
      await takeAndRelease(dir);
    } finally {
      other.kill('SIGKILL');
      cleanup();
    }
  },
);

test('an old lock (pid and host only): a dead pid’s or our own pid’s is taken over, a live process’s refused', async () => {
  const { dir, cleanup } = tempDir();
  const other = await idleProcess();
  try {
    writeLock(dir, { pid: deadPid(), host });
    await takeAndRelease(dir);
    writeLock(dir, { pid: process.pid, host });
    await takeAndRelease(dir);
    writeLock(dir, { pid: other.pid, host });
    await assert.rejects(lockDirectory(dir), (err) => {
      assert.ok(isCollectorError(err, ErrorCodes.STATE_LOCKED));
      assert.equal(err.details.pid, other.pid);
      return true;
    });
  } finally {
    other.kill('SIGKILL');
    cleanup();
  }
});

test('two processes finding the same stale lock: exactly one takes it over', async () => {
  const { dir, cleanup } = tempDir();
  try {
    const dead = deadPid();
    for (let round = 0; round < 50; round++) {
      writeLock(dir, { pid: dead, host });
      const results = await Promise.allSettled([lockDirectory(dir), lockDirectory(dir)]);
      const won = results.filter((r) => r.status === 'fulfilled');
      assert.equal(won.length, 1, `round ${round}: ${won.length} took the lock`);
      const lost = results.find((r) => r.status === 'rejected')!.reason as unknown;
      assert.ok(isCollectorError(lost, ErrorCodes.STATE_LOCKED), `round ${round}: ${String(lost)}`);
      await won[0]!.value();
      assert.deepEqual(readdirSync(dir), [], `round ${round}: nothing stays behind`);
    }
  } finally {
    cleanup();
  }
});

test('a takeover marker left by a process that died while taking over does not block the next', async () => {
  const { dir, cleanup } = tempDir();
  try {
    const stale = JSON.stringify({ pid: deadPid(), host });
    writeFileSync(join(dir, LOCK_FILE), stale);
    writeFileSync(takeoverMarker(join(dir, LOCK_FILE), stale), JSON.stringify({ pid: deadPid(), host }));
    await takeAndRelease(dir);
  } finally {
    cleanup();
  }
});

test('a lock from another host (a shared volume, a container restarted under a new name) is held while touched, taken over once stale', async () => {
  const { dir, cleanup } = tempDir();
  const timing = { refreshMs: 20, staleMs: 5_000 };
  try {
    const lock = join(dir, LOCK_FILE);
    writeLock(dir, { pid: 1, host: 'collector-7f9c-old' });
    await assert.rejects(lockDirectory(dir, timing), (err) => {
      assert.ok(isCollectorError(err, ErrorCodes.STATE_LOCKED));
      assert.deepEqual(err.details, { directory: dir, pid: 1, host: 'collector-7f9c-old' });
      assert.match(err.message, /taken over once not touched for 5 s/);
      return true;
    });
    // Its owner stopped touching it longer ago than staleMs (the default: 60 s): gone.
    const old = new Date(Date.now() - 120_000);
    utimesSync(lock, old, old);
    await takeAndRelease(dir);
    // Unreadable as a lock, and stale: taken over too.
    writeFileSync(lock, 'not a lock');
    utimesSync(lock, old, old);
    await takeAndRelease(dir);
  } finally {
    cleanup();
  }
});

test('the owner touches its lock while it holds it, and stops once released', async () => {
  const { dir, cleanup } = tempDir();
  try {
    const lock = join(dir, LOCK_FILE);
    const release = await lockDirectory(dir, { refreshMs: 20, staleMs: 5_000 });
    const old = new Date(Date.now() - 60_000);
    utimesSync(lock, old, old);
    await new Promise((r) => setTimeout(r, 200));
    assert.ok(Date.now() - statSync(lock).mtimeMs < 1_000, 'touched again');
    await release();
    assert.deepEqual(readdirSync(dir), []);
  } finally {
    cleanup();
  }
});
