/** One S3 object a notification announces. */
export interface S3ObjectRef {
  readonly bucket: string;
  /** The object key as stored in S3 (decoded), ready for GetObject. */
  readonly key: string;
  /** Region of the bucket, from the notification. */
  readonly region: string;
  readonly size?: number;
  readonly eTag?: string;
  readonly sequencer?: string;
}

export type S3Notification =
  /** `skipped`: records announcing something other than a new object (ObjectRemoved...), ignored. */
  | { readonly kind: 'objects'; readonly objects: readonly S3ObjectRef[]; readonly skipped: number }
  /** s3:TestEvent, sent when a notification is configured: acknowledge and drop. */
  | { readonly kind: 'test' }
  | { readonly kind: 'invalid'; readonly reason: string };

/**
 * Decodes an object key from a native S3 event notification, which S3 form-encodes
 * (application/x-www-form-urlencoded: `+` is a space, then %XX escapes, UTF-8):
 * `my+file%3D1.json.gz` → `my file=1.json.gz`. Throws URIError on a malformed escape.
 */
export function decodeS3EventKey(key: string): string {
  return decodeURIComponent(key.replaceAll('+', ' '));
}

/**
 * Parses an SQS message body announcing S3 objects, in its three shapes:
 * - native S3 event notification: `{"Records":[{"eventSource":"aws:s3","s3":{...}}, ...]}`, keys
 *   form-encoded (decodeS3EventKey), region from each record's `awsRegion`;
 * - the same through SNS: `{"Type":"Notification","Message":"<the S3 JSON as a string>"}` (an
 *   EventBridge event inside SNS is accepted too);
 * - EventBridge `Object Created` (`source: aws.s3`): bucket `detail.bucket.name`, key
 *   `detail.object.key`, region `region`. EventBridge keys are NOT encoded — S3 puts the key as is
 *   in EventBridge events — so they are used unchanged (decoding them would corrupt keys holding
 *   `+` or `%`).
 * - CloudTrail's own delivery notification (a trail's SNS topic): `{"s3Bucket":"…","s3ObjectKey":["…"]}`,
 *   keys as stored (not encoded); it names no region, so `queueRegion` is used and the S3 client
 *   follows S3's redirect when the bucket is elsewhere.
 * Only object creation is announced as objects; other S3 events (ObjectRemoved, Object Deleted...)
 * are counted in `skipped`. Never throws.
 */
export function parseS3Notification(body: string, queueRegion = ''): S3Notification {
  const doc = parseJson(body);
  if (!isObject(doc)) return invalid('the message body is not a JSON object');
  if (doc.Type !== undefined && typeof doc.TopicArn === 'string') {
    if (doc.Type !== 'Notification') {
      return invalid(`SNS ${String(doc.Type)} message, not a notification (confirm the subscription in SNS)`);
    }
    if (typeof doc.Message !== 'string') return invalid('SNS notification without a string Message');
    const inner = parseJson(doc.Message);
    if (!isObject(inner)) return invalid('the SNS Message is not a JSON object');
    return parseS3Document(inner, 'SNS Message: ', queueRegion);
  }
  return parseS3Document(doc, '', queueRegion);
}

function parseS3Document(doc: Record<string, unknown>, where: string, queueRegion: string): S3Notification {
  if (doc.Event === 's3:TestEvent') return { kind: 'test' };
  if (typeof doc.s3Bucket === 'string' && Array.isArray(doc.s3ObjectKey))
    return parseCloudTrailDelivery(doc, where, queueRegion);
  if (Array.isArray(doc.Records)) return parseNative(doc.Records, where);
  if (doc.source === 'aws.s3' && isObject(doc.detail)) return parseEventBridge(doc, doc.detail, where);
  return invalid(
    `${where}not an S3 notification (expected Records[].s3, an SNS Notification or an EventBridge aws.s3 event)`,
  );
}

function parseNative(records: unknown[], where: string): S3Notification {
  if (records.length === 0) return invalid(`${where}Records is empty`);
  const objects: S3ObjectRef[] = [];
  let skipped = 0;
  for (let i = 0; i < records.length; i++) {
    const record = records[i];
    const at = `${where}Records[${i}]`;
    if (!isObject(record) || !isObject(record.s3)) return invalid(`${at} is not an S3 event record`);
    const eventName = record.eventName;
    if (typeof eventName !== 'string') return invalid(`${at}.eventName is missing`);
    if (!eventName.startsWith('ObjectCreated:')) {
      skipped++;
      continue;
    }
    const bucket = isObject(record.s3.bucket) ? record.s3.bucket.name : undefined;
    const object = isObject(record.s3.object) ? record.s3.object : undefined;
    if (!isNonEmptyString(bucket)) return invalid(`${at}.s3.bucket.name is missing`);
    if (!object || !isNonEmptyString(object.key)) return invalid(`${at}.s3.object.key is missing`);
    if (!isNonEmptyString(record.awsRegion)) return invalid(`${at}.awsRegion is missing`);
    let key: string;
    try {
      key = decodeS3EventKey(object.key);
    } catch {
      return invalid(`${at}.s3.object.key is not valid URL encoding`);
    }
    objects.push(objectRef(bucket, key, record.awsRegion, object.size, object.eTag, object.sequencer));
  }
  return { kind: 'objects', objects, skipped };
}

function parseCloudTrailDelivery(
  doc: Record<string, unknown>,
  where: string,
  queueRegion: string,
): S3Notification {
  const bucket = doc.s3Bucket as string;
  const keys = doc.s3ObjectKey as unknown[];
  if (!bucket) return invalid(`${where}s3Bucket is empty`);
  if (!queueRegion)
    return invalid(`${where}CloudTrail notification names no region and no queue region was given`);
  if (keys.length === 0 || !keys.every(isNonEmptyString))
    return invalid(`${where}s3ObjectKey must be a list of keys`);
  return { kind: 'objects', objects: keys.map((key) => ({ bucket, key, region: queueRegion })), skipped: 0 };
}

function parseEventBridge(
  doc: Record<string, unknown>,
  detail: Record<string, unknown>,
  where: string,
): S3Notification {
  if (doc['detail-type'] !== 'Object Created') return { kind: 'objects', objects: [], skipped: 1 };
  const bucket = isObject(detail.bucket) ? detail.bucket.name : undefined;
  const object = isObject(detail.object) ? detail.object : undefined;
  if (!isNonEmptyString(bucket)) return invalid(`${where}detail.bucket.name is missing`);
  if (!object || !isNonEmptyString(object.key)) return invalid(`${where}detail.object.key is missing`);
  if (!isNonEmptyString(doc.region)) return invalid(`${where}region is missing`);
  const ref = objectRef(bucket, object.key, doc.region, object.size, object.etag, object.sequencer);
  return { kind: 'objects', objects: [ref], skipped: 0 };
}

function objectRef(
  bucket: string,
  key: string,
  region: string,
  size: unknown,
  eTag: unknown,
  sequencer: unknown,
): S3ObjectRef {
  return {
    bucket,
    key,
    region,
    ...(typeof size === 'number' && Number.isFinite(size) ? { size } : {}),
    ...(typeof eTag === 'string' ? { eTag } : {}),
    ...(typeof sequencer === 'string' ? { sequencer } : {}),
  };
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isNonEmptyString(value: unknown): value is string {
  return typeof value === 'string' && value.length > 0;
}

function invalid(reason: string): S3Notification {
  return { kind: 'invalid', reason };
}
