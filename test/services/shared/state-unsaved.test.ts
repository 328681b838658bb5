import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startFakeAws, type FakeAws } from '../../../sandbox/fake-aws/index.js';
import { configureRateLimits } from '../../../src/aws/rate-limiter.js';
import { logsSchema } from '../../../src/config/schema.js';
import { CollectorError, ErrorCodes } from '../../../src/errors.js';
import { LogsWorker } from '../../../src/services/cloudwatch-logs/index.js';
import type { TimeCheckpoint } from '../../../src/services/shared/time-cursor.js';
import { stateKey } from '../../../src/state/store.js';
import { runScheduled, SimClock } from '../../helpers/clock.js';
import { capturingLogger, createHarness } from '../../helpers/harness.js';

const MINUTE = 60_000;
const REGION = 'eu-west-1';

describe('a pull service whose state folder becomes unwritable', () => {
  let fake: FakeAws;
  before(async () => {
    configureRateLimits({ enabled: false });
    fake = await startFakeAws();
  });
  after(async () => {
    configureRateLimits({ enabled: true });
    await fake.stop();
  });

  test('pulls on from the delivered position: every event once, the condition on a gauge, warned once a minute, saved again once writable', async () => {
    const { logger, lines } = capturingLogger();
    const h = createHarness({ endpoint: fake.endpoint, logger });
    try {
      const t0 = Date.now() - 3_600_000;
      const clock = new SimClock(t0);
      fake.logs.createLogGroup(REGION, '/app');
      // 1,000 events over the 5 minutes after the first pull.
      const events = Array.from({ length: 1000 }, (_, i) => ({
        timestamp: t0 + 1 + i * 300,
        message: `e${i}`,
      }));
      fake.logs.putEvents(REGION, '/app', 's', events);
      const cfg = logsSchema.parse({
        regions: [REGION],
        types: ['logs'],
        log_group: '/app',
        request_period_in_seconds: 5,
        settle_delay_seconds: 60,
      });
      const worker = new LogsWorker(cfg, h.context('cwl_1', REGION, { clock }));
      const labels = { service: 'cwl_1' };
      // The first pull saves the start (no window has closed yet).
      await worker.pull();
      const key = stateKey('test', 'cwl_1', REGION, '/app');
      const first = await h.state.get<TimeCheckpoint>(key);
      assert.ok(first, 'the start was saved');

      // The state folder becomes read-only (as root, chmod would not stop the test): saves fail, reads work.
      const set = h.state.set.bind(h.state);
      h.state.set = () =>
        Promise.reject(
          new CollectorError(
            ErrorCodes.STATE_WRITE_FAILED,
            `cannot save state file in ${h.stateDir}: EACCES`,
          ),
        );
      await runScheduled(worker, clock, 5_000, t0 + 10 * MINUTE, h.metrics);

      const messages = h.output.events.map((e) => (JSON.parse(e.message) as { message: string }).message);
      assert.equal(messages.length, 1000, 'no event twice');
      assert.equal(new Set(messages).size, 1000, 'every event');
      assert.equal(await h.metrics.total('collector_state_unsaved', labels), 1);
      assert.ok(worker.position().stateUnsavedSince !== undefined);
      const warnings = lines().filter((l) => l.event === 'state_unsaved');
      assert.ok(warnings.length >= 2 && warnings.length <= 11, `${warnings.length} warnings in 10 minutes`);
      assert.ok(warnings.every((w) => w.code === ErrorCodes.STATE_WRITE_FAILED));

      // Writable again: the next pull saves the position delivery got to.
      h.state.set = set;
      await worker.pull();
      assert.equal(await h.metrics.total('collector_state_unsaved', labels), 0);
      assert.equal(worker.position().stateUnsavedSince, undefined);
      const saved = await h.state.get<TimeCheckpoint>(key);
      assert.ok(saved && saved.from > events.at(-1)!.timestamp, 'the delivered position was saved');
      assert.equal(lines().filter((l) => l.event === 'state_saved_again').length, 1);
    } finally {
      await h.close();
    }
  });
});
