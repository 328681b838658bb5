import { AwsError, serverError } from './errors.js';
import type { Accounts, Identity } from './identity.js';
import { ParamReader } from './params.js';
import type { Params, RequestContext, ServiceDef } from './protocol.js';
import { queryProtocol } from './query-protocol.js';
import { isoSeconds, sha256Hex } from './util.js';

export interface RoleOptions {
  /** When set, AssumeRole must pass exactly this ExternalId (the trust policy's sts:ExternalId condition). */
  externalId?: string;
  /** Longest session the role allows, seconds (default 3600, as IAM's MaxSessionDuration). */
  maxSessionDuration?: number;
}

interface Role {
  arn: string;
  accountId: string;
  name: string;
  roleId: string;
  externalId: string | undefined;
  maxSessionDuration: number;
}

const ROLE_ARN = /^arn:aws[a-z-]*:iam::(\d{12}):role\/(?:[\w+=,.@-]+\/)*([\w+=,.@-]{1,64})$/;

/** STS over the query protocol: GetCallerIdentity and AssumeRole with temporary keys. */
export class FakeSts {
  private readonly roles = new Map<string, Role>();
  /** Access keys AssumeRole issued, for revokeSessions(). */
  private readonly issued: string[] = [];
  readonly def: ServiceDef;

  constructor(private readonly accounts: Accounts) {
    this.def = {
      name: 'sts',
      protocol: queryProtocol('https://sts.amazonaws.com/doc/2011-06-15/', '2011-06-15'),
      operations: {
        GetCallerIdentity: (_p, ctx) => ({
          UserId: ctx.identity.userId,
          Account: ctx.identity.accountId,
          Arn: ctx.identity.arn,
        }),
        AssumeRole: (p, ctx) => this.assumeRole(p, ctx),
      },
      throttlingError: () => new AwsError('Throttling', 'Rate exceeded', 400),
      serverError,
    };
  }

  /**
   * Registers a role that AssumeRole may assume; its temporary keys act in the role's account (the
   * one in the ARN). Roles not registered are refused with AccessDenied, as without a trust policy.
   */
  addRole(arn: string, options: RoleOptions = {}): void {
    const match = ROLE_ARN.exec(arn);
    if (!match) throw new RangeError(`not an IAM role ARN: ${arn}`);
    this.roles.set(arn, {
      arn,
      accountId: match[1] as string,
      name: match[2] as string,
      roleId: `AROA${sha256Hex(arn).slice(0, 17).toUpperCase()}`,
      externalId: options.externalId,
      maxSessionDuration: options.maxSessionDuration ?? 3600,
    });
  }

  /**
   * Makes every session issued so far expire now, before its stated Expiration, as AWS does when a
   * role's sessions are revoked: their calls fail with ExpiredToken. Returns how many were revoked.
   */
  revokeSessions(): number {
    for (const key of this.issued) this.accounts.expire(key);
    return this.issued.splice(0).length;
  }

  private assumeRole(params: Params, ctx: RequestContext): unknown {
    const p = new ParamReader(
      params,
      (message) => new AwsError('ValidationError', message, 400),
      (name) =>
        new AwsError(
          'ValidationError',
          `1 validation error detected: Value null at '${lowerFirst(name)}' failed to satisfy constraint: Member must not be null`,
          400,
        ),
    );
    const roleArn = p.requiredString('RoleArn');
    const sessionName = p.requiredString('RoleSessionName');
    if (!/^[\w+=,.@-]{2,64}$/.test(sessionName)) {
      throw new AwsError(
        'ValidationError',
        `1 validation error detected: Value '${sessionName}' at 'roleSessionName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]*`,
        400,
      );
    }
    if (!ROLE_ARN.test(roleArn)) throw new AwsError('ValidationError', `${roleArn} is invalid`, 400);
    const duration = p.integer('DurationSeconds', 900, 43200) ?? 3600;
    const role = this.roles.get(roleArn);
    if (!role || (role.externalId !== undefined && p.string('ExternalId') !== role.externalId)) {
      throw new AwsError(
        'AccessDenied',
        `User: ${ctx.identity.arn} is not authorized to perform: sts:AssumeRole on resource: ${roleArn}`,
        403,
      );
    }
    if (isAssumedRole(ctx.identity) && duration > 3600) {
      throw new AwsError(
        'ValidationError',
        'The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining.',
        400,
      );
    }
    if (duration > role.maxSessionDuration) {
      throw new AwsError(
        'ValidationError',
        `The requested DurationSeconds exceeds the MaxSessionDuration set for this role.`,
        400,
      );
    }
    const arn = `arn:aws:sts::${role.accountId}:assumed-role/${role.name}/${sessionName}`;
    const userId = `${role.roleId}:${sessionName}`;
    const creds = this.accounts.issueTemporary(
      { accountId: role.accountId, arn, userId },
      Date.now() + duration * 1000,
    );
    this.issued.push(creds.accessKeyId);
    return {
      Credentials: {
        AccessKeyId: creds.accessKeyId,
        SecretAccessKey: creds.secretAccessKey,
        SessionToken: creds.sessionToken,
        Expiration: isoSeconds(creds.expiresAt),
      },
      AssumedRoleUser: { AssumedRoleId: userId, Arn: arn },
    };
  }
}

const isAssumedRole = (identity: Identity): boolean => identity.arn.includes(':assumed-role/');
const lowerFirst = (s: string): string => s.charAt(0).toLowerCase() + s.slice(1);
