import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { DeliveredBefore, isTimeCheckpoint, TimeCursor } from '../../../src/services/shared/time-cursor.js';

describe('TimeCursor', () => {
  test('keeps the ids of the events at its timestamp, and moves past a fully read range', () => {
    const cursor = new TimeCursor({ from: 1000, seen: ['a'] });
    cursor.pass(1000, 'b');
    assert.deepEqual(cursor.checkpoint(), { from: 1000, seen: ['a', 'b'] });
    cursor.pass(2000, 'c');
    cursor.pass(2000, 'd');
    assert.deepEqual(cursor.checkpoint(), { from: 2000, seen: ['c', 'd'] });
    cursor.completeThrough(2999);
    assert.deepEqual(cursor.checkpoint(), { from: 3000, seen: [] });
    cursor.completeThrough(1500);
    assert.equal(cursor.position, 3000, 'never moves back');
  });

  test('DeliveredBefore skips what a checkpoint covers and nothing else', () => {
    const before = new DeliveredBefore({ from: 2000, seen: ['x'] });
    assert.equal(before.has(1999, 'anything'), true);
    assert.equal(before.has(2000, 'x'), true);
    assert.equal(before.has(2000, 'y'), false, 'another event of the boundary second is still to deliver');
    assert.equal(before.has(2001, 'x'), false);
  });

  test('a saved checkpoint is checked before use', () => {
    assert.equal(isTimeCheckpoint({ from: 1, seen: [] }), true);
    assert.equal(isTimeCheckpoint({ from: '1', seen: [] }), false);
    assert.equal(isTimeCheckpoint({ from: 1 }), false);
    assert.equal(isTimeCheckpoint(undefined), false);
  });
});
