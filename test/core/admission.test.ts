import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Budget } from '../../src/core/admission.js';

const never = new AbortController().signal;
const tick = () => new Promise((r) => setImmediate(r));

describe('Budget', () => {
  test('grants up to the capacity, then in arrival order as amounts are given back', async () => {
    const budget = new Budget(10);
    const a = await budget.acquire(6, never);
    const b = await budget.acquire(4, never);
    const order: string[] = [];
    const c = budget.acquire(5, never).then((give) => (order.push('c'), give));
    const d = budget.acquire(1, never).then((give) => (order.push('d'), give));
    await tick();
    assert.deepEqual(order, [], 'full: both wait, and the small one does not overtake');
    a();
    a(); // idempotent
    await tick();
    assert.deepEqual(order, ['c', 'd']);
    assert.equal(budget.held, 10);
    b();
    (await c)();
    (await d)();
    assert.equal(budget.held, 0);
  });

  test('an amount above the capacity is granted alone, so it never waits forever', async () => {
    const budget = new Budget(10);
    const small = await budget.acquire(3, never);
    let granted = false;
    const big = budget.acquire(25, never).then((give) => ((granted = true), give));
    await tick();
    assert.equal(granted, false);
    small();
    (await big)();
    assert.equal(budget.held, 0);
  });

  test('an aborted wait takes nothing and unblocks those behind it', async () => {
    const budget = new Budget(4);
    const held = await budget.acquire(3, never);
    const abort = new AbortController();
    const blocked = budget.acquire(4, abort.signal);
    let granted = false;
    const behind = budget.acquire(1, never).then((give) => ((granted = true), give));
    await tick();
    assert.equal(granted, false);
    abort.abort(new Error('stop'));
    await assert.rejects(blocked, /stop/);
    (await behind)();
    held();
    assert.equal(budget.held, 0);
    await assert.rejects(budget.acquire(1, abort.signal), /stop/);
  });
});
