import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createCa, createTestPki, issueCertificate, type TestPki } from '../../sandbox/certs.js';
import { isCollectorError } from '../../src/core/errors.js';
import { definition } from '../../src/outputs/devo-platform/index.js';
import { loadTlsMaterial } from '../../src/outputs/tls-material.js';
import { Secrets } from '../../src/telemetry/secrets.js';
import { tempDir, testContext } from './helpers.js';

let pki: TestPki;
let dir: string;
let removeDir: () => Promise<void>;
const place = () => ({ configDir: dir, configKey: 'outputs.devo.config' });
const DAY = 24 * 3600 * 1000;

before(async () => {
  pki = await createTestPki();
  ({ dir, remove: removeDir } = await tempDir());
  const expired = await issueCertificate(pki.ca, {
    usage: 'client',
    notBefore: new Date(Date.now() - 30 * DAY),
    notAfter: new Date(Date.now() - DAY),
  });
  const future = await issueCertificate(pki.ca, { usage: 'client', notBefore: new Date(Date.now() + DAY) });
  const other = await issueCertificate(await createCa(), { usage: 'client' });
  await mkdir(join(dir, 'certs'));
  await Promise.all([
    writeFile(join(dir, 'certs', 'chain.crt'), pki.ca.cert),
    writeFile(join(dir, 'client.crt'), pki.client.cert),
    writeFile(join(dir, 'client.key'), pki.client.key),
    writeFile(join(dir, 'expired.crt'), expired.cert),
    writeFile(join(dir, 'future.crt'), future.cert),
    writeFile(join(dir, 'other.key'), other.key),
    writeFile(join(dir, 'garbage.crt'), 'not a certificate\n'),
    writeFile(join(dir, 'garbage.key'), 'not a key\n'),
    writeFile(join(dir, 'broken.crt'), '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n'),
  ]);
});

after(async () => {
  await removeDir();
});

async function rejectsNaming(
  files: Parameters<typeof loadTlsMaterial>[0],
  file: string,
  problem: RegExp,
): Promise<void> {
  await assert.rejects(loadTlsMaterial(files, place(), new Secrets()), (err: unknown) => {
    assert.ok(isCollectorError(err, 'TLS_MATERIAL'), String(err));
    assert.ok(err.message.includes(join(dir, file)), `${err.message} names ${file}`);
    assert.match(err.message, problem);
    assert.ok(!err.message.includes('PRIVATE KEY'), 'no key material in the message');
    return true;
  });
}

describe('TLS material', () => {
  test('loads chain (from certs/ beside the configuration), cert and key', async () => {
    const secrets = new Secrets();
    const m = await loadTlsMaterial(
      { ca: 'chain.crt', cert: 'client.crt', key: 'client.key' },
      place(),
      secrets,
    );
    assert.equal(m.ca?.toString(), pki.ca.cert);
    assert.equal(m.cert?.toString(), pki.client.cert);
    assert.ok(m.certValidTo && m.certValidTo.getTime() > Date.now());
    assert.match(m.certSubject ?? '', /CN=test-domain/);
    // The key is registered as a secret: scrubbed wherever it would be logged.
    assert.equal(secrets.scrub(`key: ${pki.client.key}`), 'key: [REDACTED]');
  });

  test('a missing file is named, with where else it was looked for', async () => {
    await rejectsNaming(
      { cert: 'missing.crt' },
      'missing.crt',
      /cannot be read \(also looked in .*certs\); set by outputs\.devo\.config\.cert: ENOENT/,
    );
  });

  test('an unreadable file (here a folder) is named', async () => {
    await mkdir(join(dir, 'folder.key'));
    await rejectsNaming({ key: 'folder.key' }, 'folder.key', /cannot be read.*EISDIR/);
  });

  test('not PEM', async () => {
    await rejectsNaming({ cert: 'garbage.crt' }, 'garbage.crt', /holds no PEM certificate/);
    await rejectsNaming(
      { ca: 'broken.crt' },
      'broken.crt',
      /certificate #1 is not a valid X\.509 certificate/,
    );
    await rejectsNaming({ key: 'garbage.key' }, 'garbage.key', /is not an unencrypted PEM private key/);
  });

  test('expired and not yet valid certificates', async () => {
    await rejectsNaming({ cert: 'expired.crt' }, 'expired.crt', /expired on/);
    await rejectsNaming({ cert: 'future.crt' }, 'future.crt', /is not valid before/);
  });

  test('a key that does not match the certificate names both files', async () => {
    await rejectsNaming(
      { cert: 'client.crt', key: 'other.key' },
      'other.key',
      /does not match the certificate .*client\.crt/,
    );
  });

  test('devo_platform start() fails with TLS_MATERIAL naming the file', async () => {
    const config = definition.schema.parse({
      address: '127.0.0.1',
      chain: 'chain.crt',
      cert: 'expired.crt',
      key: 'client.key',
    });
    const { ctx } = testContext('devo', dir);
    const output = definition.create(config, ctx);
    await assert.rejects(output.start(), (err: unknown) => {
      assert.ok(isCollectorError(err, 'TLS_MATERIAL'));
      assert.ok(err.message.includes(join(dir, 'expired.crt')));
      return true;
    });
    await output.stop();
  });
});
