import { Agent, request, type RequestOptions } from 'node:https';
import { readFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import { gzip as gzipCallback } from 'node:zlib';
import { z } from 'zod';
import { CollectorError, ErrorCodes, describeError } from '../../core/errors.js';
import { singleMessages, type CollectorEvent } from '../../core/batch.js';
import { backoffDelay, sleep } from '../../core/backoff.js';
import { backoffOptions, backoffSchema } from '../backoff-schema.js';
import type { OutputContext, OutputDefinition } from '../definition.js';
import type { Output } from '../output.js';
import { escapeLineBreaks } from '../../formats/line-breaks.js';
import { loadTlsMaterial, resolveConfigFile } from '../tls-material.js';
import { Admission } from '../../core/admission.js';

const gzip = promisify(gzipCallback);

/** Devo's limit on one request's uncompressed body. */
const MAX_REQUEST_BYTES = 32_000_000;
/** A Retry-After beyond this is taken as this: a misconfigured proxy must not park the output for hours. */
const MAX_RETRY_AFTER_MS = 600_000;
/** While requests are refused, a reminder is logged at most this often. */
const REFUSAL_LOG_INTERVAL_MS = 60_000;
/**
 * Answers that no retry of the same request changes until someone fixes the configuration (token,
 * domain, URL, relay): 400 (malformed path or tag), 401/403 (token refused), 404 (unknown domain or
 * endpoint), 405, 410. Other 4xx except 408/413/429 are taken the same way; 413 splits the request.
 */
const HINTS: Record<number, string> = {
  400: 'the request was refused as malformed: check domain, host and tags',
  401: 'the token was refused: check token / token_file',
  403: 'the token was refused: check token / token_file',
  404: 'the endpoint does not know this path: check url / region and domain',
};

const REGION_URLS = {
  us: 'https://http-us.devo.io',
  eu: 'https://http-eu.devo.io',
  ca: 'https://http-ca.devo.io',
  ap: 'https://http-ap.devo.io',
} as const;

const schema = z
  .strictObject({
    region: z
      .enum(['us', 'eu', 'ca', 'ap'])
      .optional()
      .describe('Devo region; the endpoint is https://http-<region>.devo.io. Give either region or url.'),
    url: z
      .url({ protocol: /^https$/, message: 'must be an https:// URL' })
      .optional()
      .describe(
        'Endpoint base URL instead of region (e.g. a relay or proxy), https only; /stream/... is appended.',
      ),
    domain: z.string().min(1).describe('Devo domain that receives the events.'),
    token: z
      .string()
      .min(1)
      .optional()
      .describe(
        'HTTP ingestion token; write it as ${ENV_VAR} so it stays out of the file. Give either token or token_file.',
      ),
    token_file: z
      .string()
      .min(1)
      .optional()
      .describe(
        'File holding the token (surrounding whitespace ignored); relative to the configuration file or its certs/ folder.',
      ),
    host: z
      .string()
      .min(1)
      .optional()
      .describe('Host name sent in the URL path; the machine name when absent.'),
    ca: z
      .string()
      .min(1)
      .optional()
      .describe('CA certificate(s) (PEM) for the endpoint, replacing the system CAs (private relays).'),
    max_request_bytes: z
      .number()
      .int()
      .min(1024)
      .max(MAX_REQUEST_BYTES)
      .default(MAX_REQUEST_BYTES)
      .describe(
        'Most uncompressed bytes in one request (Devo accepts up to 32 MB). A single larger event is sent alone.',
      ),
    compression_level: z.number().int().min(1).max(9).default(6).describe('gzip level of request bodies.'),
    max_concurrent_requests: z
      .number()
      .int()
      .min(1)
      .max(64)
      .default(4)
      .describe('Requests in flight at once.'),
    request_timeout_seconds: z
      .number()
      .positive()
      .default(60)
      .describe('A request without an answer for this long is abandoned and retried.'),
    retry: backoffSchema
      .prefault({})
      .describe(
        'Backoff between retries of a request after 429, 5xx or a network error (Retry-After wins when given), and between the probes of a refused output (401, 403, 404, 400), whose writes wait meanwhile.',
      ),
  })
  .superRefine((config, issues) => {
    if ((config.region === undefined) === (config.url === undefined)) {
      issues.addIssue({ code: 'custom', path: ['region'], message: 'give exactly one of region and url' });
    }
    if ((config.token === undefined) === (config.token_file === undefined)) {
      issues.addIssue({
        code: 'custom',
        path: ['token'],
        message: 'give exactly one of token and token_file',
      });
    }
  })
  .describe(
    'Devo HTTP ingestion: events grouped by tag, newline-separated, gzip-compressed, POSTed to /stream/<domain>/token!<token>/<host>/<tag>.',
  );

type DevoHttpConfig = z.output<typeof schema>;

interface Answer {
  status: number;
  retryAfter: string | undefined;
}

/** While requests are refused: since when, with which status, and when it was last said. */
interface Refusal {
  status: number;
  since: number;
  attempts: number;
  loggedAt: number;
}

/**
 * Devo HTTP ingestion. A write is accepted when every request carrying its events got a 2xx.
 * 429, 5xx and network errors are retried with backoff (Retry-After honoured). A refusal (401,
 * 403, 404, 400...) holds the output: writes stay pending (backpressure: the sources stop taking
 * more, nothing is released to be received again and drained into a DLQ), one request at a time
 * probes with capped exponential backoff, and the first 2xx (the operator fixed the token) lets
 * everything through again. 413 splits the request. The token never leaves the request path: it is
 * registered as a secret and the URL is never logged.
 */
export class DevoHttpOutput implements Output {
  private readonly base: URL;
  private readonly abort = new AbortController();
  private readonly pending = new Set<Promise<unknown>>();
  private agent: Agent | undefined;
  private pathPrefix = '';
  private starting: Promise<void> | undefined;
  private stopped = false;
  private refusal: Refusal | undefined;
  /** A request is probing whether the refusal is over; the others wait in `held`. */
  private probing = false;
  private readonly held: (() => void)[] = [];
  /** Requests under way, at most max_concurrent_requests. */
  private readonly requests: Admission;
  private retrying = 0;

  constructor(
    private readonly config: DevoHttpConfig,
    private readonly ctx: OutputContext,
  ) {
    this.base = new URL(config.url ?? REGION_URLS[config.region ?? 'us']);
    this.requests = new Admission([config.max_concurrent_requests]);
    ctx.metrics.outputRefused.set({ output: ctx.name }, 0);
  }

  get name(): string {
    return this.ctx.name;
  }

  private now(): number {
    return (this.ctx.now ?? Date.now)();
  }

  start(): Promise<void> {
    this.starting ??= this.open();
    return this.starting;
  }

  async write(events: readonly CollectorEvent[]): Promise<void> {
    this.checkUsable();
    if (events.length === 0) return;
    await this.start();
    const posts: Promise<void>[] = [];
    for (const [tag, messages] of groupByTag(events)) {
      let lines: string[] = [];
      let bytes = 0;
      for (const message of messages) {
        const size = Buffer.byteLength(message) + 1;
        if (bytes + size > this.config.max_request_bytes && lines.length > 0) {
          posts.push(this.track(this.post(tag, lines, bytes)));
          lines = [];
          bytes = 0;
        }
        lines.push(message);
        bytes += size;
      }
      posts.push(this.track(this.post(tag, lines, bytes)));
    }
    // Settle every request before answering, so a rejected write leaves nothing running.
    const results = await Promise.allSettled(posts);
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.abort.abort();
    for (const wake of this.held.splice(0)) wake();
    await Promise.allSettled(this.pending);
    this.agent?.destroy();
  }

  private async open(): Promise<void> {
    const { config, ctx } = this;
    let token = config.token;
    if (config.token_file !== undefined) {
      const path = await resolveConfigFile(ctx.configDir, config.token_file);
      try {
        token = (await readFile(path, 'utf8')).trim();
      } catch (err) {
        throw new CollectorError(
          ErrorCodes.SECRET_UNAVAILABLE,
          `output ${this.name}: cannot read token file ${path} (outputs.${this.name}.config.token_file): ${describeError(err)}`,
          { cause: err, details: { file: path } },
        );
      }
      if (!token) {
        throw new CollectorError(
          ErrorCodes.SECRET_UNAVAILABLE,
          `output ${this.name}: token file ${path} is empty (outputs.${this.name}.config.token_file)`,
          { details: { file: path } },
        );
      }
    }
    ctx.secrets.register(token);
    const ca =
      config.ca === undefined
        ? undefined
        : (
            await loadTlsMaterial(
              { ca: config.ca },
              { configDir: ctx.configDir, configKey: `outputs.${this.name}.config` },
              ctx.secrets,
            )
          ).ca;
    this.agent = new Agent({
      keepAlive: true,
      maxSockets: config.max_concurrent_requests,
      minVersion: 'TLSv1.2',
      ...(ca ? { ca } : {}),
    });
    const segment = (value: string): string => encodeURIComponent(value);
    this.pathPrefix =
      `${this.base.pathname.replace(/\/+$/, '')}/stream/${segment(config.domain)}` +
      `/token!${segment(token!)}/${segment(config.host ?? ctx.hostname)}/`;
  }

  /** One request, retried until accepted or stopped; split in two on 413. */
  private async post(tag: string, lines: string[], bytes: number): Promise<void> {
    const body = await gzip(Buffer.from(`${lines.join('\n')}\n`), { level: this.config.compression_level });
    const count = lines.length;
    const path = this.pathPrefix + encodeURIComponent(tag);
    const backoff = backoffOptions(this.config.retry);
    let probe = false;
    const endProbe = (): void => {
      if (!probe) return;
      probe = this.probing = false;
      this.held.shift()?.();
    };
    try {
      for (let attempt = 0; ; attempt++) {
        this.checkUsable();
        if (this.refusal && !probe) {
          // One request finds out whether the refusal is over; the others wait for its answer.
          if (this.probing) {
            await new Promise<void>((resolve) => this.held.push(resolve));
            continue;
          }
          this.probing = probe = true;
        }
        let give: () => void;
        try {
          give = await this.requests.acquire([1], this.abort.signal);
        } catch (err) {
          // Aborted by stop(): say so as any request of a stopped output.
          this.checkUsable();
          throw err;
        }
        let answer: Answer | Error;
        try {
          this.checkUsable();
          answer = await this.request(path, body);
        } catch (err) {
          answer = err instanceof CollectorError ? err : new Error(describeError(err), { cause: err });
        } finally {
          give();
        }
        if (answer instanceof CollectorError) throw answer;
        if (!(answer instanceof Error) && answer.status >= 200 && answer.status < 300) {
          this.recovered();
          this.ctx.health?.up();
          this.ctx.metrics.outputEvents.inc({ output: this.name }, count);
          this.ctx.metrics.outputBytes.inc({ output: this.name }, bytes);
          return;
        }
        this.checkUsable();
        if (!(answer instanceof Error) && answer.status === 413) {
          if (lines.length === 1) {
            throw new CollectorError(
              ErrorCodes.OUTPUT_REJECTED,
              `output ${this.name}: ${this.base.origin} answered HTTP 413 to one event of ${bytes} bytes for tag ${tag}: too large for it to take`,
              { details: { output: this.name, status: 413, tag, bytes } },
            );
          }
          // Smaller requests go through where a relay's limit is below max_request_bytes.
          const half = Math.ceil(lines.length / 2);
          const parts = [lines.slice(0, half), lines.slice(half)];
          endProbe();
          await Promise.all(parts.map((part) => this.track(this.post(tag, part, linesBytes(part)))));
          return;
        }
        if (!(answer instanceof Error) && isRefusal(answer.status)) {
          const delay = backoffDelay(this.refused(answer.status, tag), backoff);
          await sleep(delay, this.abort.signal);
          continue;
        }
        const retryAfter = answer instanceof Error ? undefined : retryAfterMs(answer.retryAfter);
        const delay = retryAfter ?? backoffDelay(attempt, backoff);
        this.retryNotice(answer, tag, delay);
        await sleep(delay, this.abort.signal);
      }
    } finally {
      endProbe();
    }
  }

  private request(path: string, body: Buffer): Promise<Answer> {
    const timeoutMs = this.config.request_timeout_seconds * 1000;
    const options: RequestOptions = {
      protocol: this.base.protocol,
      hostname: this.base.hostname,
      port: this.base.port || 443,
      path,
      method: 'POST',
      agent: this.agent,
      signal: this.abort.signal,
      timeout: timeoutMs,
      headers: {
        'Content-Type': 'text/plain; charset=utf-8',
        'Content-Encoding': 'gzip',
        'Content-Length': body.length,
      },
    };
    return new Promise((resolve, reject) => {
      const req = request(options, (res) => {
        // The answer's body is not needed; reading it lets the connection be reused.
        res.resume();
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, retryAfter: header(res.headers['retry-after']) }),
        );
        res.on('error', reject);
      });
      req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs / 1000} s`)));
      req.on('error', reject);
      req.end(body);
    });
  }

  /** Throws once the output is stopped. */
  private checkUsable(): void {
    if (this.stopped) throw new CollectorError(ErrorCodes.OUTPUT_STOPPED, `output ${this.name} is stopped`);
  }

  /**
   * Records a refusal; says so at once, then at most every REFUSAL_LOG_INTERVAL_MS. Returns the
   * backoff attempt for the next probe.
   */
  private refused(status: number, tag: string): number {
    const now = this.now();
    const first = this.refusal === undefined || this.refusal.status !== status;
    const refusal: Refusal = first
      ? { status, since: this.refusal?.since ?? now, attempts: 0, loggedAt: -Infinity }
      : this.refusal!;
    this.refusal = refusal;
    this.ctx.metrics.outputRefused.set({ output: this.name }, 1);
    this.ctx.health?.block(ErrorCodes.OUTPUT_REJECTED);
    refusal.attempts++;
    if (now - refusal.loggedAt >= REFUSAL_LOG_INTERVAL_MS) {
      refusal.loggedAt = now;
      const hint = HINTS[status] ?? 'check the output configuration';
      this.ctx.logger.error(
        {
          event: 'output_refused',
          output: this.name,
          status,
          tag,
          code: ErrorCodes.OUTPUT_REJECTED,
          attempts: refusal.attempts,
          refusedForSeconds: Math.round((now - refusal.since) / 1000),
        },
        `output ${this.name}: ${this.base.origin} answers HTTP ${status} for domain ${this.config.domain}: ${hint} (outputs.${this.name}.config). ` +
          'Events are held unacknowledged and sources paused; retrying with backoff until it accepts.',
      );
    }
    return refusal.attempts - 1;
  }

  private retryNotice(answer: Answer | Error, tag: string, delay: number): void {
    this.ctx.health?.down();
    const reason = answer instanceof Error ? answer.message : `HTTP ${answer.status}`;
    const message = `output ${this.name}: request to ${this.base.origin} for tag ${tag} failed (${reason}); retrying in ${(delay / 1000).toFixed(1)} s`;
    const fields = {
      event: 'output_retry',
      output: this.name,
      tag,
      delayMs: delay,
      ...(answer instanceof Error ? { err: answer } : { status: answer.status }),
    };
    // The first failure after a success is worth a warning; the retries that follow are not.
    if (this.retrying++ === 0) this.ctx.logger.warn(fields, message);
    else this.ctx.logger.debug(fields, message);
  }

  private recovered(): void {
    const refusal = this.refusal;
    if (refusal) {
      this.refusal = undefined;
      this.ctx.metrics.outputRefused.set({ output: this.name }, 0);
      this.ctx.logger.info(
        {
          event: 'output_recovered',
          output: this.name,
          status: refusal.status,
          refusedForSeconds: Math.round((this.now() - refusal.since) / 1000),
        },
        `output ${this.name}: requests accepted again after HTTP ${refusal.status} refusals`,
      );
      for (const wake of this.held.splice(0)) wake();
    }
    if (this.retrying === 0) return;
    this.ctx.logger.info(
      { event: 'output_recovered', output: this.name, retries: this.retrying },
      `output ${this.name}: requests accepted again after ${this.retrying} retries`,
    );
    this.retrying = 0;
  }

  private track<T>(promise: Promise<T>): Promise<T> {
    this.pending.add(promise);
    void promise.finally(() => this.pending.delete(promise)).catch(() => undefined);
    return promise;
  }
}

/** A 4xx that retrying the same request cannot fix (408 timeout, 413 and 429 are handled apart). */
function isRefusal(status: number): boolean {
  return status >= 400 && status < 500 && status !== 408 && status !== 413 && status !== 429;
}

function linesBytes(lines: readonly string[]): number {
  return lines.reduce((n, line) => n + Buffer.byteLength(line) + 1, 0);
}

function groupByTag(events: readonly CollectorEvent[]): Map<string, string[]> {
  const groups = new Map<string, string[]>();
  for (const e of singleMessages(events)) {
    const message = escapeLineBreaks(e.message);
    const group = groups.get(e.tag);
    if (group) group.push(message);
    else groups.set(e.tag, [message]);
  }
  return groups;
}

function header(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/** Retry-After as delta-seconds or an HTTP date, in milliseconds (capped); undefined when absent or unreadable. */
export function retryAfterMs(value: string | undefined, now: number = Date.now()): number | undefined {
  if (value === undefined) return undefined;
  const trimmed = value.trim();
  const ms = /^\d+$/.test(trimmed) ? Number(trimmed) * 1000 : Date.parse(trimmed) - now;
  if (Number.isNaN(ms)) return undefined;
  return Math.min(Math.max(ms, 0), MAX_RETRY_AFTER_MS);
}

export const definition: OutputDefinition<typeof schema> = {
  schema,
  create: (config, ctx: OutputContext) => new DevoHttpOutput(config, ctx),
};
