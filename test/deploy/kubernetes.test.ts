import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { parseAllDocuments } from 'yaml';
import { parseConfigText } from '../../src/config/loader.js';
import { STATUS_PATHS } from '../../src/telemetry/status-server.js';
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

test('the ConfigMap holds a valid configuration that serves the status server on the pod IP', () => {
  const { config, problems } = configuration();
  assert.deepEqual(problems, []);
  assert.equal(config!.globals.status_address, '10.0.0.7');
  assert.equal(config!.globals.persistence.type, 'redis');
});

test('every container has probes, resources and a non-root, read-only security context; the collector’s match the status server', () => {
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
  // The pod is killed only after the collector's own shutdown could finish (grace + 5 s of closing).
  assert.ok(pod.terminationGracePeriodSeconds! > config!.globals.shutdown_grace_seconds + 5);

  const [service] = byKind('Service').filter((s) => s.metadata.name === 'devo-aws-collector-metrics');
  assert.deepEqual(
    service!.spec!.ports!.map((p) => [p.port, p.targetPort]),
    [[statusPort, port.name]],
  );
  assert.equal(byKind('PodDisruptionBudget').length, 1);
  assert.equal(byKind('Secret').length, 1);
});
