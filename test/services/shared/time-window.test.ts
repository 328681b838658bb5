import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startFakeAws, type FakeAws } from '../../../sandbox/fake-aws/index.js';
import { logsSchema, predefinedServiceSchemas } from '../../../src/config/schema.js';
import { MetricsWorker } from '../../../src/services/metrics/index.js';
import { LogsWorker } from '../../../src/services/cloudwatch-logs/index.js';
import type { TimeCheckpoint } from '../../../src/services/shared/time-cursor.js';
import { stateKey } from '../../../src/state/store.js';
import { SimClock } from '../../helpers/clock.js';
import { capturingLogger, createHarness } from '../../helpers/harness.js';

const REGION = 'eu-west-1';

describe('WindowCursor: the first start', () => {
  let fake: FakeAws;
  before(async () => {
    fake = await startFakeAws();
    fake.logs.createLogGroup(REGION, '/app');
  });
  after(async () => {
    await fake.stop();
  });

  test('without start_time: the first pull is the start, saved at once, kept across a restart, and announced', async () => {
    const { logger, lines } = capturingLogger();
    const h = createHarness({ endpoint: fake.endpoint, logger });
    try {
      const t0 = Date.parse('2026-01-01T10:00:00.750Z');
      const clock = new SimClock(t0);
      const cfg = logsSchema.parse({ regions: [REGION], types: ['logs'], log_group: '/app' });
      await new LogsWorker(cfg, h.context('cwl_1', REGION, { clock })).pull();
      const key = stateKey('test', 'cwl_1', REGION, '/app');
      assert.deepEqual(await h.state.get<TimeCheckpoint>(key), {
        from: Date.parse('2026-01-01T10:00:00Z'),
        seen: [],
      });

      // A restart before the first window closed: the start does not slide.
      clock.time += 45_000;
      await new LogsWorker(cfg, h.context('cwl_1', REGION, { clock })).pull();
      assert.deepEqual(await h.state.get<TimeCheckpoint>(key), {
        from: Date.parse('2026-01-01T10:00:00Z'),
        seen: [],
      });

      const starts = lines().filter((l) => l.event === 'window_start');
      assert.deepEqual(
        starts.map((l) => [l.worker, l.origin, l.from, l.firstWindowCloses]),
        [
          ['cwl_1/eu-west-1', 'first_pull', '2026-01-01T10:00:00.000Z', '2026-01-01T10:01:00.001Z'],
          ['cwl_1/eu-west-1', 'checkpoint', '2026-01-01T10:00:00.000Z', '2026-01-01T10:01:00.001Z'],
        ],
      );
    } finally {
      await h.close();
    }
  });

  test('metrics: from the first whole period at or after start_time; the first window closes one period plus delay_seconds later', async () => {
    const { logger, lines } = capturingLogger();
    const h = createHarness({ endpoint: fake.endpoint, logger });
    try {
      const clock = new SimClock(Date.parse('2026-01-01T10:00:00Z'));
      const cfg = predefinedServiceSchemas['metrics-all'].parse({
        regions: [REGION],
        start_time: '2026-01-01T10:00:10Z',
      });
      await new MetricsWorker(cfg, h.context('metrics-all', REGION, { clock })).pull();
      const start = lines().find((l) => l.event === 'window_start');
      assert.equal(start?.origin, 'start_time');
      assert.equal(start?.from, '2026-01-01T10:01:00.000Z');
      // delay_seconds 300 by default, period 60 s.
      assert.equal(start?.firstWindowCloses, '2026-01-01T10:07:00.000Z');
    } finally {
      await h.close();
    }
  });
});
