import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  compactJsonRecord,
  DEFAULT_MAX_RECORD_BYTES,
  JsonRecordScanner,
} from '../../src/formats/json-scanner.js';

describe('JsonRecordScanner: captured fields are a parameter', () => {
  test('captures the top-level string fields asked for, in their order; nothing else', () => {
    const record = compactJsonRecord(
      '{ "kind": "a\\u0062c", "count": 3, "inner": { "name": "nested" }, "name": "top" }',
      'test',
      ['name', 'count', 'kind', 'absent'],
    );
    assert.equal(record.json, '{"kind":"a\\u0062c","count":3,"inner":{"name":"nested"},"name":"top"}');
    assert.deepEqual(record.fields, ['top', undefined, 'abc', undefined]);
    assert.deepEqual(
      compactJsonRecord('{"name":"top"}', 'test').fields,
      [],
      'no fields asked, none captured',
    );
  });

  test('a field key that cannot be compared is refused where the scanner is made', () => {
    assert.throws(
      () => new JsonRecordScanner([], '', 'test', DEFAULT_MAX_RECORD_BYTES, { fields: ['k'.repeat(32)] }),
      RangeError,
    );
  });
});
