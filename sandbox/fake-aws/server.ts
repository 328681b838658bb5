import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { AwsError } from './errors.js';
import type { FaultKind, Faults } from './faults.js';
import { readSignature, type Accounts, type Identity } from './identity.js';
import type { HttpReply, Params, RawRequest, ServiceDef, ServiceName } from './protocol.js';
import type { RequestLog } from './request-log.js';
import { newRequestId, sleep } from './util.js';

export interface ServerParts {
  services: readonly ServiceDef[];
  accounts: Accounts;
  faults: Faults;
  log: RequestLog;
  logRequests: boolean;
  /** The request log's time (epoch ms). */
  now: () => number;
}

/** The HTTP front: routes each request to a service, authenticates it, applies faults, logs it. */
export class FakeAwsServer {
  private readonly server: Server;
  private readonly closing = new AbortController();
  private readonly byName: Map<ServiceName, ServiceDef>;
  /** X-Amz-Target prefix → service, for the JSON protocols. */
  private readonly byTarget: Map<string, ServiceDef>;
  private readonly pending = new Set<Promise<void>>();
  endpoint = '';

  constructor(private readonly parts: ServerParts) {
    this.byName = new Map(parts.services.map((s) => [s.name, s]));
    this.byTarget = new Map(
      parts.services.flatMap((s) => (s.protocol.targets ?? []).map((t) => [t, s] as const)),
    );
    this.server = createServer((req, res) => {
      const handled = this.handle(req, res).catch((err: unknown) => {
        process.stderr.write(
          `fake-aws: internal failure: ${err instanceof Error ? err.stack : String(err)}\n`,
        );
        if (!res.headersSent) res.writeHead(500).end();
        else res.destroy();
      });
      this.pending.add(handled);
      void handled.finally(() => this.pending.delete(handled));
    });
    // Longer than the SDK's idle sockets live, so a reused keep-alive socket is never closed under it.
    this.server.keepAliveTimeout = 65_000;
    this.server.headersTimeout = 66_000;
  }

  /** Requests being handled now (long polls included). */
  get active(): number {
    return this.pending.size;
  }

  async listen(port: number): Promise<string> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, '127.0.0.1', () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    this.endpoint = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this.endpoint;
  }

  /**
   * Ends long polls and delays (they answer as their wait ran out), gives those answers a moment
   * to be written, then closes every connection.
   */
  async close(): Promise<void> {
    this.closing.abort();
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    await Promise.race([Promise.allSettled([...this.pending]), sleep(CLOSE_GRACE_MS)]);
    this.server.closeAllConnections();
    await closed;
  }

  private route(req: RawRequest, signingName: string | undefined): ServiceDef {
    const target = req.headers['x-amz-target'];
    if (typeof target === 'string') {
      const byTarget = this.byTarget.get(target.slice(0, target.lastIndexOf('.')));
      if (byTarget) return byTarget;
    }
    const signed = signingName === undefined ? undefined : SIGNING_NAMES[signingName];
    if (signed) return this.service(signed);
    // Unsigned or unknown: form posts with an Action are STS, everything else is S3's REST API.
    const isQuery = req.query.has('Action') || req.body.subarray(0, 7).toString() === 'Action=';
    return this.service(isQuery ? 'sts' : 's3');
  }

  private service(name: ServiceName): ServiceDef {
    const service = this.byName.get(name);
    if (!service) throw new Error(`fake-aws: no ${name} service configured`);
    return service;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const time = Date.now();
    const logged = this.parts.now();
    const chunks: Buffer[] = [];
    try {
      for await (const chunk of req) chunks.push(chunk as Buffer);
    } catch {
      return; // the client went away mid-request: nobody to answer
    }
    const url = new URL(req.url ?? '/', 'http://fake');
    const raw: RawRequest = {
      method: req.method ?? 'GET',
      path: (req.url ?? '/').split('?')[0] as string,
      query: url.searchParams,
      headers: req.headers,
      body: Buffer.concat(chunks),
    };
    const requestId = newRequestId();
    const signature = readSignature(raw);
    const scope = typeof signature === 'string' ? undefined : signature;
    const service = this.route(raw, scope?.service);
    const { protocol } = service;

    const clientGone = new AbortController();
    res.on('close', () => {
      if (!res.writableFinished) clientGone.abort();
    });
    const signal = AbortSignal.any([this.closing.signal, clientGone.signal]);

    let operation = '';
    let params: Params = {};
    let identity: Identity | undefined;
    let fault: FaultKind | undefined;
    let cut: { cutAfter: number; closeDelimited: boolean } | undefined;
    let reply: HttpReply;
    try {
      let parseError: unknown;
      try {
        ({ operation, params } = protocol.parse(raw));
      } catch (err) {
        parseError = err;
      }
      if (typeof signature === 'string') throw protocol.authError(signature);
      const auth = this.parts.accounts.authenticate(signature.accessKeyId, signature.sessionToken, time);
      if (typeof auth === 'string') throw protocol.authError(auth);
      identity = auth;
      if (parseError) throw parseError;

      const handler = service.operations[operation];
      if (!handler) throw protocol.unknownOperation(operation);
      let failure: HttpReply | undefined;
      for (const hit of this.parts.faults.hit(service.name, operation)) {
        fault = hit.kind;
        if (hit.kind === 'delay') await sleep(hit.delayMs ?? 0, signal);
        else if (hit.kind === 'throttle') throw service.throttlingError();
        else if (hit.kind === '5xx') throw service.serverError(hit.status ?? 500);
        else if (hit.kind === 'cut')
          cut = { cutAfter: hit.afterBytes ?? 0, closeDelimited: hit.closeDelimited ?? false };
        else failure = protocol.malformedReply(operation, requestId);
      }
      reply =
        failure ??
        protocol.reply(
          operation,
          await handler(params, {
            identity,
            region: signature.region,
            requestId,
            endpoint: this.endpoint,
            signal,
            raw,
          }),
          requestId,
        );
      if (cut) Object.assign(reply, cut);
    } catch (err) {
      if (!(err instanceof AwsError)) throw err;
      reply = protocol.errorReply(err, requestId, raw);
    }

    this.parts.log.add({
      time: logged,
      service: service.name,
      operation,
      region: scope?.region ?? '',
      accessKeyId: scope?.accessKeyId ?? '',
      accountId: identity?.accountId ?? '',
      status: reply.status,
      params,
      ...(fault ? { fault } : {}),
    });
    if (this.parts.logRequests) {
      process.stderr.write(
        `${new Date(time).toISOString()} ${service.name}.${operation || '?'} ${scope?.region ?? '-'} ${scope?.accessKeyId ?? '-'} ${reply.status}${fault ? ` fault=${fault}` : ''}\n`,
      );
    }
    await writeReply(req, res, reply);
  }
}

/** How long stop() lets answers in progress finish (a large GetObject may take longer: it is cut). */
const CLOSE_GRACE_MS = 200;

/** SigV4 signing names of the services (CloudWatch signs as `monitoring`, EventBridge as `events`). */
const SIGNING_NAMES: Record<string, ServiceName> = {
  sts: 'sts',
  sqs: 'sqs',
  s3: 's3',
  cloudtrail: 'cloudtrail',
  monitoring: 'cloudwatch',
  logs: 'logs',
  events: 'eventbridge',
};

async function writeReply(req: IncomingMessage, res: ServerResponse, reply: HttpReply): Promise<void> {
  if (res.destroyed) return;
  const { body } = reply;
  const headers = { ...reply.headers };
  if (typeof body === 'string' || Buffer.isBuffer(body))
    headers['content-length'] ??= String(Buffer.byteLength(body));
  else if (body === undefined) headers['content-length'] ??= '0';
  if (reply.closeDelimited) {
    delete headers['content-length'];
    // Neither length nor chunks: HTTP/1.1 then delimits the body by closing the connection.
    res.useChunkedEncodingByDefault = false;
    res.shouldKeepAlive = false;
  }
  res.writeHead(reply.status, headers);
  if (req.method === 'HEAD' || body === undefined) {
    res.end();
  } else if (reply.cutShort) {
    res.write(body as string | Buffer, () => res.destroy());
  } else if (reply.cutAfter !== undefined) {
    const part = await firstBytes(body, reply.cutAfter);
    if (reply.closeDelimited) res.end(part);
    else res.write(part, () => res.destroy());
  } else if (body instanceof Readable) {
    await pipeline(body, res).catch(() => res.destroy());
  } else {
    res.end(body);
  }
}

/** The first `n` bytes of a body. */
async function firstBytes(body: string | Buffer | Readable, n: number): Promise<Buffer> {
  if (!(body instanceof Readable)) return Buffer.from(body).subarray(0, n);
  const parts: Buffer[] = [];
  let length = 0;
  for await (const chunk of body) {
    if (length >= n) break;
    parts.push(Buffer.from(chunk as Buffer));
    length += (chunk as Buffer).length;
  }
  body.destroy();
  return Buffer.concat(parts).subarray(0, n);
}
