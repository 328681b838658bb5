import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The configuration replicas share in the scale-out tests and benchmark: a redis-server on
 * 127.0.0.1 (password from $REDIS_PASSWORD), the fake AWS, events printed on stdout.
 */
export interface ReplicaSetup {
  dir: string;
  /** The fake AWS's endpoint. */
  endpoint: string;
  redisPort: number;
  keyPrefix: string;
  /** Default: the collector's. */
  leaseTtlSeconds?: number;
  /** The blocks of `inputs.aws.services`, indented by 6. */
  services: string;
}

/** Writes the one configuration every replica runs; returns its path. */
export function writeReplicaConfig(s: ReplicaSetup): string {
  const file = join(s.dir, 'collector.yaml');
  writeFileSync(
    file,
    `globals:
  shutdown_grace_seconds: 5
  persistence:
    type: redis
    config: { host: 127.0.0.1, port: ${s.redisPort}, password: "\${REDIS_PASSWORD}", key_prefix: '${s.keyPrefix}'${s.leaseTtlSeconds ? `, lease_ttl_seconds: ${s.leaseTtlSeconds}` : ''} }
outputs:
  out: { type: console }
inputs:
  aws:
    id: replicas
    endpoint: ${s.endpoint}
    credentials: { access_key: AKIAE2ETESTKEY, access_secret: e2e-secret-value-44 }
    services:
${s.services}
`,
  );
  return file;
}
