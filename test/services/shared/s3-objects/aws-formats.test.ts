import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import type { CollectorEvent } from '../../../../src/core/batch.js';
import { isCollectorError } from '../../../../src/core/errors.js';
import * as awsFormats from '../../../../src/services/shared/s3-objects/aws-formats.js';
import type { ObjectFormat } from '../../../../src/services/shared/s3-objects/formats.js';
import { refOf } from './fixtures.js';

const FIXTURES = new URL('../../../fixtures/aws-logs/', import.meta.url);
const read = (file: string): Buffer => readFileSync(new URL(file, FIXTURES));

interface Sample {
  file: string;
  format: 'elbFormat' | 's3AccessFormat' | 'jsonLinesFormat' | 'awsConfigFormat';
  events: number;
  key: string;
}
const samples = (JSON.parse(read('manifest.json').toString()) as { files: Sample[] }).files;

/** Every event `format` makes of `content`, pushed a few bytes at a time (every chunk boundary). */
function parse(
  format: ObjectFormat,
  content: Buffer,
  step = 7,
): { out: CollectorEvent[]; malformed: number } {
  const parser = format.open('s3://logs/key', refOf('s3://logs/key'));
  const out: CollectorEvent[] = [];
  for (let at = 0; at < content.length; at += step) parser.push(content.subarray(at, at + step), out);
  parser.end(out);
  return { out, malformed: parser.malformed };
}

const lines = (content: Buffer): string[] =>
  content
    .toString('utf8')
    .split('\n')
    .filter((l) => l !== '');

describe('AWS log formats on the documented samples (test/fixtures/aws-logs)', () => {
  for (const sample of samples) {
    test(`${sample.file} (${sample.format}): ${sample.events} events`, () => {
      const format = awsFormats[sample.format]('my.tag');
      assert.ok(format.accepts(sample.key), 'its key is read');
      const content = read(sample.file);
      const { out, malformed } = parse(format, content);
      assert.equal(out.length, sample.events);
      assert.equal(malformed, 0);
      assert.ok(out.every((e) => e.tag === 'my.tag' && e.plain === true));
      if (sample.format === 'awsConfigFormat') {
        // One compact event per configuration item, exactly the item.
        const items = (JSON.parse(content.toString()) as { configurationItems: unknown[] })
          .configurationItems;
        assert.deepEqual(
          out.map((e) => JSON.parse(e.message) as unknown),
          items,
        );
        assert.ok(out.every((e) => e.message === JSON.stringify(JSON.parse(e.message))));
      } else {
        // Lines as written; JSON Lines already compact, so as written too (5.0 stays 5.0).
        assert.deepEqual(
          out.map((e) => e.message),
          lines(content),
        );
      }
    });
  }

  test('JSON Lines: whitespace compacted away, numbers kept as written; a line that is no JSON object is delivered as written and counted', () => {
    const content = Buffer.from(
      '{ "a" : 1.50, "b" : [ 1 , 2 ] , "s": "x y" }\r\nnot json at all\n\n{"c":12345678901234567890}\n[1,2]\n',
    );
    const { out, malformed } = parse(awsFormats.jsonLinesFormat('t'), content, 3);
    assert.deepEqual(
      out.map((e) => e.message),
      ['{"a":1.50,"b":[1,2],"s":"x y"}', 'not json at all', '{"c":12345678901234567890}', '[1,2]'],
    );
    assert.equal(malformed, 2);
  });

  test('AWS Config: ConfigWritabilityCheckFile is skipped by its key', () => {
    const format = awsFormats.awsConfigFormat('t');
    assert.equal(format.accepts('AWSLogs/123456789012/Config/ConfigWritabilityCheckFile'), false);
    assert.equal(format.accepts('ConfigWritabilityCheckFile'), false);
    assert.equal(
      format.accepts('AWSLogs/123456789012/Config/us-east-1/2026/11/20/ConfigSnapshot/x.json.gz'),
      true,
    );
  });

  test('AWS Config: items before a truncation are delivered, then OBJECT_CORRUPT with the offset; a document without configurationItems is OBJECT_CORRUPT', () => {
    const whole = read('config-history.json');
    const cut = whole.subarray(0, whole.length - 40);
    const parser = awsFormats.awsConfigFormat('t').open('s3://b/history.json', refOf('s3://b/history.json'));
    const out: CollectorEvent[] = [];
    parser.push(cut, out);
    assert.equal(out.length, 1);
    assert.throws(
      () => parser.end(out),
      (err: unknown) =>
        isCollectorError(err, 'OBJECT_CORRUPT') &&
        err.details.offset === cut.length &&
        /truncated/.test(err.message),
    );
    const other = awsFormats.awsConfigFormat('t').open('s3://b/other.json', refOf('s3://b/other.json'));
    other.push(Buffer.from('{"fileVersion":"1.0","Records":[]}'), out);
    assert.throws(
      () => other.end(out),
      (err: unknown) => isCollectorError(err, 'OBJECT_CORRUPT') && /configurationItems/.test(err.message),
    );
  });

  test('a line longer than 8 MiB is OBJECT_CORRUPT after the lines before it', () => {
    for (const format of [awsFormats.elbFormat('t'), awsFormats.jsonLinesFormat('t')]) {
      const parser = format.open('s3://b/k', refOf('s3://b/k'));
      const out: CollectorEvent[] = [];
      const head = `${lines(read('waf.log'))[0]}\n`;
      assert.throws(
        () => parser.push(Buffer.concat([Buffer.from(head), Buffer.alloc(9 * 1024 * 1024, 0x61)]), out),
        (err: unknown) => isCollectorError(err, 'OBJECT_CORRUPT') && err.details.offset === head.length,
      );
      assert.equal(out.length, 1);
    }
  });
});
