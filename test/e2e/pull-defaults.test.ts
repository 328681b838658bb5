import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { startFakeAws, type FakeAws } from '../../sandbox/fake-aws/index.js';
import { runCli } from '../helpers/cli.js';
import { repoRoot, tempDir } from '../helpers/paths.js';
import { waitUntil } from '../helpers/wait.js';
import { cloudTrailSource, logsSource, metricsSource, type PullSource } from '../helpers/pull-sources.js';

/**
 * Each pull service configured with only its required keys (as the reference shows them), run as
 * the CLI against the fake AWS. Its defaults put the first events minutes after the start, so the
 * child runs on a fast clock (test/helpers/fast-clock.mjs, loaded with --import: nothing in the
 * product knows about it): 100 s of its time pass each real second.
 */

const SPEED = 100;
const REGION = 'eu-west-1';
interface Case {
  name: string;
  /** The service block: only its required keys. */
  yaml: string;
  source: PullSource;
}

const cases: Case[] = [
  {
    name: 'audit-events-all (audits_api)',
    yaml: `      audit-events-all:\n        regions: [${REGION}]`,
    source: cloudTrailSource,
  },
  {
    name: 'CloudWatch Logs (types: [logs])',
    yaml: `      cwl_1:\n        types: [logs]\n        log_group: /app\n        regions: [${REGION}]`,
    source: logsSource,
  },
  {
    name: 'metrics-all',
    yaml: `      metrics-all:\n        regions: [${REGION}]`,
    source: metricsSource,
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
      c.source.prepare(fake, REGION);
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
        const ids = c.source.seed(fake, REGION, [now + 61_000, now + 3 * 60_000]);
        const earlier = c.source.seed(fake, REGION, [from - 10 * 60_000]);
        const delivered = () =>
          run
            .stdout()
            .split('\n')
            .slice(0, -1) // the last line may be partial
            .map((l) => c.source.idOf((JSON.parse(l) as { message: string }).message));
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
