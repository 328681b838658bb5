import assert from 'node:assert/strict';
import { test } from 'node:test';
import { toJsonLines } from '../../src/outputs/json-lines.js';
import { batchBytes, eventCount, singleMessages, type CollectorEvent } from '../../src/core/batch.js';

test('a run of lines counts, sizes and splits as its lines', () => {
  const events: CollectorEvent[] = [
    { tag: 'a', message: 'one' },
    { tag: 'tag.b', message: 'l1\nl2\nl3', plain: true, lines: 3 },
    { tag: 'a', message: 'two', plain: true },
  ];
  const lines: CollectorEvent[] = [
    { tag: 'a', message: 'one' },
    { tag: 'tag.b', message: 'l1', plain: true },
    { tag: 'tag.b', message: 'l2', plain: true },
    { tag: 'tag.b', message: 'l3', plain: true },
    { tag: 'a', message: 'two', plain: true },
  ];
  assert.equal(eventCount(events), 5);
  assert.deepEqual(singleMessages(events), lines);
  // A run weighs what its lines weigh, plus the LFs that join them.
  assert.equal(batchBytes(events), batchBytes(lines) + 2);
  assert.equal(toJsonLines(events), toJsonLines(lines));
  const plain = lines.slice(0, 1);
  assert.equal(singleMessages(plain), plain, 'no run: the same array');
});
