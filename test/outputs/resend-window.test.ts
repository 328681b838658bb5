import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ResendWindow, type Confirmation, type Resend } from '../../src/outputs/resend-window.js';
import { seededRandom } from '../../sandbox/random.js';

const text = (taken: Resend[]): string[] => taken.map((r) => r.data.toString('latin1'));

describe('ResendWindow', () => {
  test('keeps whole writes, oldest evicted first, and gives them back oldest first', () => {
    const window = new ResendWindow(10);
    window.add(Buffer.from('abcd'), 1);
    window.add(Buffer.from('efgh'), 2);
    assert.equal(window.bytes, 8);
    window.add(Buffer.from('ijkl'), 3);
    assert.equal(window.bytes, 8, 'abcd made room');
    assert.equal(window.lastFlushedAt, 3);
    // ijkl wrapped around the end of the ring: 'ij' at the end, 'kl' at the start.
    assert.deepEqual(text(window.take(0)), ['efgh', 'ijkl']);
    assert.equal(window.bytes, 0);
    assert.equal(window.lastFlushedAt, 0);
  });

  test('take(since) leaves out writes flushed before `since`', () => {
    const window = new ResendWindow(100);
    window.add(Buffer.from('old'), 1_000);
    window.add(Buffer.from('new'), 2_000);
    window.add(Buffer.from('newest'), 2_500);
    assert.deepEqual(text(window.take(2_000)), ['new', 'newest']);
  });

  test('a write larger than the window empties it', () => {
    const window = new ResendWindow(8);
    window.add(Buffer.from('abc'), 1);
    window.add(Buffer.alloc(9, 0x78), 2);
    assert.equal(window.bytes, 0);
    assert.deepEqual(window.take(0), []);
  });

  test('a window of 0 bytes keeps nothing', () => {
    const window = new ResendWindow(0);
    window.add(Buffer.alloc(0), 1);
    window.add(Buffer.from('a'), 2);
    assert.equal(window.bytes, 0);
    assert.deepEqual(window.take(0), []);
  });

  test('holds copies: the caller may reuse its buffers, and what take() gave stays intact', () => {
    const window = new ResendWindow(16);
    const data = Buffer.from('12345678');
    window.add(data, 1);
    data.fill(0x30);
    const taken = window.take(0);
    window.add(Buffer.from('abcdefghijklmnop'), 2);
    assert.deepEqual(text(taken), ['12345678']);
    assert.deepEqual(text(window.take(0)), ['abcdefghijklmnop']);
  });

  test('confirmation: eviction and age-out confirm; a taken write keeps its obligation; settle(err) gives up', () => {
    const outcome = new Map<string, 'confirmed' | 'released'>();
    const obligation = (name: string): Confirmation => ({
      resolve: () => outcome.set(name, 'confirmed'),
      reject: () => outcome.set(name, 'released'),
    });
    const window = new ResendWindow(8);
    window.add(Buffer.from('aaaa'), 1_000, obligation('a'));
    window.add(Buffer.from('bbbb'), 2_000, obligation('b'));
    assert.equal(outcome.size, 0, 'kept writes are not confirmed');
    window.add(Buffer.from('cccc'), 3_000, obligation('c'));
    assert.deepEqual([...outcome], [['a', 'confirmed']], 'evicted by newer bytes');
    window.expire(2_500);
    assert.deepEqual(
      [...outcome],
      [
        ['a', 'confirmed'],
        ['b', 'confirmed'],
      ],
      'aged out',
    );
    window.add(Buffer.from('dd'), 4_000, obligation('d'));
    // A break: what is still kept is sent again on another connection, still owing its confirmation.
    const taken = window.take(0);
    assert.deepEqual(text(taken), ['cccc', 'dd']);
    assert.equal(outcome.has('c') || outcome.has('d'), false, 'taken back: not confirmed');
    const next = new ResendWindow(8);
    for (const r of taken) next.add(r.data, 5_000, r.confirm);
    next.add(Buffer.from('eeee'), 6_000, obligation('e'));
    assert.equal(outcome.get('c'), 'confirmed', 'confirmed once it left the window again');
    assert.equal(outcome.has('d'), false);
    next.settle(new Error('stopped'));
    assert.equal(outcome.get('d'), 'released');
    assert.equal(outcome.get('e'), 'released');
    assert.equal(next.bytes, 0);
  });

  test('a write larger than the window, or any write to a window of 0 bytes, is confirmed at once', () => {
    const confirmed: string[] = [];
    const obligation = (name: string): Confirmation => ({
      resolve: () => confirmed.push(name),
      reject: () => assert.fail(name),
    });
    const window = new ResendWindow(4);
    window.add(Buffer.from('ab'), 1, obligation('small'));
    window.add(Buffer.from('abcdef'), 2, obligation('large'));
    assert.deepEqual(confirmed, ['small', 'large']);
    new ResendWindow(0).add(Buffer.from('a'), 3, obligation('none kept'));
    assert.deepEqual(confirmed, ['small', 'large', 'none kept']);
  });

  test('random writes: the same bytes as a list of the writes themselves', () => {
    const next = seededRandom(7);
    for (let round = 0; round < 200; round++) {
      const capacity = 1 + Math.floor(next() * 64);
      const window = new ResendWindow(capacity);
      let model: { data: Buffer; at: number }[] = [];
      let now = 0;
      const writes = Math.floor(next() * 40);
      for (let i = 0; i < writes; i++) {
        // Every byte differs from its neighbours, so a misplaced copy shows.
        const data = Buffer.from(
          Array.from({ length: Math.floor(next() * capacity * 1.2) }, (_, j) => (i * 37 + j) & 0xff),
        );
        now += Math.floor(next() * 3);
        window.add(data, now);
        if (data.length > capacity) model = [];
        else {
          model.push({ data: Buffer.from(data), at: now });
          while (model.reduce((n, w) => n + w.data.length, 0) > capacity) model.shift();
        }
        assert.equal(
          window.bytes,
          model.reduce((n, w) => n + w.data.length, 0),
        );
      }
      const since = now - Math.floor(next() * 10);
      const expected = model.filter((w) => w.at >= since).map((w) => w.data);
      assert.deepEqual(
        window.take(since).map((r) => r.data),
        expected,
        `round ${round}`,
      );
    }
  });
});
