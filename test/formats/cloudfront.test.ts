import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { isCollectorError } from '../../src/core/errors.js';
import { CloudFrontLogParser } from '../../src/formats/cloudfront.js';
import { fixture, forEverySplit, runParser } from './helpers.js';

const LOG = fixture('cloudfront-standard.txt');
const RECORDS = LOG.toString()
  .split('\n')
  .filter((l) => l.length > 0 && !l.startsWith('#'));

function parse(chunks: Buffer[]): string[] {
  return runParser(new CloudFrontLogParser(), chunks);
}

describe('CloudFrontLogParser', () => {
  test('the fixture: directives are no events, records as written', () => {
    const parser = new CloudFrontLogParser();
    const out = runParser(parser, [LOG]);
    assert.deepEqual(out, RECORDS);
    assert.equal(out.length, 2);
    assert.ok(out[0]?.startsWith('2026-11-20\t18:01:02\tLHR62-C2\t'));
    assert.equal(parser.fields?.length, 33);
    assert.equal(parser.fields?.[0], 'date');
    assert.equal(parser.fields?.[6], 'cs(Host)');
    assert.equal(parser.records, 2);
    assert.equal(parser.malformed, 0);
  });

  test('split at every byte position, LF and CRLF, without a final line break', () => {
    forEverySplit(LOG, parse, RECORDS);
    forEverySplit(Buffer.from(LOG.toString().replace(/\n/g, '\r\n')), parse, RECORDS);
    forEverySplit(Buffer.from(LOG.toString().trimEnd()), parse, RECORDS);
  });

  test('the lines before an endless line come out first, then OBJECT_CORRUPT', () => {
    const parser = new CloudFrontLogParser({ source: 's3://cf-bucket/E2.gz' });
    const endless = Buffer.concat([LOG, Buffer.alloc(9 * 1024 * 1024, 0x61)]);
    assert.deepEqual(parser.push(endless), RECORDS);
    assert.throws(
      () => parser.end(),
      (err: unknown) =>
        isCollectorError(err, 'OBJECT_CORRUPT') &&
        err.details.offset === LOG.length &&
        err.message.startsWith('s3://cf-bucket/E2.gz: a line is longer than'),
    );
  });

  test('pushTo/endTo hand records to a sink as read, saying which are plain ASCII without CR', () => {
    const got: [string, boolean][] = [];
    const sink = { push: (message: string, plain: boolean): number => got.push([message, plain]) };
    const parser = new CloudFrontLogParser();
    parser.pushTo(Buffer.from(LOG.toString().replace(/\n/g, '\r\n')), sink);
    parser.pushTo(Buffer.from('a\tb\rc\n'), sink);
    parser.pushTo(Buffer.from('ü\tv'), sink);
    parser.endTo(sink);
    assert.deepEqual(got, [...RECORDS.map((r) => [r, true]), ['a\tb\rc', false], ['ü\tv', false]]);
    assert.equal(parser.malformed, 2);
  });

  test('pushTo throws OBJECT_CORRUPT in the call that finds it, the records before it handed over', () => {
    const got: string[] = [];
    const parser = new CloudFrontLogParser({ source: 's3://cf-bucket/E2.gz' });
    assert.throws(
      () =>
        parser.pushTo(Buffer.concat([LOG, Buffer.alloc(9 * 1024 * 1024, 0x61)]), {
          push: (message) => got.push(message),
        }),
      (err: unknown) => isCollectorError(err, 'OBJECT_CORRUPT') && err.details.offset === LOG.length,
    );
    assert.deepEqual(got, RECORDS);
  });

  test('rows whose field count differs from #Fields are still delivered, and counted', () => {
    const parser = new CloudFrontLogParser();
    const short = (RECORDS[0] as string).split('\t').slice(0, 10).join('\t');
    const out = runParser(parser, [Buffer.from(`${LOG.toString()}${short}\n\n`)]);
    assert.deepEqual(out, [...RECORDS, short]);
    assert.equal(parser.malformed, 1);
  });
});
