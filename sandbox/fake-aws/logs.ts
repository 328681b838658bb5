import { AwsError } from './errors.js';
import { jsonProtocol } from './json-protocol.js';
import { operationsReading, type ParamReader } from './params.js';
import type { RequestContext, ServiceDef } from './protocol.js';
import { decodeToken, encodeToken, lowerBound, Regional, takePage, toMillis } from './util.js';

export interface LogEventInput {
  timestamp: Date | number | string;
  message: string;
}

interface LogEvent {
  timestamp: number;
  seq: number;
  message: string;
  ingestionTime: number;
  stream: string;
}

interface LogStream {
  name: string;
  createdAt: number;
  events: LogEvent[];
}

interface LogGroup {
  name: string;
  createdAt: number;
  retentionInDays: number | undefined;
  streams: Map<string, LogStream>;
  storedBytes: number;
}

const DAY_MS = 86_400_000;
const MAX_BATCH_BYTES = 1_048_576;
const GROUP_NAME = /^[.\-_/#A-Za-z0-9]{1,512}$/;
const STREAM_NAME = /^[^:*]{1,512}$/;

const logsError = (code: string, message: string): AwsError => new AwsError(code, message, 400);
const invalid = (message: string): AwsError => logsError('InvalidParameterException', message);
const missing = (name: string): AwsError =>
  invalid(
    `1 validation error detected: Value null at '${name}' failed to satisfy constraint: Member must not be null`,
  );
const noGroup = (): AwsError =>
  logsError('ResourceNotFoundException', 'The specified log group does not exist.');

/** Position in a group's merged, time-ordered event sequence. */
const after = (e: LogEvent, timestamp: number, seq: number): boolean =>
  e.timestamp > timestamp || (e.timestamp === timestamp && e.seq > seq);

/** CloudWatch Logs over AWS JSON 1.1: groups, streams, PutLogEvents, DescribeLogGroups, FilterLogEvents. */
export class FakeLogs {
  private readonly groups = new Regional(() => new Map<string, LogGroup>());
  private seq = 0;
  /** Monitoring account → the source accounts linked to it (CloudWatch cross-account observability). */
  private readonly links = new Map<string, Set<string>>();
  /**
   * Most events a FilterLogEvents page holds, whatever its `limit` (AWS: pages may be "partially
   * full, or even empty"), so tests can make a backlog of many pages from few events.
   */
  maxPageEvents = 10_000;
  readonly def: ServiceDef;

  constructor(
    private readonly defaultAccountId: string,
    private readonly now: () => number = Date.now,
  ) {
    const op = operationsReading(invalid, missing);
    this.def = {
      name: 'logs',
      protocol: jsonProtocol({ version: '1.1', targets: ['Logs_20140328'] }),
      operations: {
        CreateLogGroup: op((p, ctx) => {
          this.createGroup(ctx.identity.accountId, ctx.region, p.requiredString('logGroupName'));
          return {};
        }),
        CreateLogStream: op((p, ctx) => {
          this.createStream(
            this.group(ctx.identity.accountId, ctx.region, p.requiredString('logGroupName')),
            p.requiredString('logStreamName'),
          );
          return {};
        }),
        PutLogEvents: op((p, ctx) => this.putLogEvents(p, ctx)),
        DescribeLogGroups: op((p, ctx) => this.describeLogGroups(p, ctx)),
        FilterLogEvents: op((p, ctx) => this.filterLogEvents(p, ctx)),
      },
      throttlingError: () => logsError('ThrottlingException', 'Rate exceeded'),
      serverError: (status) =>
        status === 500
          ? new AwsError('InternalServerException', 'Internal server error.', 500)
          : new AwsError('ServiceUnavailableException', 'The service cannot complete the request.', 503),
    };
  }

  // ---- direct API -------------------------------------------------------------------------------

  createLogGroup(region: string, name: string, accountId = this.defaultAccountId): void {
    this.createGroup(accountId, region, name);
  }

  deleteLogGroup(region: string, name: string, accountId = this.defaultAccountId): void {
    if (!this.groups.get(accountId, region).delete(name)) throw noGroup();
  }

  createLogStream(region: string, group: string, stream: string, accountId = this.defaultAccountId): void {
    this.createStream(this.group(accountId, region, group), stream);
  }

  /**
   * Stores events in a stream (created when missing; the group must exist), in any order and at any
   * age: seeding is not bound by PutLogEvents' 24-hour batch and 14-day limits.
   */
  putEvents(
    region: string,
    group: string,
    stream: string,
    events: LogEventInput[],
    accountId = this.defaultAccountId,
  ): void {
    const g = this.group(accountId, region, group);
    const s = g.streams.get(stream) ?? this.createStream(g, stream);
    const now = Date.now();
    for (const e of events) this.insert(g, s, toMillis(e.timestamp), e.message, now);
  }

  /**
   * Links a source account to a monitoring account (cross-account observability): the monitoring
   * account may then read the source account's groups by ARN (logGroupIdentifier).
   */
  linkSourceAccount(monitoringAccountId: string, sourceAccountId: string): void {
    const sources = this.links.get(monitoringAccountId) ?? new Set<string>();
    sources.add(sourceAccountId);
    this.links.set(monitoringAccountId, sources);
  }

  // ---- groups and streams -----------------------------------------------------------------------

  private createGroup(accountId: string, region: string, name: string): LogGroup {
    if (!GROUP_NAME.test(name))
      throw invalid(
        `Value '${name}' at 'logGroupName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\.\\-_/#A-Za-z0-9]+`,
      );
    const groups = this.groups.get(accountId, region);
    if (groups.has(name))
      throw logsError('ResourceAlreadyExistsException', 'The specified log group already exists');
    const group: LogGroup = {
      name,
      createdAt: this.now(),
      retentionInDays: undefined,
      streams: new Map(),
      storedBytes: 0,
    };
    groups.set(name, group);
    return group;
  }

  private createStream(group: LogGroup, name: string): LogStream {
    if (!STREAM_NAME.test(name))
      throw invalid(
        `Value '${name}' at 'logStreamName' failed to satisfy constraint: Member must satisfy regular expression pattern: [^:*]*`,
      );
    if (group.streams.has(name))
      throw logsError('ResourceAlreadyExistsException', 'The specified log stream already exists');
    const stream: LogStream = { name, createdAt: Date.now(), events: [] };
    group.streams.set(name, stream);
    return stream;
  }

  private group(accountId: string, region: string, name: string): LogGroup {
    const group = this.groups.get(accountId, region).get(name);
    if (!group) throw noGroup();
    return group;
  }

  private insert(group: LogGroup, stream: LogStream, timestamp: number, message: string, now: number): void {
    const event: LogEvent = { timestamp, seq: ++this.seq, message, ingestionTime: now, stream: stream.name };
    stream.events.splice(
      lowerBound(stream.events, (e) => after(e, timestamp, event.seq)),
      0,
      event,
    );
    group.storedBytes += Buffer.byteLength(message);
  }

  private putLogEvents(p: ParamReader, ctx: RequestContext): unknown {
    const group = this.group(ctx.identity.accountId, ctx.region, p.requiredString('logGroupName'));
    const stream = group.streams.get(p.requiredString('logStreamName'));
    if (!stream) throw logsError('ResourceNotFoundException', 'The specified log stream does not exist.');
    const raw = p.array('logEvents') ?? [];
    if (raw.length === 0 || raw.length > 10_000) throw invalid('logEvents must hold from 1 to 10000 events.');
    const events = raw.map((e, i) => {
      const r = p.nested(e, `logEvents.${i + 1}`);
      const timestamp =
        r.integer('timestamp', 0, Number.MAX_SAFE_INTEGER) ??
        missingOf(`logEvents.${i + 1}.member.timestamp`);
      const message = r.requiredString('message');
      if (message.length === 0)
        throw invalid(
          `Value at 'logEvents.${i + 1}.member.message' failed to satisfy constraint: Member must have length greater than or equal to 1`,
        );
      return { timestamp, message };
    });
    if (events.some((e, i) => i > 0 && e.timestamp < (events[i - 1]?.timestamp ?? 0))) {
      throw invalid('Log events in a single PutLogEvents request must be in chronological order.');
    }
    if ((events.at(-1)?.timestamp ?? 0) - (events[0]?.timestamp ?? 0) > DAY_MS) {
      throw invalid(
        'The batch of log events in a single PutLogEvents request cannot span more than 24 hours.',
      );
    }
    if (events.reduce((n, e) => n + Buffer.byteLength(e.message) + 26, 0) > MAX_BATCH_BYTES) {
      throw invalid(`The maximum batch size is ${MAX_BATCH_BYTES} bytes.`);
    }
    const now = Date.now();
    const tooOld = now - 14 * DAY_MS;
    const expired = group.retentionInDays === undefined ? -Infinity : now - group.retentionInDays * DAY_MS;
    const tooNew = now + 2 * 3_600_000;
    let tooOldEnd = 0;
    let expiredEnd = 0;
    let tooNewStart: number | undefined;
    events.forEach((e, i) => {
      if (e.timestamp < expired) expiredEnd = i + 1;
      else if (e.timestamp < tooOld) tooOldEnd = i + 1;
      else if (e.timestamp > tooNew) tooNewStart ??= i;
      else this.insert(group, stream, e.timestamp, e.message, now);
    });
    const rejected = {
      ...(tooOldEnd ? { tooOldLogEventEndIndex: tooOldEnd } : {}),
      ...(expiredEnd ? { expiredLogEventEndIndex: expiredEnd } : {}),
      ...(tooNewStart !== undefined ? { tooNewLogEventStartIndex: tooNewStart } : {}),
    };
    return {
      nextSequenceToken: String(this.seq).padStart(56, '0'),
      ...(Object.keys(rejected).length ? { rejectedLogEventsInfo: rejected } : {}),
    };
  }

  private describeLogGroups(p: ParamReader, ctx: RequestContext): unknown {
    const prefix = p.string('logGroupNamePrefix');
    const pattern = p.string('logGroupNamePattern');
    if (prefix !== undefined && pattern !== undefined)
      throw invalid('LogGroup name prefix and LogGroup name pattern are mutually exclusive parameters.');
    const limit = p.integer('limit', 1, 50) ?? 50;
    const query = { prefix, pattern, limit };
    const token = p.string('nextToken');
    const from = token === undefined ? undefined : decodeToken(token, query);
    if (token !== undefined && typeof from !== 'string') throw invalid('The specified nextToken is invalid.');
    const names = [...this.groups.get(ctx.identity.accountId, ctx.region).keys()]
      .filter(
        (n) =>
          (prefix === undefined || n.startsWith(prefix)) &&
          // A case-sensitive substring search (DescribeLogGroups API reference).
          (pattern === undefined || n.includes(pattern)),
      )
      .filter((n) => from === undefined || n > (from as string))
      .sort();
    const page = names.slice(0, limit);
    const groups = this.groups.get(ctx.identity.accountId, ctx.region);
    return {
      logGroups: page.map((name) => {
        const g = groups.get(name) as LogGroup;
        const arn = `arn:aws:logs:${ctx.region}:${ctx.identity.accountId}:log-group:${name}`;
        return {
          logGroupName: name,
          creationTime: g.createdAt,
          ...(g.retentionInDays !== undefined ? { retentionInDays: g.retentionInDays } : {}),
          metricFilterCount: 0,
          arn: `${arn}:*`,
          storedBytes: g.storedBytes,
          logGroupClass: 'STANDARD',
          logGroupArn: arn,
        };
      }),
      ...(names.length > limit ? { nextToken: encodeToken(page.at(-1), query) } : {}),
    };
  }

  private filterLogEvents(p: ParamReader, ctx: RequestContext): unknown {
    const name = p.string('logGroupName');
    const identifier = p.string('logGroupIdentifier');
    if (name !== undefined && identifier !== undefined)
      throw invalid('LogGroup name and LogGroup ARN are mutually exclusive parameters.');
    if (name === undefined && identifier === undefined)
      throw invalid('Either logGroupName or logGroupIdentifier must be given.');
    const group = this.byIdentifier(ctx, (name ?? identifier) as string);
    const streamNames = p.stringArray('logStreamNames');
    const streamPrefix = p.string('logStreamNamePrefix');
    if (streamNames !== undefined && streamPrefix !== undefined) {
      throw invalid('logStreamNames and logStreamNamePrefix are mutually exclusive parameters.');
    }
    if (streamNames !== undefined && (streamNames.length === 0 || streamNames.length > 100))
      throw invalid('logStreamNames must hold from 1 to 100 names.');
    const start = p.integer('startTime', 0, Number.MAX_SAFE_INTEGER);
    const end = p.integer('endTime', 0, Number.MAX_SAFE_INTEGER);
    const limit = Math.min(p.integer('limit', 1, 10_000) ?? 10_000, this.maxPageEvents);
    const matcher = filterMatcher(p.string('filterPattern') ?? '');
    const query = {
      group: group.name,
      streamNames,
      streamPrefix,
      start,
      end,
      pattern: p.string('filterPattern') ?? '',
      limit,
    };
    const token = p.string('nextToken');
    let position: [number, number] = [start ?? -Infinity, -1];
    if (token !== undefined) {
      const decoded = decodeToken(token, query);
      if (!Array.isArray(decoded)) throw invalid('The specified nextToken is invalid.');
      position = decoded as [number, number];
    }
    const streams = [...group.streams.values()].filter(
      (s) =>
        (streamNames === undefined || streamNames.includes(s.name)) &&
        (streamPrefix === undefined || s.name.startsWith(streamPrefix)),
    );
    // Merge the streams' sorted events from the position on, oldest first.
    const cursors = streams.map((s) => ({
      events: s.events,
      i: lowerBound(s.events, (e) => after(e, position[0], position[1])),
    }));
    function* merged(): Generator<LogEvent> {
      for (;;) {
        let best: (typeof cursors)[number] | undefined;
        for (const c of cursors) {
          const e = c.events[c.i];
          if (!e || (end !== undefined && e.timestamp > end)) continue;
          const b = best?.events[best.i];
          if (!b || e.timestamp < b.timestamp || (e.timestamp === b.timestamp && e.seq < b.seq)) best = c;
        }
        if (!best) return;
        const e = best.events[best.i++] as LogEvent;
        if (matcher(e.message)) yield e;
      }
    }
    const { page, more } = takePage(merged(), limit);
    const last = page.at(-1);
    return {
      events: page.map((e) => ({
        logStreamName: e.stream,
        timestamp: e.timestamp,
        message: e.message,
        ingestionTime: e.ingestionTime,
        eventId: `${String(e.timestamp).padStart(20, '0')}${String(e.seq).padStart(36, '0')}`,
      })),
      searchedLogStreams: [],
      ...(more && last ? { nextToken: encodeToken([last.timestamp, last.seq], query) } : {}),
    };
  }

  /**
   * A log group by name or ARN (`arn:aws:logs:REGION:ACCOUNT:log-group:NAME[:*]`). A group of
   * another account is found only through its ARN, and only by a monitoring account the group's
   * account is linked to; otherwise it does not exist for the caller.
   */
  private byIdentifier(ctx: RequestContext, identifier: string): LogGroup {
    const arn = /^arn:aws[a-z-]*:logs:([^:]+):(\d{12}):log-group:([^:]+)(:\*)?$/.exec(identifier);
    if (!arn) return this.group(ctx.identity.accountId, ctx.region, identifier);
    const [, region, owner] = arn as unknown as [string, string, string];
    if (region !== ctx.region) throw noGroup();
    if (owner !== ctx.identity.accountId && !this.links.get(ctx.identity.accountId)?.has(owner))
      throw noGroup();
    return this.group(owner, ctx.region, arn[3] as string);
  }
}

function missingOf(name: string): never {
  throw missing(name);
}

/**
 * Unstructured filter patterns: every term must occur ("quoted phrases" included), `-term`
 * excludes, and `?a ?b` matches either. JSON and space-delimited patterns are refused.
 */
function filterMatcher(pattern: string): (message: string) => boolean {
  const trimmed = pattern.trim();
  if (trimmed === '') return () => true;
  if (trimmed.startsWith('{') || trimmed.startsWith('[')) {
    throw invalid('JSON and space-delimited filter patterns are not available in fake-aws; use terms.');
  }
  const terms = [...trimmed.matchAll(/([?-]?)(?:"([^"]*)"|(\S+))/g)].map((m) => ({
    op: m[1],
    text: m[2] ?? m[3] ?? '',
  }));
  const anyOf = terms.filter((t) => t.op === '?');
  return (message) =>
    terms.every(
      (t) => t.op === '?' || (t.op === '-' ? !message.includes(t.text) : message.includes(t.text)),
    ) &&
    (anyOf.length === 0 || anyOf.some((t) => message.includes(t.text)));
}
