import type { AuthProblem } from './errors.js';
import type { RawRequest } from './protocol.js';
import { DEFAULT_ACCOUNT_ID, randomKeyChars, sha256Hex } from './util.js';

/** Who signed a request. */
export interface Identity {
  accessKeyId: string;
  accountId: string;
  /** IAM user ARN, or `arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION` for temporary keys. */
  arn: string;
  /** `AIDA...` for users, `AROA...:SESSION` for assumed roles (SQS reports it as SenderId). */
  userId: string;
}

export interface TemporaryCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken: string;
  expiresAt: number;
}

interface KeyRecord extends Identity {
  sessionToken?: string;
  expiresAt?: number;
}

/** The SigV4 credential scope of a request: `Credential=AKID/date/region/service/aws4_request`. */
export interface SignedScope {
  accessKeyId: string;
  region: string;
  service: string;
  sessionToken: string | undefined;
}

/**
 * Reads the SigV4 signature's credential scope from the Authorization header or, for presigned
 * URLs, the query string. The signature must be present and well-formed; it is not recomputed.
 */
export function readSignature(req: RawRequest): SignedScope | AuthProblem {
  const header = req.headers.authorization;
  let credential: string | undefined;
  let signed: boolean;
  let sessionToken: string | undefined;
  if (header) {
    const match = /^AWS4-HMAC-SHA256 (.*)$/.exec(header);
    if (!match?.[1]) return 'malformed';
    const parts = new Map(
      match[1].split(',').map((p) => {
        const eq = p.indexOf('=');
        return [p.slice(0, eq).trim(), p.slice(eq + 1).trim()] as const;
      }),
    );
    credential = parts.get('Credential');
    signed =
      /^[0-9a-f]{64}$/.test(parts.get('Signature') ?? '') &&
      Boolean(parts.get('SignedHeaders')) &&
      Boolean(req.headers['x-amz-date'] ?? req.headers.date);
    const token = req.headers['x-amz-security-token'];
    sessionToken = Array.isArray(token) ? token[0] : token;
  } else if (req.query.has('X-Amz-Credential')) {
    credential = req.query.get('X-Amz-Credential') ?? undefined;
    signed =
      req.query.get('X-Amz-Algorithm') === 'AWS4-HMAC-SHA256' &&
      /^[0-9a-f]{64}$/.test(req.query.get('X-Amz-Signature') ?? '') &&
      req.query.has('X-Amz-Date');
    sessionToken = req.query.get('X-Amz-Security-Token') ?? undefined;
  } else {
    return 'missing';
  }
  const scope = credential?.split('/');
  if (!signed || scope?.length !== 5 || scope[4] !== 'aws4_request' || !scope[0] || !scope[2] || !scope[3]) {
    return 'malformed';
  }
  return { accessKeyId: scope[0], region: scope[2], service: scope[3], sessionToken };
}

export interface AccountsOptions {
  /** Account of every key not registered otherwise (default 123456789012). */
  defaultAccountId?: string;
  /** Long-term access key id → account id. */
  keys?: Record<string, string>;
  /** When false, only registered keys and issued temporary keys are accepted (default true). */
  acceptUnknownKeys?: boolean;
}

/** Access keys and the accounts they belong to, including temporary keys issued by STS. */
export class Accounts {
  readonly defaultAccountId: string;
  readonly acceptUnknownKeys: boolean;
  private readonly keys = new Map<string, KeyRecord>();

  constructor(options: AccountsOptions = {}) {
    this.defaultAccountId = options.defaultAccountId ?? DEFAULT_ACCOUNT_ID;
    this.acceptUnknownKeys = options.acceptUnknownKeys ?? true;
    for (const [key, account] of Object.entries(options.keys ?? {})) this.addKey(key, account);
  }

  /** Registers a long-term access key of an IAM user in `accountId`. */
  addKey(accessKeyId: string, accountId: string, userName = 'sandbox'): void {
    this.keys.set(accessKeyId, {
      accessKeyId,
      accountId,
      arn: `arn:aws:iam::${accountId}:user/${userName}`,
      userId: `AIDA${sha256Hex(accessKeyId).slice(0, 17).toUpperCase()}`,
    });
  }

  /** The account a key belongs to (undefined for an unknown key when unknown keys are refused). */
  accountOf(accessKeyId: string): string | undefined {
    return this.identityOf(accessKeyId)?.accountId;
  }

  /** The identity behind a key, as requests signed with it are attributed. */
  identityOf(accessKeyId: string): Identity | undefined {
    const known = this.keys.get(accessKeyId);
    if (known) {
      const { sessionToken: _t, expiresAt: _e, ...identity } = known;
      return identity;
    }
    if (!this.acceptUnknownKeys) return undefined;
    this.addKey(accessKeyId, this.defaultAccountId);
    return this.identityOf(accessKeyId);
  }

  /** Identity of a request's signer, or why it is refused. */
  authenticate(
    accessKeyId: string,
    sessionToken: string | undefined,
    now = Date.now(),
  ): Identity | AuthProblem {
    const known = this.keys.get(accessKeyId);
    if (known?.sessionToken !== undefined) {
      if (sessionToken !== known.sessionToken) return 'bad-token';
      if (known.expiresAt !== undefined && known.expiresAt <= now) return 'expired';
    }
    return this.identityOf(accessKeyId) ?? 'unknown-key';
  }

  /** Issues temporary credentials acting as `identity` until `expiresAt`. */
  issueTemporary(identity: Omit<Identity, 'accessKeyId'>, expiresAt: number): TemporaryCredentials {
    const creds: TemporaryCredentials = {
      accessKeyId: `ASIA${randomKeyChars(16)}`,
      secretAccessKey: randomKeyChars(40),
      sessionToken: Buffer.from(randomKeyChars(96)).toString('base64'),
      expiresAt,
    };
    this.keys.set(creds.accessKeyId, {
      ...identity,
      accessKeyId: creds.accessKeyId,
      sessionToken: creds.sessionToken,
      expiresAt,
    });
    return creds;
  }

  /** Makes temporary credentials expire now (to test refresh); false if the key is not temporary. */
  expire(accessKeyId: string, now = Date.now()): boolean {
    const known = this.keys.get(accessKeyId);
    if (known?.sessionToken === undefined) return false;
    known.expiresAt = now;
    return true;
  }
}
