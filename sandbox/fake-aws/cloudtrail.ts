import { AwsError, serverError } from './errors.js';
import { jsonProtocol } from './json-protocol.js';
import { operationsReading, type ParamReader } from './params.js';
import type { RequestContext, ServiceDef } from './protocol.js';
import {
  decodeToken,
  encodeToken,
  isoSeconds,
  lowerBound,
  newUuid,
  Regional,
  takePage,
  toMillis,
} from './util.js';

/** A CloudTrail record as trail files hold it; missing fields get CloudTrail-like defaults. */
export interface CloudTrailRecordInput {
  eventName: string;
  eventSource: string;
  eventTime?: Date | number | string;
  [field: string]: unknown;
}

interface StoredEvent {
  id: string;
  seq: number;
  time: number;
  name: string;
  source: string;
  username: string | undefined;
  accessKeyId: string | undefined;
  readOnly: boolean;
  resources: { ResourceType: string; ResourceName: string }[];
  json: string;
}

/** Newest first; ties broken by insertion, newest first too. */
const before = (a: { time: number; seq: number }, time: number, seq: number): boolean =>
  a.time < time || (a.time === time && a.seq < seq);

const LOOKUP_KEYS = [
  'EventId',
  'EventName',
  'ReadOnly',
  'Username',
  'ResourceType',
  'ResourceName',
  'EventSource',
  'AccessKeyId',
];
const RETENTION_MS = 90 * 86_400_000;

const invalid = (code: string, message: string): AwsError => new AwsError(code, message, 400);

/** CloudTrail LookupEvents over AWS JSON 1.1, with an optional per account+region rate limit. */
export class FakeCloudTrail {
  private readonly events = new Regional<StoredEvent[]>(() => []);
  private readonly buckets = new Regional(() => ({ tokens: 0, at: 0 }));
  private rate: number | undefined;
  private seq = 0;
  readonly def: ServiceDef;

  constructor(private readonly defaultAccountId: string) {
    this.def = {
      name: 'cloudtrail',
      protocol: jsonProtocol({
        version: '1.1',
        targets: ['CloudTrail_20131101', 'com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101'],
      }),
      operations: {
        LookupEvents: operationsReading(
          (message) => invalid('InvalidParameterException', message),
          (name) => invalid('InvalidParameterException', `${name} is required.`),
        )((p, ctx) => this.lookup(p, ctx)),
      },
      throttlingError: () => new AwsError('ThrottlingException', 'Rate exceeded', 429),
      serverError,
    };
  }

  /**
   * Adds events (CloudTrail records: eventName, eventSource, eventTime...). LookupEvents derives
   * its fields (Username, AccessKeyId, Resources...) from them and returns the completed record as
   * CloudTrailEvent. Returns the event ids.
   */
  addEvents(region: string, records: CloudTrailRecordInput[], accountId = this.defaultAccountId): string[] {
    const store = this.events.get(accountId, region);
    return records.map((input) => {
      // CloudTrail times have whole seconds.
      const time =
        Math.floor((input.eventTime === undefined ? Date.now() : toMillis(input.eventTime)) / 1000) * 1000;
      const record = completeRecord(input, time, region, accountId);
      const identity = record.userIdentity as Record<string, unknown>;
      const event: StoredEvent = {
        id: String(record.eventID),
        seq: ++this.seq,
        time,
        name: input.eventName,
        source: input.eventSource,
        username: usernameOf(identity),
        accessKeyId: typeof identity.accessKeyId === 'string' ? identity.accessKeyId : undefined,
        readOnly: record.readOnly === true || record.readOnly === 'true',
        resources: Array.isArray(record.resources)
          ? (record.resources as Record<string, unknown>[]).map((r) => ({
              ResourceType: String(r.type ?? ''),
              ResourceName: String(r.ARN ?? r.arn ?? ''),
            }))
          : [],
        json: JSON.stringify(record),
      };
      store.splice(
        lowerBound(store, (e) => before(e, event.time, event.seq)),
        0,
        event,
      );
      return event.id;
    });
  }

  /**
   * Enforces LookupEvents' quota (default 2 requests/s per account and region) with
   * ThrottlingException, as CloudTrail does; `undefined` turns it off (the default).
   */
  setRateLimit(requestsPerSecond: number | undefined): void {
    this.rate = requestsPerSecond;
  }

  private lookup(p: ParamReader, ctx: RequestContext): unknown {
    const accountId = ctx.identity.accountId;
    this.takeToken(accountId, ctx.region);
    const max = p.raw.MaxResults;
    if (max !== undefined && !(Number.isInteger(max) && (max as number) >= 1 && (max as number) <= 50)) {
      throw invalid('InvalidMaxResultsException', 'MaxResults must be an integer from 1 to 50.');
    }
    const limit = (max as number | undefined) ?? 50;
    const start = p.timestamp('StartTime');
    const end = p.timestamp('EndTime');
    if (start !== undefined && end !== undefined && start > end) {
      throw invalid('InvalidTimeRangeException', 'Start time must be before end time.');
    }
    const category = p.string('EventCategory');
    if (category !== undefined && category !== 'insight')
      throw invalid('InvalidEventCategoryException', `Invalid EventCategory ${category}`);
    const attributes = p.array('LookupAttributes') ?? [];
    if (attributes.length > 1)
      throw invalid('InvalidLookupAttributesException', 'Only one lookup attribute is allowed.');
    const attribute = attributes[0] === undefined ? undefined : p.nested(attributes[0], 'LookupAttributes.1');
    const key = attribute?.requiredString('AttributeKey');
    const value = attribute?.requiredString('AttributeValue');
    if (key !== undefined && !LOOKUP_KEYS.includes(key))
      throw invalid('InvalidLookupAttributesException', `Invalid AttributeKey ${key}`);

    const query = { start, end, key, value, category, limit };
    const token = p.string('NextToken');
    let from = 0;
    const store = this.events.get(accountId, ctx.region);
    if (token !== undefined) {
      const position = decodeToken(token, query) as [number, number] | undefined;
      if (!Array.isArray(position)) throw invalid('InvalidNextTokenException', 'Invalid NextToken');
      from = lowerBound(store, (e) => before(e, position[0], position[1]));
    }
    // Insight events are not modelled: that category is always empty.
    if (category === 'insight') return { Events: [] };
    const oldest = Math.max(Date.now() - RETENTION_MS, start ?? -Infinity);
    function* candidates(): Generator<StoredEvent> {
      for (let i = from; i < store.length; i++) {
        const e = store[i] as StoredEvent;
        if (e.time < oldest) return;
        if ((end === undefined || e.time <= end) && matches(e, key, value)) yield e;
      }
    }
    const { page, more } = takePage(candidates(), limit);
    const last = page.at(-1);
    return {
      Events: page.map((e) => ({
        EventId: e.id,
        EventName: e.name,
        ReadOnly: String(e.readOnly),
        ...(e.accessKeyId ? { AccessKeyId: e.accessKeyId } : {}),
        EventTime: e.time / 1000,
        EventSource: e.source,
        ...(e.username ? { Username: e.username } : {}),
        Resources: e.resources,
        CloudTrailEvent: e.json,
      })),
      ...(more && last ? { NextToken: encodeToken([last.time, last.seq], query) } : {}),
    };
  }

  private takeToken(accountId: string, region: string): void {
    if (this.rate === undefined) return;
    const bucket = this.buckets.get(accountId, region);
    const now = Date.now();
    bucket.tokens = Math.min(this.rate, bucket.tokens + ((now - bucket.at) / 1000) * this.rate);
    bucket.at = now;
    if (bucket.tokens < 1) throw new AwsError('ThrottlingException', 'Rate exceeded', 429);
    bucket.tokens -= 1;
  }
}

function matches(e: StoredEvent, key: string | undefined, value: string | undefined): boolean {
  switch (key) {
    case undefined:
      return true;
    case 'EventId':
      return e.id === value;
    case 'EventName':
      return e.name === value;
    case 'EventSource':
      return e.source === value;
    case 'ReadOnly':
      return String(e.readOnly) === value;
    case 'Username':
      return e.username === value;
    case 'AccessKeyId':
      return e.accessKeyId === value;
    case 'ResourceType':
      return e.resources.some((r) => r.ResourceType === value);
    default:
      return e.resources.some((r) => r.ResourceName === value);
  }
}

/** LookupEvents' Username: the IAM user name, or the session name of an assumed role. */
function usernameOf(identity: Record<string, unknown>): string | undefined {
  if (typeof identity.userName === 'string') return identity.userName;
  if (typeof identity.arn === 'string' && identity.type === 'AssumedRole')
    return identity.arn.split('/').at(-1);
  return typeof identity.principalId === 'string' ? identity.principalId : undefined;
}

function completeRecord(
  input: CloudTrailRecordInput,
  time: number,
  region: string,
  accountId: string,
): Record<string, unknown> {
  const { eventName, eventSource, eventTime: _given, ...rest } = input;
  return {
    eventVersion: '1.09',
    userIdentity: {
      type: 'IAMUser',
      principalId: 'AIDAFAKEAWSPRINCIPAL',
      arn: `arn:aws:iam::${accountId}:user/sandbox`,
      accountId,
      accessKeyId: 'AKIAFAKEAWSCALLER',
      userName: 'sandbox',
    },
    eventTime: isoSeconds(time),
    eventSource,
    eventName,
    awsRegion: region,
    sourceIPAddress: '127.0.0.1',
    userAgent: 'fake-aws',
    requestParameters: null,
    responseElements: null,
    requestID: newUuid(),
    eventID: newUuid(),
    readOnly: /^(Get|List|Describe|Lookup|Head)/.test(eventName),
    eventType: 'AwsApiCall',
    managementEvent: true,
    recipientAccountId: accountId,
    eventCategory: 'Management',
    ...rest,
  };
}
