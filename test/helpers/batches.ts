import type { Batch, CollectorEvent } from '../../src/core/batch.js';

/** A batch that records how it ended. */
export interface RecordingBatch extends Batch {
  outcome: 'pending' | 'acked' | 'released';
  settled: Promise<'acked' | 'released'>;
}

export function recordingBatch(events: CollectorEvent[], source = 'test'): RecordingBatch {
  let settle!: (o: 'acked' | 'released') => void;
  const batch: RecordingBatch = {
    events,
    source,
    outcome: 'pending',
    settled: new Promise((r) => (settle = r)),
    async ack() {
      batch.outcome = 'acked';
      settle('acked');
    },
    async release() {
      batch.outcome = 'released';
      settle('released');
    },
  };
  return batch;
}

export function events(n: number, tag = 'my.app.test.events', prefix = 'e'): CollectorEvent[] {
  return Array.from({ length: n }, (_, i) => ({ tag, message: `${prefix}${i}` }));
}
