import { webcrypto } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import { join } from 'node:path';
import * as x509 from '@peculiar/x509';

/**
 * Test certificates for TLS with client authentication: a CA, a server certificate for
 * 127.0.0.1/localhost and a client certificate, all ECDSA P-256, made in-process with
 * @peculiar/x509 (no openssl binary needed). For tests and the demo, never for production.
 */

x509.cryptoProvider.set(webcrypto);

const KEY_ALGORITHM = { name: 'ECDSA', namedCurve: 'P-256' } as const;
const SIGNING_ALGORITHM = { ...KEY_ALGORITHM, hash: 'SHA-256' } as const;
const DAY_MS = 24 * 3600 * 1000;

/** A certificate and its private key, both PEM. */
export interface CertAndKey {
  cert: string;
  key: string;
}

export interface CertificateOptions {
  commonName?: string;
  /** Default: an hour ago (tolerates clock skew). */
  notBefore?: Date;
  /** Default: a year after notBefore. */
  notAfter?: Date;
}

export interface LeafOptions extends CertificateOptions {
  usage: 'server' | 'client';
  /** Subject alternative names: host names and IP addresses. */
  hosts?: string[];
}

export interface TestPki {
  ca: CertAndKey;
  server: CertAndKey;
  client: CertAndKey;
}

/** Where writeTestPki put the files (Devo's names for the client side: chain, cert, key). */
export interface TestPkiFiles {
  chain: string;
  cert: string;
  key: string;
  serverCert: string;
  serverKey: string;
}

/** A self-signed certificate authority. */
export async function createCa(options: CertificateOptions = {}): Promise<CertAndKey> {
  const keys = await newKeys();
  const name = subject(options.commonName ?? 'devo-aws-collector test CA');
  const cert = await x509.X509CertificateGenerator.create({
    ...validity(options),
    subject: name,
    issuer: name,
    publicKey: keys.publicKey,
    signingKey: keys.privateKey,
    signingAlgorithm: SIGNING_ALGORITHM,
    extensions: [
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return { cert: cert.toString('pem'), key: await exportKey(keys.privateKey) };
}

/** A server or client certificate signed by `ca`. */
export async function issueCertificate(ca: CertAndKey, options: LeafOptions): Promise<CertAndKey> {
  const keys = await newKeys();
  const caCert = new x509.X509Certificate(ca.cert);
  const caKey = await webcrypto.subtle.importKey('pkcs8', pemBody(ca.key), KEY_ALGORITHM, false, ['sign']);
  const extensions: x509.Extension[] = [
    new x509.BasicConstraintsExtension(false, undefined, true),
    new x509.KeyUsagesExtension(
      x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment,
      true,
    ),
    new x509.ExtendedKeyUsageExtension([
      options.usage === 'server' ? x509.ExtendedKeyUsage.serverAuth : x509.ExtendedKeyUsage.clientAuth,
    ]),
    await x509.AuthorityKeyIdentifierExtension.create(caCert),
  ];
  if (options.hosts?.length) {
    extensions.push(
      new x509.SubjectAlternativeNameExtension(
        options.hosts.map((host) => ({ type: isIP(host) ? ('ip' as const) : ('dns' as const), value: host })),
      ),
    );
  }
  const cert = await x509.X509CertificateGenerator.create({
    ...validity(options),
    subject: subject(options.commonName ?? options.hosts?.[0] ?? `test ${options.usage}`),
    issuer: caCert.subject,
    publicKey: keys.publicKey,
    signingKey: caKey,
    signingAlgorithm: SIGNING_ALGORITHM,
    extensions,
  });
  return { cert: cert.toString('pem'), key: await exportKey(keys.privateKey) };
}

/** A CA with a server certificate for `hosts` (default 127.0.0.1 and localhost) and a client certificate. */
export async function createTestPki(options: { hosts?: string[] } = {}): Promise<TestPki> {
  const ca = await createCa();
  const hosts = options.hosts ?? ['127.0.0.1', 'localhost'];
  const [server, client] = await Promise.all([
    issueCertificate(ca, { usage: 'server', hosts }),
    issueCertificate(ca, { usage: 'client', commonName: 'test-domain' }),
  ]);
  return { ca, server, client };
}

/** Writes the PKI as PEM files in `dir`: chain.crt, client.crt, client.key, server.crt, server.key. */
export async function writeTestPki(dir: string, pki: TestPki): Promise<TestPkiFiles> {
  await mkdir(dir, { recursive: true });
  const files: TestPkiFiles = {
    chain: join(dir, 'chain.crt'),
    cert: join(dir, 'client.crt'),
    key: join(dir, 'client.key'),
    serverCert: join(dir, 'server.crt'),
    serverKey: join(dir, 'server.key'),
  };
  await Promise.all([
    writeFile(files.chain, pki.ca.cert),
    writeFile(files.cert, pki.client.cert),
    writeFile(files.key, pki.client.key, { mode: 0o600 }),
    writeFile(files.serverCert, pki.server.cert),
    writeFile(files.serverKey, pki.server.key, { mode: 0o600 }),
  ]);
  return files;
}

function newKeys(): Promise<webcrypto.CryptoKeyPair> {
  return webcrypto.subtle.generateKey(KEY_ALGORITHM, true, ['sign', 'verify']);
}

async function exportKey(key: webcrypto.CryptoKey): Promise<string> {
  const der = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', key));
  const lines = der.toString('base64').match(/.{1,64}/g) ?? [];
  return `-----BEGIN PRIVATE KEY-----\n${lines.join('\n')}\n-----END PRIVATE KEY-----\n`;
}

function pemBody(pem: string): Buffer {
  return Buffer.from(pem.replace(/-----[A-Z ]+-----/g, '').replace(/\s+/g, ''), 'base64');
}

function subject(commonName: string): x509.JsonName {
  return [{ CN: [commonName] }];
}

function validity(options: CertificateOptions): { notBefore: Date; notAfter: Date } {
  const notBefore = options.notBefore ?? new Date(Date.now() - 3600 * 1000);
  return { notBefore, notAfter: options.notAfter ?? new Date(notBefore.getTime() + 365 * DAY_MS) };
}
