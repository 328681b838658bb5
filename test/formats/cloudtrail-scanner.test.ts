import { isAscii } from 'node:buffer';
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { isCollectorError } from '../../src/core/errors.js';
import { MAX_JSON_DEPTH } from '../../src/formats/json-scanner.js';
import {
  CloudTrailLogSplitter,
  compactCloudTrailEvent,
  type CloudTrailRecord,
} from '../../src/formats/cloudtrail.js';
import { chunksOf, expectedRecords as expected, forEverySplit, runParser } from './helpers.js';

// The scanner skips string contents four bytes at a time, takes shortcuts for compact JSON and
// cuts the tagging fields out of the record's text: these tests aim at the edges of those paths.

function split(chunks: Buffer[]): CloudTrailRecord[] {
  return runParser(new CloudTrailLogSplitter(), chunks);
}

/** The error of splitting `chunks`, which must fail. */
function failure(chunks: Buffer[]): { offset: number; message: string } {
  try {
    split(chunks);
  } catch (error) {
    assert.ok(isCollectorError(error, 'OBJECT_CORRUPT'), String(error));
    return { offset: error.details.offset as number, message: error.message };
  }
  assert.fail('no error');
}

/** The same error, at the same offset, however the input is cut in two or in small pieces. */
function assertFailsAt(input: Buffer, offset: number, message: RegExp): void {
  const whole = failure([input]);
  assert.equal(whole.offset, offset, `${input.toString('latin1')}: ${whole.message}`);
  assert.match(whole.message, message);
  for (let at = 0; at <= input.length; at++) {
    assert.deepEqual(failure([input.subarray(0, at), input.subarray(at)]), whole, `split at ${at}`);
  }
  for (let size = 1; size <= 5; size++) assert.deepEqual(failure(chunksOf(input, size)), whole);
}

/** A one-record file with `content` (the raw bytes inside a JSON string) as eventName and as another value. */
function recordWith(content: Buffer, pad: number): Buffer {
  return Buffer.concat([
    Buffer.from(`{"Records":[{"p":"${'x'.repeat(pad)}","eventName":"`),
    content,
    Buffer.from('","v":"'),
    content,
    Buffer.from('"}]}'),
  ]);
}

describe('CloudTrailLogSplitter: string contents', () => {
  // Raw string contents, as bytes, that a valid document may hold.
  const valid = ['\\"', '\\\\', '\\/', '\\n', '\\u00e9', '\\uD83D\\uDE00', 'é', '😀', '\u007f', '~'].map(
    (s) => Buffer.from(s),
  );
  // Invalid UTF-8, a stray byte or a lead byte cut short: U+FFFD, one character for one byte.
  valid.push(Buffer.from([0xff]), Buffer.from([0xc3]));

  test('each special sequence at each position and word alignment: same text, fields decoded', () => {
    for (const special of valid) {
      for (let length = 0; length <= 6; length++) {
        for (let at = 0; at <= length; at++) {
          const content = Buffer.concat([Buffer.alloc(at, 'a'), special, Buffer.alloc(length - at, 'b')]);
          const name = JSON.parse(`"${content.toString('utf8')}"`) as string;
          for (let pad = 0; pad < 4; pad++) {
            const input = recordWith(content, pad);
            const json = input.subarray('{"Records":['.length, -2).toString('utf8');
            forEverySplit(input, split, [
              {
                json,
                eventSource: undefined,
                eventName: name,
                awsRegion: undefined,
                recipientAccountId: undefined,
                plain: isAscii(input),
              },
            ]);
          }
        }
      }
    }
  });

  test('a control byte anywhere in a string is refused at its offset', () => {
    for (const control of [0x00, 0x01, 0x09, 0x0a, 0x1f]) {
      for (let length = 0; length <= 6; length++) {
        for (let at = 0; at <= length; at++) {
          const content = Buffer.concat([
            Buffer.alloc(at, 'a'),
            Buffer.from([control]),
            Buffer.alloc(length - at, 'b'),
          ]);
          for (let pad = 0; pad < 4; pad++) {
            const input = recordWith(content, pad);
            const offset = input.indexOf('"eventName":"') + '"eventName":"'.length + at;
            assertFailsAt(input, offset, /control character byte 0x[01][0-9a-f] inside a string/);
          }
        }
      }
    }
  });

  test('invalid escapes are refused at the offending byte', () => {
    const cases: [string, number, RegExp][] = [
      ['ab\\x', 3, /invalid escape \\x/],
      ['\\u12G4', 4, /'G' in a \\u escape/],
      ['abc\\u00e', 8, /'"' in a \\u escape/],
      ['\\uZ', 2, /'Z' in a \\u escape/],
      ['\\\u0001', 1, /invalid escape \\\S* in a string/],
    ];
    for (const [content, at, message] of cases) {
      const input = recordWith(Buffer.from(content), 1);
      const offset = input.indexOf('"eventName":"') + '"eventName":"'.length + at;
      assertFailsAt(input, offset, message);
    }
  });
});

describe('CloudTrailLogSplitter: tagging fields', () => {
  const fields = {
    eventSource: 's3.amazonaws.com',
    eventName: 'PutObject',
    awsRegion: 'eu-south-2',
    recipientAccountId: '123456789012',
  };

  test('after non-ASCII text, in records over 4 KiB, with escapes, pretty-printed: any chunking', () => {
    const records = [
      { userAgent: 'Navegador/1.0 (¿Qué tal? 日本語 😀)', ...fields, eventName: 'Put\u00e9Object' },
      { requestParameters: { blob: 'z'.repeat(5000) }, ...fields },
      { ...fields, eventSource: 'quoted"\\/.amazonaws.com', awsRegion: 'tab\tregion' },
      { ...fields, recipientAccountId: 'naïve' },
    ];
    const want = expected(records);
    forEverySplit(Buffer.from(JSON.stringify({ Records: records })), split, want);
    forEverySplit(Buffer.from(JSON.stringify({ Records: records }, null, 1)), split, want);
  });

  test('keys like a field key but not one, or not at the record level, are not fields', () => {
    const record = {
      eventTime: 'x',
      eventType: 'x',
      xventName: 'x',
      eventNamE: 'x',
      awsRegioN: 'x',
      eventSourcf: 'x',
      recipientAccountIc: 'x',
      eventSource1: 'x',
      nested: { eventName: 'x', awsRegion: 'x' },
      list: [{ eventSource: 'x' }],
    };
    const input = Buffer.from(JSON.stringify({ Records: [record] }));
    forEverySplit(input, split, expected([record]));
  });

  test('compactCloudTrailEvent: fields of a large non-ASCII event', () => {
    const event = { note: 'ü'.repeat(3000), ...fields };
    assert.deepEqual(compactCloudTrailEvent(JSON.stringify(event, null, 2)), expected([event])[0]);
  });
});

describe('CloudTrailLogSplitter: keys across chunks', () => {
  test('a key longer than any key looked for is not held, however long, and the file reads on', () => {
    const splitter = new CloudTrailLogSplitter();
    const out = splitter.push(Buffer.from('{"x":1,"'));
    // 64 MiB of key, twice maxRecordBytes: held, it would be OBJECT_CORRUPT.
    const piece = Buffer.alloc(1 << 20, 0x61);
    for (let i = 0; i < 64; i++) out.push(...splitter.push(piece));
    out.push(...splitter.push(Buffer.from('":2,"Rec\\u006frds":[{"eventName":"A"}]}')));
    out.push(...splitter.end());
    assert.deepEqual(
      out.map((r) => r.eventName),
      ['A'],
    );
  });

  test('an escaped key too long to be Records, in one chunk or several, is not Records', () => {
    const key = `Records${'\\u0020'.repeat(40)}`;
    const input = Buffer.from(`{"${key}":[{"eventName":"A"}],"Records":[{"eventName":"B"}]}`);
    forEverySplit(input, (chunks) => split(chunks).map((r) => r.eventName), ['B']);
  });
  test('Records and field keys cut anywhere, escaped or not, are recognized', () => {
    const input = Buffer.from(
      '{"Rec\\u006frds":[{"event\\u0053ource":"a.amazonaws.com","recipientAccountId":"1"},{"eventName":"B"}]}',
    );
    forEverySplit(input, split, [
      {
        json: '{"event\\u0053ource":"a.amazonaws.com","recipientAccountId":"1"}',
        eventSource: 'a.amazonaws.com',
        eventName: undefined,
        awsRegion: undefined,
        recipientAccountId: '1',
        plain: true,
      },
      {
        json: '{"eventName":"B"}',
        eventSource: undefined,
        eventName: 'B',
        awsRegion: undefined,
        recipientAccountId: undefined,
        plain: true,
      },
    ]);
  });
});

describe('CloudTrailLogSplitter: values, literals and numbers', () => {
  test('in objects and arrays, at every chunk boundary', () => {
    const record = {
      a: true,
      b: false,
      c: null,
      d: [true, false, null, -1.5e3, 0, 12.25, 'x', 'y', { eventName: 'z' }, ['w', 'v'], 'u'],
      e: -0.0,
    };
    const input = Buffer.from(JSON.stringify({ Records: [record, record] }));
    forEverySplit(
      input,
      split,
      [JSON.stringify(record), JSON.stringify(record)].map((json) => ({
        json,
        eventSource: undefined,
        eventName: undefined,
        awsRegion: undefined,
        recipientAccountId: undefined,
        plain: true,
      })),
    );
  });

  test('a wrong literal is refused at its first wrong byte', () => {
    for (const [literal, at] of [
      ['nul}', 3],
      ['tRue', 1],
      ['fals ', 4],
      ['nulll', 4],
    ] as const) {
      const input = Buffer.from(`{"Records":[{"a":${literal}}]}`);
      const offset = '{"Records":[{"a":'.length + at;
      assertFailsAt(input, offset, at === 4 && literal === 'nulll' ? /expected ','/ : /in a literal/);
    }
  });
});

describe('CloudTrailLogSplitter: nesting depth', () => {
  test('MAX_JSON_DEPTH levels are read, one more is OBJECT_CORRUPT at the opening byte', () => {
    const nested = (levels: number): string => '['.repeat(levels) + ']'.repeat(levels);
    // The document and the Records array are levels 1 and 2, each record level 3.
    const deepest = `{"Records":[{"a":${nested(MAX_JSON_DEPTH - 3)}}]}`;
    assert.equal(split([Buffer.from(deepest)]).length, 1);
    const input = Buffer.from(`{"Records":[{"a":${nested(MAX_JSON_DEPTH - 2)}}]}`);
    assertFailsAt(input, 17 + MAX_JSON_DEPTH - 3, /nested deeper than 512 levels/);
  });

  test('a crafted document of endless brackets outside Records fails early, holding nothing', () => {
    const splitter = new CloudTrailLogSplitter({ source: 's3://trail-bucket/crafted.json.gz' });
    splitter.push(Buffer.from('{"x":'));
    const brackets = Buffer.alloc(1 << 20, 0x5b);
    assert.throws(
      () => {
        for (let i = 0; i < 200; i++) splitter.push(brackets);
      },
      (err: unknown) =>
        isCollectorError(err, 'OBJECT_CORRUPT') &&
        err.details.source === 's3://trail-bucket/crafted.json.gz' &&
        err.details.maxDepth === MAX_JSON_DEPTH &&
        err.details.offset === 5 + MAX_JSON_DEPTH - 1,
    );
    // The error sticks: nothing more is scanned.
    assert.throws(
      () => splitter.push(brackets),
      (err: unknown) => isCollectorError(err, 'OBJECT_CORRUPT'),
    );
  });
});
