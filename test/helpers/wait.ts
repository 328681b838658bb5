import assert from 'node:assert/strict';

/** Polls `check` until it holds; fails the test after `ms`, naming `what`. */
export async function waitUntil(check: () => boolean, ms = 5_000, what = 'a condition'): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) assert.fail(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

export { freePort } from '../../sandbox/ports.js';
