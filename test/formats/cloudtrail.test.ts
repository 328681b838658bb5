import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { gzipSync } from 'node:zlib';
import { isCollectorError } from '../../src/core/errors.js';
import {
  CloudTrailLogSplitter,
  DEFAULT_CLOUDTRAIL_KEY_FILTER,
  compactCloudTrailEvent,
  type CloudTrailRecord,
} from '../../src/formats/cloudtrail.js';
import { decompress } from '../../src/formats/compression.js';
import {
  chunksOf,
  expectedRecords as expected,
  fixture,
  forEverySplit,
  random,
  runParser,
  source,
} from './helpers.js';

const FILE = fixture('cloudtrail-file.json.txt');
const RECORDS = (JSON.parse(FILE.toString()) as { Records: Record<string, unknown>[] }).Records;

function split(chunks: Buffer[]): CloudTrailRecord[] {
  return runParser(new CloudTrailLogSplitter(), chunks);
}

/** Records emitted before the error, and the error (thrown by push or end). */
function splitUntilError(chunks: Buffer[]): { records: CloudTrailRecord[]; error: unknown } {
  const splitter = new CloudTrailLogSplitter({ source: 's3://trail-bucket/file.json.gz' });
  const records: CloudTrailRecord[] = [];
  try {
    for (const chunk of chunks) records.push(...splitter.push(chunk));
    records.push(...splitter.end());
  } catch (error) {
    return { records, error };
  }
  return { records, error: undefined };
}

function assertCorruptAt(error: unknown, offset: number, message: RegExp): void {
  assert.ok(isCollectorError(error, 'OBJECT_CORRUPT'), `expected OBJECT_CORRUPT, got ${String(error)}`);
  assert.equal(error.details.offset, offset);
  assert.match(error.message, message);
  assert.match(error.message, /^s3:\/\/trail-bucket\/file\.json\.gz: /);
}

/** A record whose strings hold what trips naive scanners. */
const TRICKY = {
  eventVersion: '1.09',
  eventSource: 'lambda.amazonaws.com',
  eventName: 'Invoke',
  awsRegion: 'ap-southeast-2',
  recipientAccountId: '111122223333',
  requestParameters: {
    braces: '{"Records":[{}]} ] } [ {',
    quotes: 'say "hi" \\ back\\slash \\"',
    escapes: 'tab\there\nnewline\r\u0001 \u2028 /slash',
    unicode: 'café 日本語 😀 Ωμέγα',
    keyLike: '","eventSource":"evil.amazonaws.com',
    nested: { eventSource: 'nested.amazonaws.com', deep: [[[{ a: [] }]], {}, [], null, true, false] },
    numbers: [0, -1, 1.5, -2.25e-10, 3e21, 123456789012345, 0.0001, 1e5, -1e-3],
  },
  responseElements: null,
};

describe('CloudTrailLogSplitter', () => {
  test('the fixture: one compact record per element, with the tagging fields', () => {
    const records = split([FILE]);
    assert.deepEqual(records, expected(RECORDS));
    assert.equal(records[0]?.eventSource, 'ec2.amazonaws.com');
    assert.equal(records[1]?.recipientAccountId, '210987654321');
  });

  test('the fixture split at every byte position', () => {
    forEverySplit(FILE, split, expected(RECORDS));
  });

  test('pretty-printed, Records after other keys, tricky strings and unicode: any chunking', () => {
    const doc = {
      digestLike: { Records: [{ notARecord: true }], logFiles: [] },
      other: [1, 'two', { Records: 'no' }],
      Records: [TRICKY, ...RECORDS, { eventSource: 'x.amazonaws.com', eventName: 'Y' }],
      after: 'the end',
    };
    const input = Buffer.from(JSON.stringify(doc, null, '\t').replace(/\n/g, '\r\n'));
    const want = expected(doc.Records as Record<string, unknown>[]);
    forEverySplit(input, split, want);
    const tricky = split([input])[0] as CloudTrailRecord;
    assert.equal(tricky.eventSource, 'lambda.amazonaws.com');
    assert.equal(tricky.awsRegion, 'ap-southeast-2');
    assert.ok(!tricky.json.includes('\n') && !tricky.json.includes('\r'));
    assert.deepEqual(JSON.parse(tricky.json), TRICKY);
  });

  test('escaped keys and values are decoded for the tagging fields; the last duplicate wins', () => {
    const input = Buffer.from(
      '{"Records":[{"event\\u0053ource":"s3.amazonaws.com","eventName":"A\\"B","eventName":"C","awsRegion":1}]}',
    );
    const [record] = split([input]);
    assert.equal(record?.eventSource, 's3.amazonaws.com');
    assert.equal(record?.eventName, 'C');
    assert.equal(record?.awsRegion, undefined, 'a non-string value is not a region');
    assert.equal(record?.json, input.toString().slice(12, -2));
  });

  test('plain (all ASCII) only for records without a non-ASCII or invalid byte', () => {
    const bytes = Buffer.concat([
      Buffer.from('{"Records":[{"a":"ascii"},{"a":"café"},{"a":"'),
      Buffer.from([0x80]),
      Buffer.from(String.raw`"},{"a":"\u00e9 escaped"}]}`),
    ]);
    const records = split(chunksOf(bytes, 7));
    assert.deepEqual(
      records.map((r) => r.plain),
      [true, false, false, true],
    );
    assert.equal(records[2]!.json.length, '{"a":"?"}'.length, 'the invalid byte is one character');
  });

  test('empty Records, and several Records arrays', () => {
    assert.deepEqual(split([Buffer.from('{"Records":[]}')]), []);
    assert.deepEqual(split([Buffer.from(' { "Records" : [ ] } \n')]), []);
    const two = split([Buffer.from('{"Records":[{"a":1}],"x":{},"Records":[{"b":2}]}')]);
    assert.deepEqual(
      two.map((r) => r.json),
      ['{"a":1}', '{"b":2}'],
    );
  });

  test('a digest file (no Records) is refused with a clear error', () => {
    const digest = Buffer.from(
      JSON.stringify({
        awsAccountId: '123456789012',
        digestStartTime: '2026-11-20T17:00:00Z',
        digestEndTime: '2026-11-20T18:00:00Z',
        logFiles: [{ s3Bucket: 'b', s3Object: 'k', hashValue: 'ab' }],
      }),
    );
    const { records, error } = splitUntilError([digest]);
    assert.deepEqual(records, []);
    assertCorruptAt(error, digest.length, /no top-level "Records" array.*digest/);
  });

  test('truncation: the records before are kept, then OBJECT_CORRUPT at the end offset', () => {
    const cut = FILE.length - 100;
    for (const chunks of [[FILE.subarray(0, cut)], chunksOf(FILE.subarray(0, cut), 50)]) {
      const { records, error } = splitUntilError(chunks);
      assert.deepEqual(records, expected(RECORDS.slice(0, 1)));
      assertCorruptAt(error, cut, /truncated: the JSON document ends inside record #2/);
    }
    const whole = FILE.toString().trimEnd().length;
    const { error } = splitUntilError([FILE.subarray(0, whole - 1)]);
    assertCorruptAt(error, whole - 1, /truncated: the JSON document ends inside the document/);
  });

  test('invalid JSON midway: records before it are returned, the error names the byte', () => {
    const text = FILE.toString();
    const at = text.indexOf('"eventVersion":"1.08"') + '"eventVersion":'.length;
    const cases: [string, RegExp][] = [
      [`${text.slice(0, at)}1.08.1${text.slice(at + 6)}`, /expected ',' or '}', got '\.'/],
      [`${text.slice(0, at)}"a\nb"${text.slice(at + 6)}`, /control character byte 0x0a inside a string/],
      [`${text.slice(0, at)}"\\x"${text.slice(at + 6)}`, /invalid escape \\x/],
      [`${text.slice(0, at)}"\\u12G4"${text.slice(at + 6)}`, /'G' in a \\u escape/],
      [`${text.slice(0, at)}nul${text.slice(at + 6)}`, /','.* in a literal/],
      [`${text.slice(0, at)}01${text.slice(at + 6)}`, /'1'/],
      [`${text.slice(0, at)}]${text.slice(at + 6)}`, /expected a value, got '\]'/],
    ];
    for (const [input, message] of cases) {
      const bytes = Buffer.from(input);
      const { records, error } = splitUntilError([bytes]);
      assert.deepEqual(records, expected(RECORDS.slice(0, 1)), String(message));
      assert.ok(isCollectorError(error, 'OBJECT_CORRUPT'));
      assert.match(error.message, message);
      const offset = error.details.offset as number;
      assert.ok(offset >= at && offset <= at + 6, `offset ${offset} near ${at}`);
      // The same error, with the same offset, whatever the chunking.
      const again = splitUntilError(chunksOf(bytes, 13));
      assert.deepEqual(again.records, records);
      assert.equal((again.error as { details: { offset: number } }).details.offset, offset);
    }
  });

  test('the error is deferred to the next call, after the records of the chunk', () => {
    const splitter = new CloudTrailLogSplitter();
    const bytes = Buffer.from('{"Records":[{"a":1},{"b":2}x');
    assert.deepEqual(
      splitter.push(bytes).map((r) => r.json),
      ['{"a":1}', '{"b":2}'],
    );
    assert.throws(
      () => splitter.push(Buffer.from(']}')),
      (err: unknown) => isCollectorError(err, 'OBJECT_CORRUPT'),
    );
    assert.throws(() => splitter.end(), /after|expected/);
    assert.equal(splitter.records, 2);
  });

  test('a record longer than maxRecordBytes is OBJECT_CORRUPT, not buffered', () => {
    const splitter = new CloudTrailLogSplitter({ maxRecordBytes: 1000 });
    assert.equal(splitter.push(Buffer.from('{"Records":[{"a":1},{"b":"')).length, 1);
    assert.throws(
      () => {
        for (let i = 0; i < 20; i++) splitter.push(Buffer.alloc(100, 0x61));
      },
      (err: unknown) =>
        isCollectorError(err, 'OBJECT_CORRUPT') && /record #2 is longer than 1000 bytes/.test(err.message),
    );
  });

  test('shapes that are not CloudTrail logs', () => {
    const cases: [string, RegExp][] = [
      ['', /empty: no JSON document/],
      ['  \n', /empty: no JSON document/],
      ['[{"Records":[]}]', /not a JSON object/],
      ['"Records"', /not a JSON object/],
      ['{"Records":{"a":1}}', /"Records" is not an array/],
      ['{"Records":[{"a":1},"x"]}', /record #2 is not a JSON object/],
      ['{"Records":[]} {}', /after the end of the document/],
      ['{"Records":[],}', /expected a key string/],
      ['{"Records" []}', /expected ':'/],
    ];
    for (const [input, message] of cases) {
      const { error } = splitUntilError([Buffer.from(input)]);
      assert.ok(isCollectorError(error, 'OBJECT_CORRUPT'), input);
      assert.match(error.message, message, input);
    }
  });

  test('random corruptions: the same records as JSON.parse, or OBJECT_CORRUPT — nothing else', () => {
    const next = random(2024);
    const base = Buffer.from(JSON.stringify({ Records: [TRICKY, ...RECORDS] }));
    const bytes = '{}[]",:\\ \n0-.eE+tfnulx\u0001\u00ffa';
    let valid = 0;
    for (let round = 0; round < 400; round++) {
      const input = Buffer.from(base);
      for (let k = 0; k < 1 + Math.floor(next() * 3); k++) {
        input[Math.floor(next() * input.length)] = bytes.charCodeAt(Math.floor(next() * bytes.length));
      }
      let parsed: unknown;
      try {
        parsed = JSON.parse(input.toString('utf8'));
      } catch {
        parsed = undefined;
      }
      const { records, error } = splitUntilError(chunksOf(input, 1 + Math.floor(next() * 500)));
      const doc = parsed as { Records?: unknown } | undefined;
      const shaped =
        typeof doc === 'object' &&
        doc !== null &&
        !Array.isArray(doc) &&
        Array.isArray(doc.Records) &&
        doc.Records.every((r) => typeof r === 'object' && r !== null && !Array.isArray(r));
      if (shaped) {
        valid++;
        assert.equal(error, undefined, `round ${round}: ${String(error)}`);
        assert.deepEqual(
          records.map((r) => JSON.parse(r.json) as unknown),
          doc.Records as unknown[],
          `round ${round}`,
        );
      } else {
        assert.ok(isCollectorError(error, 'OBJECT_CORRUPT'), `round ${round}: expected OBJECT_CORRUPT`);
        for (const r of records) JSON.parse(r.json);
      }
    }
    assert.ok(valid > 20, `only ${valid} valid corruptions`);
  });

  test('many records through gzip; truncated gzip keeps the earlier records', async () => {
    const records = Array.from({ length: 5000 }, (_, i) => ({ ...TRICKY, eventID: `id-${i}` }));
    const body = Buffer.from(JSON.stringify({ Records: records }));
    // Two gzip members, as a concatenated upload would give.
    const half = Math.floor(body.length / 2);
    const gz = Buffer.concat([gzipSync(body.subarray(0, half)), gzipSync(body.subarray(half))]);

    const all = await splitStream(chunksOf(gz, 16_384));
    assert.equal(all.error, undefined);
    assert.equal(all.records.length, 5000);
    assert.deepEqual(JSON.parse(all.records[4999]?.json as string), records[4999]);

    const truncated = await splitStream(chunksOf(gz.subarray(0, gz.length - 200), 16_384));
    assert.ok(isCollectorError(truncated.error, 'OBJECT_CORRUPT'));
    assert.match((truncated.error as Error).message, /truncated gzip data/);
    assert.ok(truncated.records.length > 4000 && truncated.records.length < 5000);
    truncated.records.forEach((r, i) => assert.equal(r.json, JSON.stringify(records[i])));
  });
});

async function splitStream(chunks: Buffer[]): Promise<{ records: CloudTrailRecord[]; error: unknown }> {
  const splitter = new CloudTrailLogSplitter();
  const records: CloudTrailRecord[] = [];
  try {
    for await (const chunk of decompress(source(chunks))) records.push(...splitter.push(chunk));
    records.push(...splitter.end());
  } catch (error) {
    return { records, error };
  }
  return { records, error: undefined };
}

describe('compactCloudTrailEvent (LookupEvents CloudTrailEvent)', () => {
  test('gives the same compact form and fields as a record from S3', () => {
    const event = JSON.stringify(TRICKY, null, 2);
    const record = compactCloudTrailEvent(event);
    assert.deepEqual(record, expected([TRICKY])[0]);
  });

  test('invalid or non-object events throw OBJECT_CORRUPT naming the event', () => {
    for (const event of ['{"a":', '{"a":1} x', '[1]', '"text"', '']) {
      assert.throws(
        () => compactCloudTrailEvent(event, 'LookupEvents event abc'),
        (err: unknown) =>
          isCollectorError(err, 'OBJECT_CORRUPT') && err.message.startsWith('LookupEvents event abc: '),
        event,
      );
    }
  });
});

describe('DEFAULT_CLOUDTRAIL_KEY_FILTER', () => {
  const filter = new RegExp(DEFAULT_CLOUDTRAIL_KEY_FILTER);
  const log =
    'AWSLogs/123456789012/CloudTrail/eu-west-1/2026/11/20/123456789012_CloudTrail_eu-west-1_20261120T1805Z_Ab12Cd34Ef56Gh78.json.gz';

  test('matches trail logs: plain, with a key prefix, organization trails', () => {
    const native = JSON.parse(fixture('s3-notification-native.json.txt').toString()) as {
      Records: { s3: { object: { key: string } } }[];
    };
    assert.ok(filter.test(native.Records[0]?.s3.object.key as string));
    assert.ok(filter.test(log));
    assert.ok(filter.test(`my/prefix/${log}`));
    assert.ok(
      filter.test(
        'AWSLogs/o-aa111bb222/123456789012/CloudTrail/us-gov-west-1/2026/01/02/123456789012_CloudTrail_us-gov-west-1_20260102T0000Z_x1.json.gz',
      ),
    );
  });

  test('does not match digests, Insights, other logs', () => {
    for (const key of [
      'AWSLogs/123456789012/CloudTrail-Digest/eu-west-1/2026/11/20/123456789012_CloudTrail-Digest_eu-west-1_trail_eu-west-1_20261120T180500Z.json.gz',
      'AWSLogs/123456789012/CloudTrail-Insight/eu-west-1/2026/11/20/123456789012_CloudTrailInsight_eu-west-1_20261120T1805Z_Ab12.json.gz',
      'AWSLogs/123456789012/vpcflowlogs/eu-west-1/2026/11/20/123456789012_vpcflowlogs_eu-west-1_fl-0a1b_20261120T1805Z_1a2b.log.gz',
      `${log}.tmp`,
      `xAWSLogs/${log.slice('AWSLogs/'.length)}`,
    ]) {
      assert.ok(!filter.test(key), key);
    }
  });
});
