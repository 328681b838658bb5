import { setMaxListeners } from 'node:events';

/** Lets `signal` take `listeners` abort listeners (at least Node's default 10) without a leak warning. */
export function allowListeners(signal: AbortSignal, listeners: number): void {
  setMaxListeners(Math.max(10, listeners), signal);
}

/** Wakes every waiter; each re-checks its condition (some may have stopped waiting meanwhile). */
export function wakeAll(waiters: (() => void)[]): void {
  for (const wake of waiters.splice(0)) wake();
}

/** Waits for `promise` and gives its value, or gives undefined as soon as `signal` aborts. */
export async function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T | undefined> {
  if (signal.aborted) return undefined;
  let onAbort: (() => void) | undefined;
  const aborted = new Promise<undefined>((resolve) => {
    onAbort = () => resolve(undefined);
    signal.addEventListener('abort', onAbort, { once: true });
  });
  try {
    return await Promise.race([promise, aborted]);
  } finally {
    signal.removeEventListener('abort', onAbort!);
  }
}
