import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { startFakeAws, type FakeAws } from '../../sandbox/fake-aws/index.js';
import { runCli } from '../helpers/cli.js';
import { repoRoot, tempDir } from '../helpers/paths.js';
import { waitUntil } from '../helpers/wait.js';

/**
 * Each pull service configured with only its required keys (as the reference shows them), run as
 * the CLI against the fake AWS. Its defaults put the first events minutes after the start, so the
 * child runs on a fast clock (test/helpers/fast-clock.mjs, loaded with --import: nothing in the
 * product knows about it): 100 s of its time pass each real second.
 */

const SPEED = 100;
const REGION = 'eu-west-1';
const METRIC = {
  Namespace: 'Custom/App',
  MetricName: 'Requests',
  Dimensions: [{ Name: 'Host', Value: 'a' }],
};

interface Case {
  name: string;
  /** The service block: only its required keys. */
  yaml: string;
  prepare?(fake: FakeAws): void;
  /** Writes one event stamped at each of `times` (the child's epoch ms); returns their ids. */
  seed(fake: FakeAws, times: number[]): string[];
  idOf(message: string): string;
}

const cases: Case[] = [
  {
    name: 'audit-events-all (audits_api)',
    yaml: `      audit-events-all:\n        regions: [${REGION}]`,
    seed: (fake, times) =>
      fake.cloudtrail.addEvents(
        REGION,
        times.map((t) => ({ eventName: 'CreateUser', eventSource: 'iam.amazonaws.com', eventTime: t })),
      ),
    idOf: (m) => (JSON.parse(m) as { eventID: string }).eventID,
  },
  {
    name: 'CloudWatch Logs (types: [logs])',
    yaml: `      cwl_1:\n        types: [logs]\n        log_group: /app\n        regions: [${REGION}]`,
    prepare: (fake) => fake.logs.createLogGroup(REGION, '/app'),
    seed: (fake, times) => {
      const ids = times.map((t) => `event at ${t}`);
      fake.logs.putEvents(
        REGION,
        '/app',
        's',
        times.map((t, i) => ({ timestamp: t, message: ids[i]! })),
      );
      return ids;
    },
    idOf: (m) => (JSON.parse(m) as { message: string }).message,
  },
  {
    name: 'metrics-all',
    yaml: `      metrics-all:\n        regions: [${REGION}]`,
    seed: (fake, times) => {
      fake.cloudwatch.addDatapoints(
        REGION,
        METRIC,
        times.map((t) => ({ timestamp: t, value: 1 })),
      );
      // Datapoints are stamped with the start of their (default 60 s) period.
      return times.map((t) => new Date(Math.floor(t / 60_000) * 60_000).toISOString());
    },
    idOf: (m) => (JSON.parse(m) as { timestamp: string }).timestamp,
  },
];

describe('pull services with only their required keys, as the CLI, on a fast clock', () => {
  let fake: FakeAws;
  before(async () => {
    fake = await startFakeAws();
  });
  after(async () => {
    await fake.stop();
  });

  for (const c of cases)
    test(`${c.name}: events written after the start are delivered`, async () => {
      const tmp = tempDir('dac-e2e-pull-');
      const file = join(tmp.dir, 'collector.yaml');
      writeFileSync(
        file,
        `outputs:\n  out:\n    type: console\ninputs:\n  aws:\n    id: e2e\n    services:\n${c.yaml}\n`,
      );
      c.prepare?.(fake);
      // The child's clock starts an hour back: the fake's retention checks use the real time.
      const epoch = Date.now();
      const origin = epoch - 3_600_000;
      const childNow = () => origin + (Date.now() - epoch) * SPEED;
      const run = runCli(['run', '--config', file], {
        cwd: tmp.dir,
        env: {
          NODE_OPTIONS: `--import ${pathToFileURL(join(repoRoot, 'test/helpers/fast-clock.mjs')).href}`,
          DAC_TEST_CLOCK: `${origin},${epoch},${SPEED}`,
          AWS_ENDPOINT_URL: fake.endpoint,
          AWS_ACCESS_KEY_ID: 'AKIATESTTESTTEST',
          AWS_SECRET_ACCESS_KEY: 'test-secret-key-0000',
        },
      });
      try {
        await run.waitForLog('"event":"window_start"');
        const start = run
          .stderr()
          .split('\n')
          .filter((l) => l.includes('"event":"window_start"'))
          .map((l) => JSON.parse(l) as { from: string; firstWindowCloses: string })[0]!;
        const from = Date.parse(start.from);
        // Written after the start, stamped from a little after it to a few minutes later.
        const now = childNow();
        const ids = c.seed(fake, [now + 61_000, now + 3 * 60_000]);
        const earlier = c.seed(fake, [from - 10 * 60_000]);
        const delivered = () =>
          run
            .stdout()
            .split('\n')
            .slice(0, -1) // the last line may be partial
            .map((l) => c.idOf((JSON.parse(l) as { message: string }).message));
        await waitUntil(() => ids.every((id) => delivered().includes(id)), 60_000, `${c.name} events`);
        assert.deepEqual(
          delivered().filter((id) => earlier.includes(id)),
          [],
          'nothing stamped before the start',
        );
        assert.equal(new Set(delivered()).size, delivered().length, 'each once');
      } finally {
        run.child.kill('SIGTERM');
        await run.exited;
        tmp.cleanup();
      }
    });
});
