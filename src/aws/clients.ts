import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import { SQSClient } from '@aws-sdk/client-sqs';
import { S3Client } from '@aws-sdk/client-s3';
import { STSClient, GetCallerIdentityCommand } from '@aws-sdk/client-sts';
import { CloudTrailClient } from '@aws-sdk/client-cloudtrail';
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { fromTemporaryCredentials } from '@aws-sdk/credential-providers';
import { doesIdentityRequireRefresh, isIdentityExpired, memoizeIdentityProvider } from '@smithy/core';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import type {
  AwsCredentialIdentity,
  AwsCredentialIdentityProvider,
  HttpHandlerOptions,
  MiddlewareStack,
  NodeHttpHandlerOptions,
} from '@smithy/types';
import type { HttpHandler } from '@smithy/core/protocols';
import type { Secrets } from '../telemetry/secrets.js';
import { fastClientConfig, reuseSigner } from './sdk-fast-paths.js';

export interface AwsCredentialsConfig {
  access_key?: string | undefined;
  access_secret?: string | undefined;
  base_assume_role?: string | undefined;
  target_assume_role?: string | undefined;
  assume_role_external_id?: string | undefined;
}

export interface AwsClientsOptions {
  credentials: AwsCredentialsConfig;
  /** Where the access secret and every temporary secret/token are registered, so logs never show them. */
  secrets: Secrets;
  /** Endpoint override for every service (emulators); the SDK's AWS_ENDPOINT_URL* variables also work. */
  endpoint?: string | undefined;
  /** Region for STS calls of the assume-role chain. */
  stsRegion: string;
  /** Name for STS sessions, so CloudTrail shows who assumed the role. */
  sessionName?: string | undefined;
  /** Most concurrent HTTP connections per client (SQS long polls each hold one). */
  maxSockets?: number;
  /** Clock of the renewal rate limit (tests). */
  now?: () => number;
}

/**
 * What AWS answers when it no longer accepts session credentials the SDK still holds as valid
 * (revoked, or expired early by a clock or policy change): the SDK would keep signing with them
 * until their stated expiry.
 */
const REJECTED_CREDENTIAL_CODES = new Set(['ExpiredToken', 'ExpiredTokenException', 'InvalidClientTokenId']);
/** At most one forced re-assume per this long, however many calls fail at once. */
const RENEWAL_INTERVAL_MS = 5_000;

type ClientKind = 'sqs' | 'sqsCached' | 's3' | 'sts' | 'cloudtrail' | 'cloudwatch' | 'logs' | 'eventbridge';

const ctors = {
  sqs: SQSClient,
  sqsCached: SQSClient,
  s3: S3Client,
  sts: STSClient,
  cloudtrail: CloudTrailClient,
  cloudwatch: CloudWatchClient,
  logs: CloudWatchLogsClient,
  eventbridge: EventBridgeClient,
} as const;

type ClientOf<K extends ClientKind> = InstanceType<(typeof ctors)[K]>;

/**
 * The one place SDK v3 clients are made: one client per service × region, sharing one
 * credentials provider (static keys or the SDK's default chain, then the optional
 * base_assume_role → target_assume_role chain, refreshed by the SDK before expiry).
 */
export class AwsClients {
  readonly credentials: AwsCredentialIdentityProvider | undefined;
  private readonly clients = new Map<string, { destroy(): void }>();
  private readonly accountIds = new Map<string, Promise<string>>();
  private readonly handler: NodeHttpHandler;
  /** Set when the credentials come from an assume-role chain, which can be asked for new ones. */
  private readonly renewal: { at: number; pending: Promise<unknown> } | undefined;

  constructor(private readonly options: AwsClientsOptions) {
    const sockets = options.maxSockets ?? 64;
    this.handler = new NodeHttpHandler({
      httpAgent: new HttpAgent({ keepAlive: true, maxSockets: sockets }),
      httpsAgent: new HttpsAgent({ keepAlive: true, maxSockets: sockets }),
      connectionTimeout: 10_000,
      // Above SQS's 20 s long poll, so a long poll is never cut short.
      requestTimeout: 60_000,
    });
    this.credentials = buildCredentials(options);
    const { base_assume_role: base, target_assume_role: target } = options.credentials;
    if (this.credentials && (base || target)) this.renewal = { at: -Infinity, pending: Promise.resolve() };
  }

  /**
   * Re-assumes the role at once, unless that was done less than RENEWAL_INTERVAL_MS ago: then the
   * caller retries with those fresh credentials. False when the credentials cannot be renewed.
   */
  private async renewCredentials(): Promise<boolean> {
    const renewal = this.renewal;
    if (!renewal) return false;
    const now = (this.options.now ?? Date.now)();
    if (now - renewal.at >= RENEWAL_INTERVAL_MS) {
      renewal.at = now;
      renewal.pending = this.credentials!({ forceRefresh: true });
    }
    await renewal.pending;
    return true;
  }

  private get<K extends ClientKind>(kind: K, region: string): ClientOf<K> {
    const id = `${kind}/${region}`;
    let client = this.clients.get(id);
    if (!client) {
      client = this.create(kind, region, this.handler);
      this.clients.set(id, client);
    }
    return client as ClientOf<K>;
  }

  private create<K extends ClientKind>(
    kind: K,
    region: string,
    requestHandler: HttpHandler<NodeHttpHandlerOptions>,
  ) {
    const Ctor = ctors[kind] as unknown as new (cfg: Record<string, unknown>) => ClientOf<K>;
    const config: Record<string, unknown> = {
      region,
      requestHandler,
      maxAttempts: 5,
      retryMode: 'adaptive',
    };
    if (this.credentials) config.credentials = this.credentials;
    if (this.options.endpoint) config.endpoint = this.options.endpoint;
    // Emulators (and our sandbox) address buckets by path, not by virtual host.
    if (kind === 's3' && hasEndpointOverride(this.options.endpoint)) config.forcePathStyle = true;
    if (kind === 's3') config.followRegionRedirects = true;
    if (kind === 'sqsCached') config.cacheMiddleware = true;
    const client = new Ctor(config);
    if (this.renewal) {
      (client as unknown as { middlewareStack: MiddlewareStack<object, object> }).middlewareStack.add(
        (next) => async (args) => {
          try {
            return await next(args);
          } catch (err) {
            const code = (err as { name?: unknown }).name;
            if (typeof code !== 'string' || !REJECTED_CREDENTIAL_CODES.has(code)) throw err;
            if (!(await this.renewCredentials())) throw err;
            return next(args);
          }
        },
        { step: 'initialize', name: 'renewRejectedCredentials' },
      );
    }
    fastClientConfig(client);
    // SQS is where request rates are high (one ReceiveMessage and one DeleteMessageBatch per 10 messages).
    if (kind === 'sqs' || kind === 'sqsCached') reuseSigner(client);
    return client;
  }

  sqs(region: string): SQSClient {
    return this.get('sqs', region);
  }
  /**
   * An SQS client that resolves its middleware stack once per command type instead of per call
   * (the SDK's cacheMiddleware): for the hot calls sent without per-call options, like
   * DeleteMessageBatch. A call with options (an abort signal) drops a client's cache, hence a client
   * of its own; no per-command middleware may be added to its commands (the cache would ignore it).
   * Concurrent calls of one command type share one SDK context (endpoint, auth scheme): safe as
   * long as the client's queue URLs all have the origin of its region's endpoint, as GetQueueUrl's do.
   */
  sqsCached(region: string): SQSClient {
    return this.get('sqsCached', region);
  }
  /**
   * A new SQS client for the caller, like sqsCached() but with every request aborted once `signal`
   * aborts: long polls end at once on shutdown although they are sent without options. It uses
   * the shared connections, so it holds nothing of its own to destroy.
   */
  sqsAbortable(region: string, signal: AbortSignal): SQSClient {
    return this.create('sqsCached', region, new AbortingHandler(this.handler, signal));
  }
  s3(region: string): S3Client {
    return this.get('s3', region);
  }
  sts(region: string): STSClient {
    return this.get('sts', region);
  }
  cloudtrail(region: string): CloudTrailClient {
    return this.get('cloudtrail', region);
  }
  cloudwatch(region: string): CloudWatchClient {
    return this.get('cloudwatch', region);
  }
  logs(region: string): CloudWatchLogsClient {
    return this.get('logs', region);
  }
  eventbridge(region: string): EventBridgeClient {
    return this.get('eventbridge', region);
  }

  /** Account id of the effective credentials (STS GetCallerIdentity, cached; retried after failure). */
  accountId(region: string = this.options.stsRegion): Promise<string> {
    let pending = this.accountIds.get(region);
    if (!pending) {
      pending = this.sts(region)
        .send(new GetCallerIdentityCommand({}))
        .then((r) => {
          if (!r.Account) throw new Error('STS GetCallerIdentity returned no Account');
          return r.Account;
        });
      pending.catch(() => this.accountIds.delete(region));
      this.accountIds.set(region, pending);
    }
    return pending;
  }

  destroy(): void {
    for (const c of this.clients.values()) c.destroy();
    this.clients.clear();
    this.handler.destroy();
  }
}

/** Hands every request to `inner` with `signal` as its abort signal. */
class AbortingHandler implements HttpHandler<NodeHttpHandlerOptions> {
  constructor(
    private readonly inner: NodeHttpHandler,
    private readonly signal: AbortSignal,
  ) {}

  get metadata() {
    return this.inner.metadata;
  }

  handle(request: Parameters<NodeHttpHandler['handle']>[0], options: HttpHandlerOptions = {}) {
    return this.inner.handle(request, { ...options, abortSignal: this.signal });
  }

  updateHttpClientConfig(
    key: keyof NodeHttpHandlerOptions,
    value: NodeHttpHandlerOptions[keyof NodeHttpHandlerOptions],
  ): void {
    this.inner.updateHttpClientConfig(key, value);
  }

  httpHandlerConfigs() {
    return this.inner.httpHandlerConfigs();
  }

  /** The connections are the shared handler's. */
  destroy(): void {}
}

function hasEndpointOverride(configured: string | undefined): boolean {
  return Boolean(configured || process.env.AWS_ENDPOINT_URL || process.env.AWS_ENDPOINT_URL_S3);
}

function buildCredentials(options: AwsClientsOptions): AwsCredentialIdentityProvider | undefined {
  const c = options.credentials;
  let provider: AwsCredentialIdentityProvider | undefined;
  if (c.access_key && c.access_secret) {
    options.secrets.register(c.access_secret);
    const identity: AwsCredentialIdentity = { accessKeyId: c.access_key, secretAccessKey: c.access_secret };
    provider = async () => identity;
  }
  // undefined: the SDK's default chain (env, shared files, SSO, container/instance roles).
  const stsConfig = {
    region: options.stsRegion,
    ...(options.endpoint ? { endpoint: options.endpoint } : {}),
  };
  const sessionName = options.sessionName ?? 'devo-aws-collector';
  for (const roleArn of [c.base_assume_role, c.target_assume_role]) {
    if (!roleArn) continue;
    const isTarget = roleArn === c.target_assume_role;
    provider = fromTemporaryCredentials({
      params: {
        RoleArn: roleArn,
        RoleSessionName: sessionName,
        ...(isTarget && c.assume_role_external_id ? { ExternalId: c.assume_role_external_id } : {}),
      },
      ...(provider ? { masterCredentials: provider } : {}),
      clientConfig: stsConfig,
    });
  }
  if (!provider) return undefined;
  // Shared by every client of every region: one AssumeRole chain, refreshed before expiry.
  const shared = memoizeIdentityProvider(
    secretRegistering(provider, options.secrets),
    isIdentityExpired,
    doesIdentityRequireRefresh,
  )!;
  // Tells the SDK not to memoize it again per client: a forced refresh must reach every client.
  return Object.assign(shared, { memoized: true });
}

/**
 * Registers every temporary secret/token as it is issued, so logs can never show it. Sessions are
 * renewed about hourly for as long as the collector runs: the one before the previous session is
 * long expired and is forgotten, or the registry (scanned for every log line) would grow forever.
 */
function secretRegistering(
  provider: AwsCredentialIdentityProvider,
  secrets: Secrets,
): AwsCredentialIdentityProvider {
  const sessions: AwsCredentialIdentity[] = [];
  return async (props) => {
    const identity = await provider(props);
    secrets.register(identity.secretAccessKey);
    secrets.register(identity.sessionToken);
    if (!sessions.some((s) => s.secretAccessKey === identity.secretAccessKey)) sessions.push(identity);
    if (sessions.length > 2) {
      const expired = sessions.shift()!;
      secrets.forget(expired.secretAccessKey);
      secrets.forget(expired.sessionToken);
    }
    return identity;
  };
}
