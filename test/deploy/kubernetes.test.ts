import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { parseAllDocuments } from 'yaml';
import { parseConfigText } from '../../src/config/loader.js';
import type { CollectorConfig } from '../../src/config/schema.js';
import { CLOSE_TIMEOUT_MS } from '../../src/outputs/stream-output.js';
import { CONFIRM_DRAIN_TIMEOUT_MS, WORKER_STOP_TIMEOUT_MS } from '../../src/runtime/collector.js';
import { definitionFor } from '../../src/services/registry.js';
import { LEASE_COMMAND_TIMEOUT_MS } from '../../src/state/redis-store.js';
import { STATUS_PATHS } from '../../src/telemetry/status-server.js';
import { createHarness } from '../helpers/harness.js';
import { repoRoot } from '../helpers/paths.js';

interface Probe {
  httpGet?: { path: string; port: string | number };
  tcpSocket?: { port: string | number };
  exec?: { command: string[] };
}
interface Container {
  name: string;
  ports?: { name?: string; containerPort: number }[];
  livenessProbe?: Probe;
  readinessProbe?: Probe;
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  securityContext?: Record<string, unknown>;
}
interface PodSpec {
  terminationGracePeriodSeconds?: number;
  securityContext?: Record<string, unknown>;
  containers: Container[];
}
interface Manifest {
  kind: string;
  metadata: { name: string };
  spec?: { replicas?: number; template?: { spec: PodSpec }; ports?: { port: number; targetPort: string }[] };
  data?: Record<string, string>;
}

const dir = join(repoRoot, 'deploy/kubernetes');
const manifests: Manifest[] = readdirSync(dir)
  .filter((f) => f.endsWith('.yaml'))
  .flatMap((f) =>
    parseAllDocuments(readFileSync(join(dir, f), 'utf8')).map((doc) => {
      assert.deepEqual(doc.errors, [], `${f} parses`);
      return doc.toJS() as Manifest;
    }),
  );
const byKind = (kind: string): Manifest[] => manifests.filter((m) => m.kind === kind);

/** The ConfigMap's configuration, with the environment the Deployment gives it. */
function configuration(): ReturnType<typeof parseConfigText> {
  const [configMap] = byKind('ConfigMap');
  return parseConfigText(configMap!.data!['collector.yaml']!, {
    env: { POD_IP: '10.0.0.7', REDIS_PASSWORD: 'p', AWS_ACCESS_KEY_ID: 'AKIAX', AWS_SECRET_ACCESS_KEY: 's' },
  });
}

/** The pull tasks of `config`, which its replicas lease: the workers its services create with a `task`. */
async function pullTasks(config: CollectorConfig): Promise<number> {
  const h = createHarness({ endpoint: 'http://127.0.0.1:9' });
  let tasks = 0;
  for (const [name, service] of Object.entries(config.inputs.aws.services)) {
    if (!service) continue;
    for (const region of service.regions)
      for (const worker of definitionFor(name, service).createWorkers(
        service as never,
        h.context(name, region),
      ))
        if (worker.task) tasks++;
  }
  await h.close();
  return tasks;
}

/**
 * The longest a replica's shutdown (Collector.shutdown) can take, in seconds: what is in flight is
 * delivered within shutdown_grace_seconds; the outputs close gracefully (a stream connection waits
 * up to CLOSE_TIMEOUT_MS for its receiver to close); the confirmation drain; the workers' stop (SQS
 * releases). Then the leases, with Redis hung so that every command times out: the round under way
 * (a beat, a renewal per held task, a failed acquisition) and a release per held task and the leave.
 * A replica holds every pull task when the others are gone.
 */
async function shutdownBudgetSeconds(config: CollectorConfig): Promise<number> {
  const tasks = await pullTasks(config);
  assert.ok(tasks > 0, 'the ConfigMap has pull tasks to lease');
  const leaseCommands = 1 + tasks + 1 + tasks + 1;
  const ms =
    config.globals.shutdown_grace_seconds * 1000 +
    CLOSE_TIMEOUT_MS +
    CONFIRM_DRAIN_TIMEOUT_MS +
    WORKER_STOP_TIMEOUT_MS +
    leaseCommands * LEASE_COMMAND_TIMEOUT_MS;
  return ms / 1000;
}

test('the ConfigMap holds a valid configuration that serves the status server on the pod IP', () => {
  const { config, problems } = configuration();
  assert.deepEqual(problems, []);
  assert.equal(config!.globals.status_address, '10.0.0.7');
  assert.equal(config!.globals.persistence.type, 'redis');
});

test('every container has probes, resources and a non-root, read-only security context; the collector’s match the status server', async () => {
  const { config } = configuration();
  const statusPort = config!.globals.status_port!;
  const workloads = [...byKind('Deployment'), ...byKind('StatefulSet')];
  assert.deepEqual(workloads.map((w) => w.metadata.name).sort(), [
    'devo-aws-collector',
    'devo-aws-collector-redis',
  ]);
  for (const w of workloads) {
    const pod = w.spec!.template!.spec;
    assert.equal(pod.securityContext?.runAsNonRoot, true, `${w.metadata.name}: pod runs as non-root`);
    for (const c of pod.containers) {
      const where = `${w.metadata.name}/${c.name}`;
      assert.ok(c.livenessProbe && c.readinessProbe, `${where}: probes`);
      assert.ok(c.resources?.requests?.cpu && c.resources.requests.memory, `${where}: requests`);
      assert.ok(c.resources.limits?.memory, `${where}: memory limit`);
      assert.equal(c.securityContext?.runAsNonRoot, true, `${where}: non-root`);
      assert.equal(c.securityContext?.readOnlyRootFilesystem, true, `${where}: read-only root`);
      assert.equal(c.securityContext?.allowPrivilegeEscalation, false, `${where}: no privilege escalation`);
    }
  }

  const [deployment] = byKind('Deployment');
  assert.equal(deployment!.spec!.replicas, 3);
  const pod = deployment!.spec!.template!.spec;
  const collector = pod.containers[0]!;
  const port = collector.ports!.find((p) => p.containerPort === statusPort);
  assert.ok(port?.name, `the container declares status_port ${statusPort}`);
  assert.deepEqual(collector.livenessProbe!.httpGet, { path: STATUS_PATHS.live, port: port.name });
  assert.deepEqual(collector.readinessProbe!.httpGet, { path: STATUS_PATHS.ready, port: port.name });
  // The pod is killed only after the collector's own shutdown could finish, with 10 s to spare.
  const budget = await shutdownBudgetSeconds(config!);
  assert.ok(
    pod.terminationGracePeriodSeconds! >= budget + 10,
    `terminationGracePeriodSeconds ${pod.terminationGracePeriodSeconds} < shutdown budget ${budget} s + 10 s`,
  );

  const [service] = byKind('Service').filter((s) => s.metadata.name === 'devo-aws-collector-metrics');
  assert.deepEqual(
    service!.spec!.ports!.map((p) => [p.port, p.targetPort]),
    [[statusPort, port.name]],
  );
  assert.equal(byKind('PodDisruptionBudget').length, 1);
  assert.equal(byKind('Secret').length, 1);
});
