import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Admission } from '../../src/core/admission.js';

const never = new AbortController().signal;
const tick = () => new Promise((r) => setImmediate(r));

describe('Admission', () => {
  test('grants up to the capacity, then in arrival order as amounts are given back', async () => {
    const budget = new Admission([10]);
    const a = await budget.acquire([6], never);
    const b = await budget.acquire([4], never);
    const order: string[] = [];
    const c = budget.acquire([5], never).then((give) => (order.push('c'), give));
    const d = budget.acquire([1], never).then((give) => (order.push('d'), give));
    await tick();
    assert.deepEqual(order, [], 'full: both wait, and the small one does not overtake');
    a();
    a(); // idempotent
    await tick();
    assert.deepEqual(order, ['c', 'd']);
    assert.deepEqual(budget.held, [10]);
    b();
    (await c)();
    (await d)();
    assert.deepEqual(budget.held, [0]);
  });

  test('an amount above the capacity is granted alone, so it never waits forever', async () => {
    const budget = new Admission([10]);
    const small = await budget.acquire([3], never);
    let granted = false;
    const big = budget.acquire([25], never).then((give) => ((granted = true), give));
    await tick();
    assert.equal(granted, false);
    small();
    (await big)();
    assert.deepEqual(budget.held, [0]);
  });

  test('an aborted wait takes nothing and unblocks those behind it', async () => {
    const budget = new Admission([4]);
    const held = await budget.acquire([3], never);
    const abort = new AbortController();
    const blocked = budget.acquire([4], abort.signal);
    let granted = false;
    const behind = budget.acquire([1], never).then((give) => ((granted = true), give));
    await tick();
    assert.equal(granted, false);
    abort.abort(new Error('stop'));
    await assert.rejects(blocked, /stop/);
    (await behind)();
    held();
    assert.deepEqual(budget.held, [0]);
    await assert.rejects(budget.acquire([1], abort.signal), /stop/);
  });

  test('several dimensions: a request waits while any of them is full', async () => {
    const window = new Admission([10, 1000]);
    const first = await window.acquire([1, 900], never);
    let granted = false;
    const second = window.acquire([1, 200], never).then((give) => ((granted = true), give));
    await tick();
    assert.equal(granted, false, 'events fit, bytes do not');
    first();
    (await second)();
    assert.deepEqual(window.held, [0, 0]);
  });

  test('takeUpTo takes what is free, without waiting, and release gives it back', async () => {
    const room = new Admission([12]);
    const held = await room.acquire([5], never);
    assert.equal(room.takeUpTo(10), 7);
    assert.equal(room.takeUpTo(10), 0);
    room.release([7]);
    held();
    assert.deepEqual(room.held, [0]);
  });

  test('rejectWaiters refuses the waiting requests; what is held stays held', async () => {
    const room = new Admission([1]);
    const held = await room.acquire([1], never);
    const waiting = room.acquire([1], never);
    room.rejectWaiters(new Error('closed'));
    await assert.rejects(waiting, /closed/);
    assert.deepEqual(room.held, [1]);
    held();
  });

  test('takeSome waits for room, then takes all that the releases of one tick freed', async () => {
    const room = new Admission([10]);
    assert.equal(room.takeUpTo(10), 10);
    const abort = new AbortController();
    const taking = room.takeSome(10, abort.signal);
    for (let i = 0; i < 10; i++) room.release([1]);
    assert.equal(await taking, 10, 'one receive for ten messages, not ten receives for one');
    room.release([10]);
    abort.abort();
    assert.equal(await room.takeSome(1, abort.signal), 0);
  });

  test('hold counts what cannot be refused, even beyond the capacity; acquisitions wait for it', async () => {
    const room = new Admission([2]);
    const gives = [room.hold([1]), room.hold([1]), room.hold([1])];
    assert.deepEqual(room.held, [3]);
    let granted = false;
    const waiting = room.acquire([1], never).then((give) => ((granted = true), give));
    gives[0]!();
    gives[0]!();
    await Promise.resolve();
    assert.equal(granted, false, 'two held of two: still full');
    gives[1]!();
    (await waiting)();
    assert.equal(granted, true);
    gives[2]!();
    assert.deepEqual(room.held, [0]);
  });
});
