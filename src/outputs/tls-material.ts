import { X509Certificate, createPrivateKey, type KeyObject } from 'node:crypto';
import { access, readFile } from 'node:fs/promises';
import { isAbsolute, join, resolve } from 'node:path';
import { CollectorError, ErrorCodes, describeError } from '../core/errors.js';
import type { Secrets } from '../telemetry/secrets.js';

/** Configured file paths (as written in the configuration). */
export interface TlsFiles {
  /** CA certificate(s) that the server's certificate must chain to (Devo: `chain`). */
  ca?: string | undefined;
  /** Client certificate (first PEM block: the certificate itself; any further blocks: intermediates). */
  cert?: string | undefined;
  /** Private key of the client certificate (unencrypted PEM). */
  key?: string | undefined;
}

export interface TlsMaterial {
  ca?: Buffer;
  cert?: Buffer;
  key?: Buffer;
  /** The client certificate's end of validity, to warn before it expires. */
  certValidTo?: Date;
  certSubject?: string;
}

export interface TlsMaterialPlace {
  /** Folder of the configuration file. */
  configDir: string;
  /** Configuration key of the block holding the paths, e.g. `outputs.devo.config`. */
  configKey: string;
}

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

/**
 * Where a configured file is: relative to the configuration file's folder, else in a `certs/`
 * folder beside it (the layout of Devo's collector packages).
 */
export async function resolveConfigFile(configDir: string, path: string): Promise<string> {
  const direct = resolve(configDir, path);
  if (isAbsolute(path)) return direct;
  try {
    await access(direct);
    return direct;
  } catch {
    const inCerts = resolve(configDir, 'certs', path);
    try {
      await access(inCerts);
      return inCerts;
    } catch {
      return direct;
    }
  }
}

/**
 * Reads and checks TLS material before any connection is made, so a bad file is one clear
 * error at start-up (naming the file and the config key), not a handshake failure later.
 * Throws CollectorError TLS_MATERIAL when a file is missing or unreadable, is not PEM, holds a
 * certificate that is expired or not yet valid, or when the key does not match the certificate.
 * The key's contents are registered in `secrets` and never appear in messages.
 */
export async function loadTlsMaterial(
  files: TlsFiles,
  place: TlsMaterialPlace,
  secrets: Secrets,
  now: Date = new Date(),
): Promise<TlsMaterial> {
  const material: TlsMaterial = {};
  if (files.ca !== undefined) {
    const { path, data } = await readMaterial(files.ca, 'ca', place);
    checkCertificates(path, data, now);
    material.ca = data;
  }
  let leaf: X509Certificate | undefined;
  let certPath = '';
  if (files.cert !== undefined) {
    const { path, data } = await readMaterial(files.cert, 'cert', place);
    leaf = checkCertificates(path, data, now)[0];
    certPath = path;
    material.cert = data;
    if (leaf) {
      material.certValidTo = new Date(Date.parse(leaf.validTo));
      material.certSubject = leaf.subject.replace(/\n/g, ', ');
    }
  }
  if (files.key !== undefined) {
    const { path, data } = await readMaterial(files.key, 'key', place);
    const text = data.toString('utf8');
    secrets.register(text);
    let key: KeyObject;
    try {
      if (!/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(text)) throw new Error('no PEM private key block');
      key = createPrivateKey({ key: text, format: 'pem' });
    } catch (err) {
      throw tlsError(path, 'is not an unencrypted PEM private key', err);
    }
    if (leaf && !leaf.checkPrivateKey(key)) {
      throw new CollectorError(
        ErrorCodes.TLS_MATERIAL,
        `TLS key ${path} does not match the certificate ${certPath} (${place.configKey}.key / .cert)`,
        { details: { file: path, certificate: certPath } },
      );
    }
    material.key = data;
  }
  return material;
}

async function readMaterial(
  configured: string,
  field: keyof TlsFiles,
  place: TlsMaterialPlace,
): Promise<{ path: string; data: Buffer }> {
  const path = await resolveConfigFile(place.configDir, configured);
  try {
    return { path, data: await readFile(path) };
  } catch (err) {
    const tried = isAbsolute(configured) ? '' : ` (also looked in ${join(place.configDir, 'certs')})`;
    throw tlsError(path, `cannot be read${tried}; set by ${place.configKey}.${field}`, err);
  }
}

/** Parses every certificate of a PEM file and checks its validity period; returns them in file order. */
function checkCertificates(path: string, data: Buffer, now: Date): X509Certificate[] {
  const blocks = data.toString('utf8').match(PEM_CERTIFICATE);
  if (!blocks) throw tlsError(path, 'holds no PEM certificate (-----BEGIN CERTIFICATE-----)');
  return blocks.map((block, i) => {
    let cert: X509Certificate;
    try {
      cert = new X509Certificate(block);
    } catch (err) {
      throw tlsError(path, `certificate #${i + 1} is not a valid X.509 certificate`, err);
    }
    const subject = cert.subject.replace(/\n/g, ', ');
    if (Date.parse(cert.validFrom) > now.getTime()) {
      throw tlsError(path, `certificate #${i + 1} (${subject}) is not valid before ${cert.validFrom}`);
    }
    if (Date.parse(cert.validTo) < now.getTime()) {
      throw tlsError(path, `certificate #${i + 1} (${subject}) expired on ${cert.validTo}`);
    }
    return cert;
  });
}

function tlsError(path: string, problem: string, cause?: unknown): CollectorError {
  const reason = cause === undefined ? '' : `: ${describeError(cause)}`;
  return new CollectorError(ErrorCodes.TLS_MATERIAL, `TLS file ${path} ${problem}${reason}`, {
    cause,
    details: { file: path },
  });
}
