import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { CheckpointSequencer } from '../../src/core/checkpoints.js';
import { events } from '../helpers/batches.js';

describe('CheckpointSequencer', () => {
  test('saves checkpoints in order even when batches are acknowledged out of order', async () => {
    const saved: number[] = [];
    const seq = new CheckpointSequencer<number>(async (cp) => void saved.push(cp));
    const b1 = seq.batch(events(1), 's', 1);
    const b2 = seq.batch(events(1), 's', 2);
    const b3 = seq.batch(events(1), 's', 3);
    await b3.ack();
    await b2.ack();
    assert.deepEqual(saved, [], 'nothing before batch 1 is acknowledged');
    await b1.ack();
    await seq.settled();
    assert.deepEqual(saved, [3], 'jumps straight to the newest contiguous checkpoint');
  });

  test('settled(signal): once the signal aborts, a pull stops waiting for acknowledgements that await confirmation; they still save', async () => {
    const saved: number[] = [];
    const seq = new CheckpointSequencer<number>(async (cp) => void saved.push(cp));
    const b1 = seq.batch(events(1), 's', 1);
    const abort = new AbortController();
    let settled = false;
    const waiting = seq.settled(abort.signal).then(() => (settled = true));
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(settled, false, 'b1 is not acknowledged yet');
    abort.abort();
    await waiting;
    await b1.ack();
    assert.deepEqual(saved, [1], 'acknowledged after the pull ended: saved all the same');
  });

  test('a released batch stops the checkpoint before it, for good', async () => {
    const saved: number[] = [];
    const seq = new CheckpointSequencer<number>(async (cp) => void saved.push(cp));
    const b1 = seq.batch(events(1), 's', 1);
    const b2 = seq.batch(events(1), 's', 2);
    const b3 = seq.batch(events(1), 's', 3);
    await b2.release(new Error('output down'));
    await b3.ack();
    await b1.ack();
    await seq.settled();
    assert.deepEqual(saved, [1]);
    assert.equal(seq.anyReleased, true);
  });

  test('settled() surfaces a failed save', async () => {
    const seq = new CheckpointSequencer<number>(async () => {
      throw new Error('disk full');
    });
    await seq.batch(events(1), 's', 1).ack();
    await assert.rejects(seq.settled(), /disk full/);
  });
});
