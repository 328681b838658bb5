import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { Sandbox, stopChild } from '../../sandbox/demo/environment.js';
import { tempDir } from '../helpers/paths.js';

const KILLS = 6;
const MAX_IN_FLIGHT_EVENTS = 2_000;

test('SIGKILL at random moments, restart each time: every event arrives at least once, every SQS message is deleted', async (t) => {
  const tmp = tempDir('dac-crash-');
  const sandbox = await Sandbox.start({
    workDir: tmp.dir,
    scale: 12,
    // Short visibility so messages held by a killed process come back quickly.
    visibilityTimeoutSeconds: 10,
    globals: { max_in_flight_events: MAX_IN_FLIGHT_EVENTS },
  });
  try {
    const produced = [...sandbox.expected.values()].reduce((n, s) => n + s.size, 0);
    const delays: number[] = [];
    for (let kill = 0; kill < KILLS; kill++) {
      const logBefore = readFileSync(sandbox.logFile, { encoding: 'utf8', flag: 'a+' }).length;
      const child = sandbox.startCollector();
      // Once it runs (workers started), at a random moment while it pulls and delivers.
      while (
        !readFileSync(sandbox.logFile, 'utf8').slice(logBefore).includes('"event":"collector_started"')
      ) {
        assert.equal(child.exitCode, null, 'the collector exited early');
        await new Promise((r) => setTimeout(r, 20));
      }
      const delay = Math.floor(Math.random() * 2_000);
      delays.push(delay);
      await new Promise((r) => setTimeout(r, delay));
      const how = await stopChild(child, 'SIGKILL');
      assert.equal(how, 'SIGKILL', 'the collector was still running when killed');
    }
    const receivedBeforeLastRun = sandbox.report().reduce((n, r) => n + r.received, 0);
    t.diagnostic(
      `killed ${KILLS} times, ${delays.join(', ')} ms after start-up; ${receivedBeforeLastRun}/${produced} distinct events had arrived`,
    );

    const child = sandbox.startCollector();
    const complete = await sandbox.waitComplete(90_000, () => child.exitCode !== null);
    const deadline = Date.now() + 15_000;
    while (sandbox.queuedMessages() > 0 && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 100));
    assert.equal(await stopChild(child, 'SIGTERM'), 0, 'the last run stops cleanly');

    const rows = sandbox.report();
    for (const r of rows)
      t.diagnostic(`${r.tag}: produced ${r.produced}, received ${r.received}, duplicates ${r.duplicates}`);
    assert.ok(complete, 'every produced event was received');
    assert.deepEqual(
      rows.filter((r) => r.missing > 0),
      [],
    );
    assert.equal(sandbox.queuedMessages(), 0, 'every SQS message was deleted');
    assert.equal(sandbox.unexpected, 0, 'nothing was received that the sandbox did not produce');
    // Each kill can repeat at most what its source had not acknowledged: what was in flight, and
    // what the receiver had not yet confirmed (acknowledgement waits until the bytes leave the
    // resend window, or an idle connection's receiver closes it: a run killed within its first
    // two seconds may have had nothing confirmed). So at most everything once per kill; more
    // would mean a redelivery loop.
    const duplicates = rows.reduce((n, r) => n + r.duplicates, 0);
    const bound = KILLS * produced;
    t.diagnostic(`duplicates: ${duplicates} (bound ${bound})`);
    assert.ok(duplicates <= bound, `duplicates ${duplicates} exceed ${bound}`);
  } finally {
    await sandbox.stop();
    tmp.cleanup();
  }
});
