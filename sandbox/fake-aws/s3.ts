import { Readable } from 'node:stream';
import { CHECKSUM_ALGORITHMS, checksum, decodeAwsChunked, type ChecksumAlgorithm } from './checksums.js';
import { AwsError, type AuthProblem } from './errors.js';
import type { EventInput } from './eventbridge.js';
import type { Identity } from './identity.js';
import type { HttpReply, Params, Protocol, RawRequest, RequestContext, ServiceDef } from './protocol.js';
import type { FakeSqs } from './sqs.js';
import { DEFAULT_ACCOUNT_ID, md5Hex, newRequestId, newUuid } from './util.js';
import { escapeXml, parseXml, xmlDocument, type XmlNode } from './xml.js';

const XMLNS = 'http://s3.amazonaws.com/doc/2006-03-01/';
/** Body chunks of GetObject, so large objects stream with backpressure. */
const STREAM_CHUNK = 1 << 20;
/** SenderId of the messages S3 event notifications put on SQS. */
const S3_SENDER_ID = 'AIDAS3EVENTNOTIFICATIONS';

export interface PutObjectOptions {
  contentType?: string;
  contentEncoding?: string;
  metadata?: Record<string, string>;
  /** Store a full-object checksum, returned by GetObject when the SDK asks (ChecksumMode ENABLED). */
  checksumAlgorithm?: ChecksumAlgorithm;
}

export interface QueueNotification {
  /** Events as S3 names them (default `['s3:ObjectCreated:*']`). */
  events?: string[];
  prefix?: string;
  suffix?: string;
  id?: string;
}

/** Where S3 puts its EventBridge events (the EventBridge fake's default bus). */
export type S3EventSink = (accountId: string, region: string, event: EventInput) => void;

interface S3Object {
  key: string;
  body: Buffer;
  etag: string;
  lastModified: number;
  contentType: string;
  headers: Record<string, string>;
  metadata: Record<string, string>;
  checksum: { algorithm: ChecksumAlgorithm; value: string } | undefined;
}

interface QueueConfig {
  id: string;
  queueArn: string;
  events: string[];
  rules: { name: 'prefix' | 'suffix'; value: string }[];
}

interface Bucket {
  name: string;
  region: string;
  accountId: string;
  createdAt: number;
  objects: Map<string, S3Object>;
  denied: Set<string>;
  queues: QueueConfig[];
  eventBridge: boolean;
  sequencer: number;
}

const s3Error = (
  code: string,
  message: string,
  status: number,
  fields: Record<string, string> = {},
): AwsError => new AwsError(code, message, status, { fields });
const noSuchBucket = (bucket: string): AwsError =>
  s3Error('NoSuchBucket', 'The specified bucket does not exist', 404, { BucketName: bucket });
const noSuchKey = (key: string): AwsError =>
  s3Error('NoSuchKey', 'The specified key does not exist.', 404, { Key: key });
const accessDenied = (): AwsError => s3Error('AccessDenied', 'Access Denied', 403);
const invalidArgument = (message: string, name: string, value: string): AwsError =>
  s3Error('InvalidArgument', message, 400, { ArgumentName: name, ArgumentValue: value });

const AUTH_ERRORS: Record<AuthProblem, () => AwsError> = {
  missing: accessDenied,
  malformed: () => s3Error('AuthorizationHeaderMalformed', 'The authorization header is malformed.', 400),
  'unknown-key': () =>
    s3Error('InvalidAccessKeyId', 'The AWS Access Key Id you provided does not exist in our records.', 403),
  'bad-token': () => s3Error('InvalidToken', 'The provided token is malformed or otherwise invalid.', 400),
  expired: () => s3Error('ExpiredToken', 'The provided token has expired.', 400),
};

/** S3's REST-XML API, path-style: the operation comes from the method, the path and the query. */
const s3Protocol: Protocol = {
  parse(req: RawRequest) {
    const [bucketPart = '', ...keyParts] = req.path.slice(1).split('/');
    const Bucket = decodeURIComponent(bucketPart);
    // `/bucket/` (the SDK's path for bucket operations) names no key.
    const rawKey = keyParts.join('/');
    const Key = rawKey ? decodeURIComponent(rawKey) : undefined;
    const params: Params = { Bucket, ...(Key !== undefined ? { Key } : {}) };
    for (const [header, name] of [
      ['range', 'Range'],
      ['x-amz-checksum-mode', 'ChecksumMode'],
      ['x-amz-decoded-content-length', 'ContentLength'],
    ] as const) {
      if (req.headers[header] !== undefined) params[name] = req.headers[header];
    }
    return { operation: s3Operation(req.method, Bucket, Key, req.query), params };
  },
  reply(_operation, output, requestId): HttpReply {
    const reply = output as HttpReply;
    return { ...reply, headers: { ...requestHeaders(requestId), ...reply.headers } };
  },
  errorReply(err, requestId, req): HttpReply {
    const headers = { ...requestHeaders(requestId), ...err.headers };
    if (req.method === 'HEAD') return { status: err.status, headers };
    const fields = Object.entries(err.fields)
      .map(([k, v]) => `<${k}>${escapeXml(v)}</${k}>`)
      .join('');
    const body =
      `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${escapeXml(err.code)}</Code><Message>${escapeXml(err.message)}</Message>` +
      `${fields}<RequestId>${requestId}</RequestId><HostId>${hostId(requestId)}</HostId></Error>`;
    return { status: err.status, headers: { ...headers, 'content-type': 'application/xml' }, body };
  },
  malformedReply(_operation, requestId): HttpReply {
    // Promise more than is sent, then drop the connection: the SDK sees a transfer cut short.
    return {
      status: 200,
      headers: { ...requestHeaders(requestId), 'content-type': 'application/xml', 'content-length': '4096' },
      body: `<?xml version="1.0" encoding="UTF-8"?>\n<NotificationConfiguration xmlns="${XMLNS}"><QueueConfi`,
      cutShort: true,
    };
  },
  authError: (problem) => AUTH_ERRORS[problem](),
  unknownOperation: () =>
    s3Error('NotImplemented', 'A header you provided implies functionality that is not implemented', 501),
};

function s3Operation(
  method: string,
  bucket: string,
  key: string | undefined,
  query: URLSearchParams,
): string {
  if (!bucket) return method === 'GET' ? 'ListBuckets' : 'Unsupported';
  if (key === undefined) {
    if (query.has('notification')) {
      return method === 'PUT'
        ? 'PutBucketNotificationConfiguration'
        : method === 'GET'
          ? 'GetBucketNotificationConfiguration'
          : 'Unsupported';
    }
    if (query.has('location') && method === 'GET') return 'GetBucketLocation';
    if (query.size > 0) return 'Unsupported';
    return (
      { PUT: 'CreateBucket', HEAD: 'HeadBucket', GET: 'ListObjects', DELETE: 'DeleteBucket' }[method] ??
      'Unsupported'
    );
  }
  if (query.has('uploads') || query.has('uploadId') || query.has('tagging') || query.has('acl'))
    return 'Unsupported';
  return (
    { PUT: 'PutObject', GET: 'GetObject', HEAD: 'HeadObject', DELETE: 'DeleteObject' }[method] ??
    'Unsupported'
  );
}

const hostId = (requestId: string): string => Buffer.from(`fake-aws/${requestId}`).toString('base64');
const requestHeaders = (requestId: string): Record<string, string> => ({
  'x-amz-request-id': requestId,
  'x-amz-id-2': hostId(requestId),
});

/** S3 (path-style): buckets with regions, objects with Range, notifications to SQS and EventBridge. */
export class FakeS3 {
  private readonly buckets = new Map<string, Bucket>();
  readonly def: ServiceDef;
  /** Receives "Object Created" events of buckets with EventBridge notifications on. */
  eventSink: S3EventSink | undefined;

  constructor(
    private readonly sqs: FakeSqs,
    private readonly defaultAccountId = DEFAULT_ACCOUNT_ID,
  ) {
    this.def = {
      name: 's3',
      protocol: s3Protocol,
      operations: {
        CreateBucket: (p, ctx) => this.createBucketOp(p, ctx),
        HeadBucket: (p, ctx) => {
          const bucket = this.bucketIn(p, ctx);
          return { status: 200, headers: { 'x-amz-bucket-region': bucket.region } };
        },
        GetBucketLocation: (p) => {
          const bucket = this.bucket(String(p.Bucket));
          const body = xmlDocument(
            'LocationConstraint',
            bucket.region === 'us-east-1' ? '' : bucket.region,
            `xmlns="${XMLNS}"`,
          );
          return { status: 200, headers: { 'content-type': 'application/xml' }, body };
        },
        PutObject: (p, ctx) => this.putObjectOp(p, ctx),
        GetObject: (p, ctx) => this.getObjectOp(p, ctx, true),
        HeadObject: (p, ctx) => this.getObjectOp(p, ctx, false),
        PutBucketNotificationConfiguration: (p, ctx) => {
          const bucket = this.bucketIn(p, ctx);
          this.configureNotifications(
            bucket,
            ctx.raw.body,
            ctx.raw.headers['x-amz-skip-destination-validation'] === 'true',
          );
          return { status: 200, headers: {} };
        },
        GetBucketNotificationConfiguration: (p, ctx) => this.notificationXml(this.bucketIn(p, ctx)),
      },
      throttlingError: () => s3Error('SlowDown', 'Please reduce your request rate.', 503),
      serverError: (status) =>
        status === 500
          ? s3Error('InternalError', 'We encountered an internal error. Please try again.', 500)
          : s3Error('ServiceUnavailable', 'Service is unable to handle request.', 503),
    };
  }

  // ---- direct API -------------------------------------------------------------------------------

  createBucket(region: string, bucket: string, accountId = this.defaultAccountId): void {
    this.create(bucket, region, accountId);
  }

  /** Stores an object as PutObject does, including the event notifications it triggers. */
  putObject(
    bucket: string,
    key: string,
    body: Buffer | string,
    options: PutObjectOptions = {},
  ): { etag: string } {
    const b = this.bucket(bucket);
    const data = typeof body === 'string' ? Buffer.from(body) : body;
    const headers: Record<string, string> = options.contentEncoding
      ? { 'content-encoding': options.contentEncoding }
      : {};
    const algorithm = options.checksumAlgorithm;
    const object = this.store(b, key, data, {
      contentType: options.contentType ?? 'binary/octet-stream',
      headers,
      metadata: options.metadata ?? {},
      checksum: algorithm ? { algorithm, value: checksum(algorithm, data) } : undefined,
    });
    this.notify(b, object, `AWS:${b.accountId}`, newRequestId());
    return { etag: object.etag };
  }

  /** The stored bytes of an object, or undefined. */
  getObject(bucket: string, key: string): Buffer | undefined {
    return this.buckets.get(bucket)?.objects.get(key)?.body;
  }

  /** Makes GetObject/HeadObject/PutObject of this key answer 403 AccessDenied (or stop doing so). */
  setAccessDenied(bucket: string, key: string, denied = true): void {
    const b = this.bucket(bucket);
    if (denied) b.denied.add(key);
    else b.denied.delete(key);
  }

  /** Adds a queue notification, validated as PutBucketNotificationConfiguration does (no test event). */
  addQueueNotification(bucket: string, queueArn: string, options: QueueNotification = {}): void {
    const b = this.bucket(bucket);
    const config: QueueConfig = {
      id: options.id ?? newUuid(),
      queueArn,
      events: options.events ?? ['s3:ObjectCreated:*'],
      rules: [
        ...(options.prefix !== undefined ? [{ name: 'prefix' as const, value: options.prefix }] : []),
        ...(options.suffix !== undefined ? [{ name: 'suffix' as const, value: options.suffix }] : []),
      ],
    };
    this.checkQueueConfig(b, config);
    b.queues.push(config);
  }

  /** Sends this bucket's events to EventBridge ("Object Created" on the default bus). */
  enableEventBridge(bucket: string): void {
    this.bucket(bucket).eventBridge = true;
  }

  // ---- buckets ----------------------------------------------------------------------------------

  private bucket(name: string): Bucket {
    const bucket = this.buckets.get(name);
    if (!bucket) throw noSuchBucket(name);
    return bucket;
  }

  /** The request's bucket, answering like S3 when the request was signed for another region. */
  private bucketIn(p: Params, ctx: RequestContext): Bucket {
    const bucket = this.bucket(String(p.Bucket));
    if (bucket.region !== ctx.region) {
      throw new AwsError(
        'PermanentRedirect',
        'The bucket you are attempting to access must be addressed using the specified endpoint. Please send all future requests to this endpoint.',
        301,
        {
          headers: { 'x-amz-bucket-region': bucket.region },
          fields: { Endpoint: `s3.${bucket.region}.amazonaws.com`, Bucket: bucket.name },
        },
      );
    }
    return bucket;
  }

  private create(name: string, region: string, accountId: string): Bucket {
    if (
      !/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(name) ||
      name.includes('..') ||
      /^\d+\.\d+\.\d+\.\d+$/.test(name)
    ) {
      throw s3Error('InvalidBucketName', 'The specified bucket is not valid.', 400, { BucketName: name });
    }
    const existing = this.buckets.get(name);
    if (existing) {
      if (existing.accountId !== accountId) {
        throw s3Error('BucketAlreadyExists', 'The requested bucket name is not available.', 409, {
          BucketName: name,
        });
      }
      // us-east-1 keeps its legacy answer: re-creating your own bucket succeeds.
      if (existing.region === 'us-east-1' && region === 'us-east-1') return existing;
      throw s3Error(
        'BucketAlreadyOwnedByYou',
        'Your previous request to create the named bucket succeeded and you already own it.',
        409,
        {
          BucketName: name,
        },
      );
    }
    const bucket: Bucket = {
      name,
      region,
      accountId,
      createdAt: Date.now(),
      objects: new Map(),
      denied: new Set(),
      queues: [],
      eventBridge: false,
      sequencer: 0,
    };
    this.buckets.set(name, bucket);
    return bucket;
  }

  private createBucketOp(p: Params, ctx: RequestContext): HttpReply {
    let region = 'us-east-1';
    if (ctx.raw.body.length > 0) {
      const constraint = readXml(ctx.raw.body, 'CreateBucketConfiguration').value('LocationConstraint');
      if (constraint) region = constraint === 'EU' ? 'eu-west-1' : constraint;
    }
    if (region !== ctx.region) {
      throw s3Error(
        'IllegalLocationConstraintException',
        `The ${region} location constraint is incompatible for the region specific endpoint this request was sent to.`,
        400,
      );
    }
    const bucket = this.create(String(p.Bucket), region, ctx.identity.accountId);
    return { status: 200, headers: { location: `/${bucket.name}` } };
  }

  // ---- objects ----------------------------------------------------------------------------------

  private store(
    bucket: Bucket,
    key: string,
    body: Buffer,
    meta: Pick<S3Object, 'contentType' | 'headers' | 'metadata' | 'checksum'>,
  ): S3Object {
    if (key.length === 0 || Buffer.byteLength(key) > 1024)
      throw s3Error('KeyTooLongError', 'Your key is too long', 400);
    const object: S3Object = { key, body, etag: `"${md5Hex(body)}"`, lastModified: Date.now(), ...meta };
    bucket.objects.set(key, object);
    return object;
  }

  private putObjectOp(p: Params, ctx: RequestContext): HttpReply {
    const bucket = this.bucketIn(p, ctx);
    const key = String(p.Key);
    if (bucket.denied.has(key)) throw accessDenied();
    const { headers } = ctx.raw;
    let body = ctx.raw.body;
    let trailers: Record<string, string> = {};
    const encodings = String(headers['content-encoding'] ?? '')
      .split(',')
      .map((e) => e.trim())
      .filter(Boolean);
    if (encodings.includes('aws-chunked')) {
      try {
        ({ data: body, trailers } = decodeAwsChunked(body));
      } catch (err) {
        throw s3Error(
          'IncompleteBody',
          `The request body could not be decoded: ${(err as Error).message}`,
          400,
        );
      }
      const declared = Number(headers['x-amz-decoded-content-length']);
      if (headers['x-amz-decoded-content-length'] !== undefined && declared !== body.length) {
        throw s3Error(
          'IncompleteBody',
          'You did not provide the number of bytes specified by the Content-Length HTTP header',
          400,
        );
      }
    }
    const contentMd5 = headers['content-md5'];
    if (
      typeof contentMd5 === 'string' &&
      Buffer.from(md5Hex(body), 'hex').toString('base64') !== contentMd5
    ) {
      throw s3Error('BadDigest', 'The Content-MD5 you specified did not match what we received.', 400);
    }
    let stored: S3Object['checksum'];
    for (const algorithm of CHECKSUM_ALGORITHMS) {
      const name = `x-amz-checksum-${algorithm.toLowerCase()}`;
      const given = trailers[name] ?? headers[name];
      if (typeof given !== 'string') continue;
      const actual = checksum(algorithm, body);
      if (given !== actual)
        throw s3Error(
          'BadDigest',
          `The ${algorithm} you specified did not match the calculated checksum.`,
          400,
        );
      stored = { algorithm, value: actual };
    }
    const kept: Record<string, string> = {};
    const remaining = encodings.filter((e) => e !== 'aws-chunked').join(',');
    if (remaining) kept['content-encoding'] = remaining;
    for (const h of ['cache-control', 'content-disposition', 'content-language', 'expires']) {
      const v = headers[h];
      if (typeof v === 'string') kept[h] = v;
    }
    const metadata: Record<string, string> = {};
    for (const [h, v] of Object.entries(headers))
      if (h.startsWith('x-amz-meta-') && typeof v === 'string') metadata[h.slice(11)] = v;
    const object = this.store(bucket, key, body, {
      contentType:
        typeof headers['content-type'] === 'string' ? headers['content-type'] : 'binary/octet-stream',
      headers: kept,
      metadata,
      checksum: stored,
    });
    this.notify(bucket, object, `AWS:${ctx.identity.userId}`, ctx.requestId, ctx.identity);
    return {
      status: 200,
      headers: {
        etag: object.etag,
        'x-amz-server-side-encryption': 'AES256',
        ...(stored
          ? {
              [`x-amz-checksum-${stored.algorithm.toLowerCase()}`]: stored.value,
              'x-amz-checksum-type': 'FULL_OBJECT',
            }
          : {}),
      },
    };
  }

  private getObjectOp(p: Params, ctx: RequestContext, withBody: boolean): HttpReply {
    const bucket = this.bucketIn(p, ctx);
    const key = String(p.Key);
    if (bucket.denied.has(key)) throw accessDenied();
    const object = bucket.objects.get(key);
    if (!object) throw noSuchKey(key);
    const { headers } = ctx.raw;
    const notModified = conditional(object, headers);
    if (notModified) return notModified;

    const size = object.body.length;
    const range = parseRange(typeof headers.range === 'string' ? headers.range : undefined, size);
    if (range === 'unsatisfiable') {
      throw s3Error('InvalidRange', 'The requested range is not satisfiable', 416, {
        RangeRequested: String(headers.range),
        ActualObjectSize: String(size),
      });
    }
    const [start, end] = range ?? [0, size - 1];
    const out: Record<string, string> = {
      'content-type': object.contentType,
      'content-length': String(Math.max(0, end - start + 1)),
      etag: object.etag,
      'last-modified': new Date(object.lastModified).toUTCString(),
      'accept-ranges': 'bytes',
      'x-amz-server-side-encryption': 'AES256',
      ...object.headers,
    };
    for (const [k, v] of Object.entries(object.metadata)) out[`x-amz-meta-${k}`] = v;
    if (range) out['content-range'] = `bytes ${start}-${end}/${size}`;
    // Full-object checksums only describe whole-object reads; S3 leaves them out of ranged ones.
    if (!range && object.checksum && headers['x-amz-checksum-mode'] === 'ENABLED') {
      out[`x-amz-checksum-${object.checksum.algorithm.toLowerCase()}`] = object.checksum.value;
      out['x-amz-checksum-type'] = 'FULL_OBJECT';
    }
    const reply: HttpReply = { status: range ? 206 : 200, headers: out };
    if (withBody) reply.body = Readable.from(chunks(object.body, start, end + 1));
    return reply;
  }

  // ---- notifications ----------------------------------------------------------------------------

  private configureNotifications(bucket: Bucket, body: Buffer, skipValidation: boolean): void {
    const root = readXml(body, 'NotificationConfiguration');
    if (root.all('TopicConfiguration').length || root.all('CloudFunctionConfiguration').length) {
      throw invalidArgument(
        'Unable to validate the following destination configurations',
        'SNS/Lambda destination',
        'not available in fake-aws',
      );
    }
    const configs: QueueConfig[] = root.all('QueueConfiguration').map((q) => ({
      id: q.value('Id') || newUuid(),
      queueArn: q.value('Queue') ?? '',
      events: q.all('Event').map((e) => e.text.trim()),
      rules: (q.child('Filter')?.child('S3Key')?.all('FilterRule') ?? []).map((r) => {
        const name = (r.value('Name') ?? '').toLowerCase();
        if (name !== 'prefix' && name !== 'suffix')
          throw invalidArgument('filter rule name must be either prefix or suffix', 'FilterRule', name);
        return { name, value: r.value('Value') ?? '' };
      }),
    }));
    if (!skipValidation) for (const config of configs) this.checkQueueConfig(bucket, config);
    bucket.queues = configs;
    bucket.eventBridge = root.child('EventBridgeConfiguration') !== undefined;
    if (skipValidation) return;
    // S3 announces a new destination with a test event, which consumers must skip.
    for (const arn of new Set(configs.map((c) => c.queueArn))) {
      const requestId = newRequestId();
      const testEvent = {
        Service: 'Amazon S3',
        Event: 's3:TestEvent',
        Time: new Date().toISOString(),
        Bucket: bucket.name,
        RequestId: requestId,
        HostId: hostId(requestId),
      };
      this.sqs.sendToArn(arn, JSON.stringify(testEvent), S3_SENDER_ID);
    }
  }

  private checkQueueConfig(bucket: Bucket, config: QueueConfig): void {
    const unreachable = (reason: string): AwsError =>
      invalidArgument(
        `Unable to validate the following destination configurations: ${reason}`,
        config.queueArn,
        'Permissions on the destination queue do not allow S3 to publish notifications from this bucket',
      );
    const queue = this.sqs.queueInfo(config.queueArn);
    if (!queue) throw unreachable('the queue does not exist');
    if (queue.region !== bucket.region) throw unreachable('the queue must be in the bucket region');
    if (queue.fifo) throw unreachable('FIFO queues are not supported as S3 notification destinations');
    if (config.events.length === 0) throw invalidArgument('At least one event must be given', 'Event', '');
    for (const event of config.events) {
      if (
        !/^s3:(ObjectCreated|ObjectRemoved|ObjectRestore|ObjectTagging|ObjectAcl|Replication|LifecycleExpiration|LifecycleTransition|IntelligentTiering|ReducedRedundancyLostObject)(:[A-Za-z*]+)*$/.test(
          event,
        )
      ) {
        throw invalidArgument('The event is not supported for notifications', event, event);
      }
    }
  }

  private notificationXml(bucket: Bucket): HttpReply {
    const body = xmlDocument(
      'NotificationConfiguration',
      {
        QueueConfiguration: bucket.queues.map((q) => ({
          Id: q.id,
          Queue: q.queueArn,
          Event: q.events,
          ...(q.rules.length
            ? { Filter: { S3Key: { FilterRule: q.rules.map((r) => ({ Name: r.name, Value: r.value })) } } }
            : {}),
        })),
        ...(bucket.eventBridge ? { EventBridgeConfiguration: {} } : {}),
      },
      `xmlns="${XMLNS}"`,
    );
    return { status: 200, headers: { 'content-type': 'application/xml' }, body };
  }

  /** Sends the ObjectCreated:Put notifications of a stored object, exactly as S3 writes them. */
  private notify(
    bucket: Bucket,
    object: S3Object,
    principalId: string,
    requestId: string,
    requester?: Identity,
  ): void {
    if (bucket.queues.length === 0 && !bucket.eventBridge) return;
    const sequencer = (Date.now() * 1000 + (bucket.sequencer++ % 1000))
      .toString(16)
      .toUpperCase()
      .padStart(18, '0');
    const eventName = 'ObjectCreated:Put';
    const eventTime = new Date(object.lastModified).toISOString();
    const etag = object.etag.slice(1, -1);
    for (const config of bucket.queues) {
      if (!config.events.some((e) => matchesEvent(e, eventName))) continue;
      if (
        !config.rules.every((r) =>
          r.name === 'prefix' ? object.key.startsWith(r.value) : object.key.endsWith(r.value),
        )
      )
        continue;
      const record = {
        eventVersion: '2.1',
        eventSource: 'aws:s3',
        awsRegion: bucket.region,
        eventTime,
        eventName,
        userIdentity: { principalId },
        requestParameters: { sourceIPAddress: '127.0.0.1' },
        responseElements: { 'x-amz-request-id': requestId, 'x-amz-id-2': hostId(requestId) },
        s3: {
          s3SchemaVersion: '1.0',
          configurationId: config.id,
          bucket: {
            name: bucket.name,
            ownerIdentity: { principalId: ownerId(bucket.accountId) },
            arn: `arn:aws:s3:::${bucket.name}`,
          },
          object: { key: notificationKey(object.key), size: object.body.length, eTag: etag, sequencer },
        },
      };
      this.sqs.sendToArn(config.queueArn, JSON.stringify({ Records: [record] }), S3_SENDER_ID);
    }
    if (bucket.eventBridge && this.eventSink) {
      this.eventSink(bucket.accountId, bucket.region, {
        'detail-type': 'Object Created',
        source: 'aws.s3',
        time: object.lastModified,
        resources: [`arn:aws:s3:::${bucket.name}`],
        detail: {
          version: '0',
          bucket: { name: bucket.name },
          object: { key: object.key, size: object.body.length, etag, sequencer },
          'request-id': requestId,
          requester: requester?.accountId ?? bucket.accountId,
          'source-ip-address': '127.0.0.1',
          reason: 'PutObject',
        },
      });
    }
  }
}

// ---- helpers ------------------------------------------------------------------------------------

function readXml(body: Buffer, rootName: string): XmlNode {
  let root: XmlNode;
  try {
    root = parseXml(body.toString('utf8'));
  } catch {
    throw s3Error(
      'MalformedXML',
      'The XML you provided was not well-formed or did not validate against our published schema',
      400,
    );
  }
  if (root.name !== rootName) {
    throw s3Error(
      'MalformedXML',
      'The XML you provided was not well-formed or did not validate against our published schema',
      400,
    );
  }
  return root;
}

/** `s3:ObjectCreated:*` matches `ObjectCreated:Put`; otherwise names must be equal. */
function matchesEvent(configured: string, eventName: string): boolean {
  const name = configured.replace(/^s3:/, '');
  return name.endsWith(':*') ? eventName.startsWith(name.slice(0, -1)) : name === eventName;
}

/** Keys in notifications are URL-encoded as S3 does it: form encoding (space → +), slashes kept. */
export function notificationKey(key: string): string {
  return encodeURIComponent(key)
    .replace(/%2F/g, '/')
    .replace(/%20/g, '+')
    .replace(/[!'()~]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** A stable canonical-user-like owner id per account. */
const ownerId = (accountId: string): string => `A${md5Hex(accountId).slice(0, 13).toUpperCase()}`;

/** [start, end] inclusive, undefined for no/ignored Range, or 'unsatisfiable'. */
function parseRange(
  header: string | undefined,
  size: number,
): [number, number] | undefined | 'unsatisfiable' {
  const match = header === undefined ? null : /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  // S3 serves the whole object for syntactically invalid or multi-range requests.
  if (!match || (match[1] === '' && match[2] === '')) return undefined;
  if (match[1] === '') {
    const suffix = Number(match[2]);
    if (suffix === 0 || size === 0) return 'unsatisfiable';
    return [Math.max(0, size - suffix), size - 1];
  }
  const start = Number(match[1]);
  const end = match[2] === '' ? size - 1 : Math.min(Number(match[2]), size - 1);
  if (start >= size) return 'unsatisfiable';
  if (end < start) return undefined;
  return [start, end];
}

/** If-Match / If-None-Match / If-(Un)Modified-Since, as S3 evaluates them. */
function conditional(object: S3Object, headers: RawRequest['headers']): HttpReply | undefined {
  const ifMatch = headers['if-match'];
  const ifNoneMatch = headers['if-none-match'];
  const modifiedSince = headers['if-modified-since'];
  const unmodifiedSince = headers['if-unmodified-since'];
  const lastModifiedS = Math.floor(object.lastModified / 1000) * 1000;
  const etagIn = (list: string): boolean =>
    list.split(',').some((e) => e.trim() === '*' || e.trim() === object.etag);
  if (
    typeof ifMatch === 'string'
      ? !etagIn(ifMatch)
      : typeof unmodifiedSince === 'string' && lastModifiedS > Date.parse(unmodifiedSince)
  ) {
    throw s3Error(
      'PreconditionFailed',
      'At least one of the pre-conditions you specified did not hold',
      412,
      { Condition: ifMatch ? 'If-Match' : 'If-Unmodified-Since' },
    );
  }
  if (
    typeof ifNoneMatch === 'string'
      ? etagIn(ifNoneMatch)
      : typeof modifiedSince === 'string' && lastModifiedS <= Date.parse(modifiedSince)
  ) {
    return {
      status: 304,
      headers: { etag: object.etag, 'last-modified': new Date(object.lastModified).toUTCString() },
    };
  }
  return undefined;
}

function* chunks(body: Buffer, start: number, end: number): Generator<Buffer> {
  for (let pos = start; pos < end; pos += STREAM_CHUNK)
    yield body.subarray(pos, Math.min(end, pos + STREAM_CHUNK));
}
