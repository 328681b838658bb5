import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { CollectorError, ErrorCodes } from '../../src/core/errors.js';
import type { CollectorEvent } from '../../src/core/batch.js';
import { Delivery } from '../../src/runtime/delivery.js';
import type { Accepted, Output } from '../../src/outputs/output.js';
import { silentLogger } from '../../src/telemetry/logger.js';
import { Metrics } from '../../src/telemetry/metrics.js';
import { events, recordingBatch } from '../helpers/batches.js';

/** An output whose writes complete only when the test says so. */
class ManualOutput implements Output {
  readonly writes: { events: readonly CollectorEvent[]; resolve: () => void; reject: (e: Error) => void }[] =
    [];
  constructor(readonly name: string) {}
  async start() {}
  async stop() {}
  write(events: readonly CollectorEvent[]): Promise<void> {
    return new Promise((resolve, reject) => this.writes.push({ events, resolve, reject }));
  }
}

/** An output that accepts at once and confirms (or gives up) each write when the test says so. */
class ConfirmingOutput implements Output {
  readonly confirmations: { resolve: () => void; reject: (e: Error) => void }[] = [];
  constructor(readonly name: string) {}
  async start() {}
  async stop() {}
  async write(): Promise<Accepted> {
    const confirmed = new Promise<void>((resolve, reject) => this.confirmations.push({ resolve, reject }));
    return { confirmed };
  }
}

const labels = { service: 'svc', region: 'us-east-1' };
const tick = () => new Promise((r) => setImmediate(r));

describe('Delivery', () => {
  test('a batch is acknowledged only after every output accepted it', async () => {
    const a = new ManualOutput('a');
    const b = new ManualOutput('b');
    const d = new Delivery([a, b], { maxEvents: 100, maxBytes: 1e6 }, new Metrics(), silentLogger());
    const batch = recordingBatch(events(3));
    await d.admit(batch, labels);
    await tick();
    assert.equal(a.writes.length, 1);
    assert.equal(b.writes.length, 1);
    a.writes[0]!.resolve();
    await tick();
    assert.equal(batch.outcome, 'pending');
    b.writes[0]!.resolve();
    assert.equal(await batch.settled, 'acked');
  });

  test('a rejected write releases the batch instead of acknowledging it', async () => {
    const a = new ManualOutput('a');
    const b = new ManualOutput('b');
    const d = new Delivery([a, b], { maxEvents: 100, maxBytes: 1e6 }, new Metrics(), silentLogger());
    const batch = recordingBatch(events(2));
    await d.admit(batch, labels);
    await tick();
    a.writes[0]!.resolve();
    b.writes[0]!.reject(new CollectorError(ErrorCodes.OUTPUT_REJECTED, 'HTTP 401'));
    assert.equal(await batch.settled, 'released');
    assert.equal(await d.drain(1000), true);
    assert.deepEqual(d.inFlight, { events: 0, bytes: 0, batches: 0, unconfirmed: 0 });
  });

  test('a batch one output rejected is released only once every other output settled its write', async () => {
    // Releasing at the first rejection would free the window while the other output still holds the
    // events: a released SQS message comes straight back and piles up in the slow output's queue.
    const a = new ManualOutput('a');
    const b = new ManualOutput('b');
    const d = new Delivery([a, b], { maxEvents: 3, maxBytes: 1e6 }, new Metrics(), silentLogger());
    const batch = recordingBatch(events(3));
    await d.admit(batch, labels);
    await tick();
    a.writes[0]!.reject(new CollectorError(ErrorCodes.OUTPUT_REJECTED, 'HTTP 401'));
    await tick();
    assert.equal(batch.outcome, 'pending', 'output b still holds the events');
    assert.equal(d.inFlight.events, 3, 'the window stays taken while b holds the events');
    b.writes[0]!.resolve();
    assert.equal(await batch.settled, 'released');
    assert.equal(await d.drain(1000), true);
    assert.deepEqual(d.inFlight, { events: 0, bytes: 0, batches: 0, unconfirmed: 0 });
  });

  test('the in-flight window blocks admission until acknowledgements make room (backpressure)', async () => {
    const out = new ManualOutput('o');
    const d = new Delivery([out], { maxEvents: 10, maxBytes: 1e6 }, new Metrics(), silentLogger());
    await d.admit(recordingBatch(events(6)), labels);
    let secondAdmitted = false;
    const second = d.admit(recordingBatch(events(6)), labels).then(() => (secondAdmitted = true));
    await tick();
    assert.equal(secondAdmitted, false, 'window full: must wait');
    assert.equal(d.inFlight.events, 6);
    out.writes[0]!.resolve();
    await second;
    assert.equal(secondAdmitted, true);
    assert.equal(d.inFlight.events, 6);
  });

  test('a batch larger than the window is admitted alone rather than waiting forever', async () => {
    const out = new ManualOutput('o');
    const d = new Delivery([out], { maxEvents: 5, maxBytes: 1e6 }, new Metrics(), silentLogger());
    await d.admit(recordingBatch(events(50)), labels);
    assert.equal(d.inFlight.events, 50);
  });

  test('an accepted batch leaves the window at once (accepted() called) and is acknowledged only once confirmed', async () => {
    const out = new ConfirmingOutput('o');
    const plain = new ManualOutput('p');
    const d = new Delivery(
      [out, plain],
      { maxEvents: 5, maxBytes: 1e6, maxUnconfirmed: 10 },
      new Metrics(),
      silentLogger(),
    );
    let accepted = 0;
    const batch = { ...recordingBatch(events(5)), accepted: () => accepted++ };
    const recorded = recordingBatch([]);
    Object.assign(batch, { ack: recorded.ack, release: recorded.release });
    await d.admit(batch, labels);
    await tick();
    plain.writes[0]!.resolve();
    await tick();
    assert.equal(accepted, 1);
    assert.deepEqual(d.inFlight, { events: 0, bytes: 0, batches: 0, unconfirmed: 1 });
    // The window is free: the next batch is admitted without waiting for the confirmation.
    await d.admit(recordingBatch(events(5)), labels);
    assert.equal(recorded.outcome, 'pending', 'accepted, not yet confirmed');
    assert.equal(await d.drain(1_000), false, 'the second batch is not accepted yet');
    plain.writes[1]!.resolve();
    assert.equal(await d.drain(1_000), true, 'every batch accepted');
    assert.equal(await d.drain(10, 'confirmed'), false);
    out.confirmations[0]!.resolve();
    assert.equal(await recorded.settled, 'acked');
  });

  test('a batch whose confirmation is given up (output stopped) is released, after accepted()', async () => {
    const out = new ConfirmingOutput('o');
    const d = new Delivery([out], { maxEvents: 5, maxBytes: 1e6 }, new Metrics(), silentLogger());
    const batch = recordingBatch(events(2));
    await d.admit(batch, labels);
    await tick();
    out.confirmations[0]!.reject(new CollectorError(ErrorCodes.OUTPUT_STOPPED, 'stopped'));
    assert.equal(await batch.settled, 'released');
    assert.equal(await d.drain(1_000, 'confirmed'), true);
  });

  test('a batch awaiting confirmation no longer holds its events in memory', async () => {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const out = new ConfirmingOutput('o');
    const d = new Delivery([out], { maxEvents: 100, maxBytes: 1e6 }, new Metrics(), silentLogger());
    const outcome = { acked: false };
    // Made in a function of its own, so that nothing here holds the events.
    const admit = async (): Promise<WeakRef<object>> => {
      const held = events(3);
      await d.admit(
        {
          events: held,
          source: 'test',
          ack: async () => void (outcome.acked = true),
          release: async () => undefined,
        },
        labels,
      );
      return new WeakRef(held);
    };
    const ref = await admit();
    await tick();
    assert.equal(d.inFlight.unconfirmed, 1);
    gc();
    assert.equal(ref.deref(), undefined, 'the events were freed at acceptance');
    out.confirmations[0]!.resolve();
    await d.drain(1_000, 'confirmed');
    assert.equal(outcome.acked, true);
  });

  test('admissions wait while maxUnconfirmed batches await confirmation', async () => {
    const out = new ConfirmingOutput('o');
    const d = new Delivery(
      [out],
      { maxEvents: 100, maxBytes: 1e6, maxUnconfirmed: 2 },
      new Metrics(),
      silentLogger(),
    );
    await d.admit(recordingBatch(events(1)), labels);
    await d.admit(recordingBatch(events(1)), labels);
    await tick();
    let admitted = false;
    const third = d.admit(recordingBatch(events(1)), labels).then(() => (admitted = true));
    await tick();
    assert.equal(admitted, false, 'two batches await confirmation: the third waits');
    out.confirmations[0]!.resolve();
    await third;
    assert.equal(admitted, true);
  });

  test('a batch whose fence refuses it once it got room is released, not written, and leaves the window', async () => {
    const out = new ManualOutput('o');
    const d = new Delivery([out], { maxEvents: 1, maxBytes: 1e6 }, new Metrics(), silentLogger());
    await d.admit(recordingBatch(events(1)), labels);
    // Its lease was fine when it asked for room, and expired while it waited for it.
    let leaseHeld = true;
    const waiting = {
      ...recordingBatch(events(1)),
      fence: () => {
        if (!leaseHeld)
          throw new CollectorError(ErrorCodes.LEASE_LOST, 'task t: the lease is no longer held');
      },
    };
    const admitted = d.admit(waiting, labels);
    await tick();
    leaseHeld = false;
    out.writes[0]!.resolve();
    await assert.rejects(admitted, (e: unknown) => (e as CollectorError).code === ErrorCodes.LEASE_LOST);
    assert.equal(await waiting.settled, 'released');
    assert.equal(out.writes.length, 1, 'never written');
    assert.equal(await d.drain(1000), true, 'its room given back');
    await d.admit(recordingBatch(events(1)), labels);
    assert.equal(out.writes.length, 2);
  });

  test('close() rejects waiting admissions with SHUTTING_DOWN and releases their batches', async () => {
    const out = new ManualOutput('o');
    const d = new Delivery([out], { maxEvents: 1, maxBytes: 1e6 }, new Metrics(), silentLogger());
    await d.admit(recordingBatch(events(1)), labels);
    const waiting = recordingBatch(events(1));
    const admitted = d.admit(waiting, labels);
    d.close();
    await assert.rejects(admitted, (e: unknown) => (e as CollectorError).code === 'SHUTTING_DOWN');
    assert.equal(waiting.outcome, 'released');
    assert.equal(await d.drain(10), false, 'the first batch is still in flight');
    out.writes[0]!.resolve();
    assert.equal(await d.drain(1000), true);
  });
});
