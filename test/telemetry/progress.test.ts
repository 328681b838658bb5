import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ProgressReporter } from '../../src/telemetry/progress.js';
import { capturingLogger } from '../helpers/harness.js';

const HOUR = 3_600_000;

describe('ProgressReporter', () => {
  test('logs the window reached, events and time left, at most once every everyMs', () => {
    let now = 0;
    const { logger, lines } = capturingLogger();
    const from = Date.UTC(2026, 0, 1);
    const progress = new ProgressReporter({
      logger,
      what: 'CloudTrail backfill in eu-west-1',
      fields: { worker: 'audit-events-all:audits_api/eu-west-1' },
      from,
      to: from + 100 * HOUR,
      everyMs: 5_000,
      clock: () => now,
    });
    now = 4_999;
    progress.update(10 * HOUR, from + 10 * HOUR, 100);
    assert.equal(lines().length, 0, 'nothing before everyMs');
    now = 5_000;
    progress.update(25 * HOUR, from + 25 * HOUR, 250);
    now = 6_000;
    progress.update(30 * HOUR, from + 30 * HOUR, 300);
    assert.equal(lines().length, 1, 'at most once every everyMs');
    now = 10_000;
    progress.update(50 * HOUR, from + 50 * HOUR, 500);
    const [first, second] = lines();
    assert.deepEqual(
      [first!.worker, first!.percent, first!.position, first!.events, first!.etaSeconds],
      ['audit-events-all:audits_api/eu-west-1', 25, new Date(from + 25 * HOUR).toISOString(), 250, 15],
    );
    // Half done in 10 s: about 10 s left.
    assert.deepEqual([second!.percent, second!.etaSeconds], [50, 10]);
  });
});
