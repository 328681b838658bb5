import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { isCollectorError } from '../../src/core/errors.js';
import { JsonDocumentParser } from '../../src/formats/json-events.js';
import { JsonLinesParser } from '../../src/formats/json-lines.js';
import { PlainLineParser } from '../../src/formats/plain-lines.js';
import { MAX_JSON_DEPTH } from '../../src/formats/json-scanner.js';
import { forEverySplit, runParser } from './helpers.js';

const SOURCE = 's3://bucket/data.json';
const json = (input: string, expandField?: string) => (chunks: Buffer[]) =>
  runParser(new JsonDocumentParser({ source: SOURCE, ...(expandField ? { expandField } : {}) }), chunks).map(
    (r) => r.json,
  );
const lines = (make: () => JsonLinesParser | PlainLineParser) => (chunks: Buffer[]) =>
  runParser(make(), chunks);

function code(run: () => unknown): { code: string; offset: unknown } {
  try {
    run();
  } catch (err) {
    assert.ok(isCollectorError(err), String(err));
    return { code: err.code, offset: err.details.offset };
  }
  assert.fail('no error');
}

describe('json: one JSON document', () => {
  test('an array: each element an event, compact, numbers as written, at every chunk boundary', () => {
    const input = Buffer.from(' [ {"a": 1.0, "big": 12345678901234567890},\n {"b": "x y"} ]\n');
    forEverySplit(input, json(''), ['{"a":1.0,"big":12345678901234567890}', '{"b":"x y"}']);
  });

  test('an object: one event; with expand_event_list_from_field, each element of that array', () => {
    const input = Buffer.from('{"meta": {"n": 2}, "items": [{"id": 1}, {"id": 2}], "tail": true}');
    forEverySplit(input, json(''), ['{"meta":{"n":2},"items":[{"id":1},{"id":2}],"tail":true}']);
    forEverySplit(input, json('', 'items'), ['{"id":1}', '{"id":2}']);
  });

  test('not JSON, or no such field: rejected (the object keeps its message), naming the offset', () => {
    const bad = (text: string, field?: string) =>
      code(() =>
        runParser(new JsonDocumentParser({ source: SOURCE, ...(field ? { expandField: field } : {}) }), [
          Buffer.from(text),
        ]),
      );
    assert.deepEqual(bad('hello world'), { code: 'OBJECT_REJECTED', offset: 0 });
    assert.deepEqual(bad('{"other": []}', 'items'), { code: 'OBJECT_REJECTED', offset: 13 });
    assert.deepEqual(bad('[{"a":1}]', 'items').code, 'OBJECT_REJECTED');
    assert.deepEqual(bad('   \n  ').code, 'OBJECT_REJECTED');
  });

  test('broken after events were read: corrupt, the events before it delivered first', () => {
    const parser = new JsonDocumentParser({ source: SOURCE });
    assert.deepEqual(
      parser.push(Buffer.from('[{"a":1},{"b":')).map((r) => r.json),
      ['{"a":1}'],
    );
    assert.equal(code(() => parser.end()).code, 'OBJECT_CORRUPT');
  });

  test('depth and size limits', () => {
    const deep = `[${'['.repeat(MAX_JSON_DEPTH + 1)}`;
    assert.equal(
      code(() => runParser(new JsonDocumentParser({ source: SOURCE }), [Buffer.from(deep)])).code,
      'OBJECT_REJECTED',
    );
    const big = new JsonDocumentParser({ source: SOURCE, maxRecordBytes: 64 });
    big.push(Buffer.from('[{"a":1},'));
    assert.equal(code(() => big.push(Buffer.from(`{"s":"${'x'.repeat(100)}`))).code, 'OBJECT_CORRUPT');
  });
});

describe('ndjson and lines', () => {
  test('ndjson: each line a compact JSON object; blank lines and CRLF accepted', () => {
    const input = Buffer.from('{"a": 1}\r\n\n{"b": [1, 2]}\n{"c":"é"}');
    forEverySplit(
      input,
      lines(() => new JsonLinesParser({ source: SOURCE, badLine: 'refuse' })),
      ['{"a":1}', '{"b":[1,2]}', '{"c":"é"}'],
    );
  });

  test('ndjson: a first line that is not a JSON object is rejected; a later one is corrupt', () => {
    assert.equal(
      code(() =>
        runParser(new JsonLinesParser({ source: SOURCE, badLine: 'refuse' }), [Buffer.from('plain text\n')]),
      ).code,
      'OBJECT_REJECTED',
    );
    const parser = new JsonLinesParser({ source: SOURCE, badLine: 'refuse' });
    assert.deepEqual(parser.push(Buffer.from('{"a":1}\n')), ['{"a":1}']);
    assert.throws(
      () => parser.push(Buffer.from('{"a":\n')),
      (err: unknown) =>
        isCollectorError(err, 'OBJECT_CORRUPT') && err.details.row === 2 && err.details.source === SOURCE,
    );
  });

  test('lines: each non-blank line as written', () => {
    const input = Buffer.from('first line\r\n\n  second "quoted" line\nlast');
    forEverySplit(
      input,
      lines(() => new PlainLineParser({ source: SOURCE })),
      ['first line', '  second "quoted" line', 'last'],
    );
  });
});
