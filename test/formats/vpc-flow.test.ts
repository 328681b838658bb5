import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { isCollectorError } from '../../src/core/errors.js';
import { VPC_DEFAULT_FORMAT, VPC_FLOW_LOG_FIELDS, VpcFlowLogParser } from '../../src/formats/vpc-flow.js';
import { fixture, forEverySplit, random, runParser } from './helpers.js';

const DEFAULT = fixture('vpc-flow-v2-default.txt');
const CUSTOM = fixture('vpc-flow-v5-custom.txt');

function parse(chunks: Buffer[]): string[] {
  return runParser(new VpcFlowLogParser(), chunks);
}

/** Rows of a file, without its header. */
function rows(file: Buffer): string[] {
  return file
    .toString()
    .split('\n')
    .slice(1)
    .filter((l) => l.length > 0);
}

/** What a custom-format row must become. */
function asJson(header: string, row: string): string {
  const names = header.split(' ');
  const values = row.split(' ');
  return JSON.stringify(Object.fromEntries(names.map((n, i) => [n, values[i]])));
}

describe('VpcFlowLogParser', () => {
  test('default format: rows as written, the header is no event, NODATA rows kept', () => {
    const parser = new VpcFlowLogParser();
    const out = runParser(parser, [DEFAULT]);
    assert.deepEqual(out, rows(DEFAULT));
    assert.equal(out.length, 3);
    assert.match(out[2] as string, / - NODATA$/);
    assert.equal(parser.format, 'default');
    assert.deepEqual(parser.fields, VPC_DEFAULT_FORMAT);
    assert.equal(parser.records, 3);
    assert.equal(parser.malformed, 0);
  });

  test('SKIPDATA rows are kept, in both formats', () => {
    const header = VPC_DEFAULT_FORMAT.join(' ');
    const skip = '2 123456789012 eni-1235b8ca123456789 - - - - - - - 1431280876 1431280934 - SKIPDATA';
    assert.deepEqual(parse([Buffer.from(`${header}\n${skip}\n`)]), [skip]);
    const custom = 'interface-id start end log-status';
    const row = 'eni-1235b8ca123456789 1431280876 1431280934 SKIPDATA';
    assert.deepEqual(parse([Buffer.from(`${custom}\n${row}\n`)]), [asJson(custom, row)]);
  });

  test('custom format: compact JSON keyed by the header, values as strings, "-" kept', () => {
    const parser = new VpcFlowLogParser();
    const out = runParser(parser, [CUSTOM]);
    const [header, row] = CUSTOM.toString().split('\n') as [string, string];
    assert.deepEqual(out, [asJson(header, row)]);
    const record = JSON.parse(out[0] as string) as Record<string, string>;
    assert.equal(record['pkt-dst-aws-service'], 'AMAZON');
    assert.equal(record['sublocation-type'], '-');
    assert.equal(record.version, '5');
    assert.equal(parser.format, 'custom');
    assert.deepEqual(parser.unknownFields, []);
  });

  test('both fixtures split at every byte position, LF and CRLF', () => {
    for (const file of [DEFAULT, CUSTOM]) {
      const want = parse([file]);
      forEverySplit(file, parse, want);
      forEverySplit(Buffer.from(file.toString().replace(/\n/g, '\r\n')), parse, want);
    }
  });

  test('custom format with fields in an unusual order, version 7 and 8 fields, NODATA', () => {
    const header =
      'reject-reason log-status ecs-task-id end start action dstport srcport traffic-path version';
    const body = [
      'BPA NODATA - 1795700060 1795700000 REJECT - - - 8',
      '- OK 0a1b2c3d4e5f 1795700060 1795700000 ACCEPT 443 40312 1 8',
    ];
    const out = parse([Buffer.from(`${header}\n${body.join('\n')}\n`)]);
    assert.deepEqual(
      out,
      body.map((row) => asJson(header, row)),
    );
    assert.equal((JSON.parse(out[0] as string) as Record<string, string>)['reject-reason'], 'BPA');
  });

  test('rows with the wrong field count are delivered as written and counted', () => {
    const parser = new VpcFlowLogParser();
    const [header, good] = CUSTOM.toString().split('\n') as [string, string];
    const short = good.split(' ').slice(0, -1).join(' ');
    const long = `${good} extra`;
    const out = runParser(parser, [Buffer.from(`${header}\n${short}\n${good}\n${long}\n`)]);
    assert.deepEqual(out, [short, asJson(header, good), long]);
    assert.equal(parser.records, 3);
    assert.equal(parser.malformed, 2);

    const defaults = new VpcFlowLogParser();
    const lines = rows(DEFAULT);
    const bad = `${lines[0]} trailing`;
    assert.deepEqual(
      runParser(defaults, [Buffer.from(`${VPC_DEFAULT_FORMAT.join(' ')}\n${bad}\n${lines[1]}`)]),
      [bad, lines[1]],
    );
    assert.equal(defaults.malformed, 1);
  });

  test('values JSON must escape are escaped', () => {
    const out = parse([Buffer.from('version vpc-id\n2 a"b\\c\u0001\n')]);
    assert.deepEqual(out, [JSON.stringify({ version: '2', 'vpc-id': 'a"b\\c\u0001' })]);
  });

  test('a field this parser does not know is kept as a key and reported', () => {
    const parser = new VpcFlowLogParser();
    const out = runParser(parser, [Buffer.from('version encryption-status\n2 1\n')]);
    assert.deepEqual(out, ['{"version":"2","encryption-status":"1"}']);
    assert.deepEqual(parser.unknownFields, ['encryption-status']);
  });

  test('a first line that is not a header is OBJECT_REJECTED (not a flow log), and stays so', () => {
    const cases: [string, RegExp][] = [
      [rows(DEFAULT).join('\n'), /holds something other than field names/],
      ['version version\n2 2\n', /names a field twice/],
      ['foo bar\n1 2\n', /names no VPC Flow Logs field/],
      ['Version Account-Id\n', /holds something other than field names/],
    ];
    for (const [input, message] of cases) {
      const parser = new VpcFlowLogParser({ source: 's3://flow-bucket/f.log.gz' });
      let error: unknown;
      try {
        runParser(parser, [Buffer.from(input)]);
      } catch (err) {
        error = err;
      }
      assert.ok(isCollectorError(error, 'OBJECT_REJECTED'), input);
      assert.match(error.message, message);
      assert.match(
        error.message,
        /^s3:\/\/flow-bucket\/f\.log\.gz: the first line is not a VPC Flow Logs header/,
      );
      assert.throws(
        () => parser.push(Buffer.from('more')),
        (err: unknown) => err === error,
      );
    }
  });

  test('rows before a corrupt part come out first, then the error', () => {
    const parser = new VpcFlowLogParser({ source: 's3://flow-bucket/f.log.gz' });
    const lines = rows(DEFAULT);
    const rowsOut = parser.push(Buffer.from(`${VPC_DEFAULT_FORMAT.join(' ')}\n${lines[0]}\n${lines[1]}`));
    assert.deepEqual(rowsOut, [lines[0]]);
    // An endless line: 9 MiB without a line break.
    const big = Buffer.alloc(1024 * 1024, 0x31);
    const out: string[] = [];
    let error: unknown;
    try {
      for (let i = 0; i < 9; i++) out.push(...parser.push(big));
    } catch (err) {
      error = err;
    }
    assert.deepEqual(out, []);
    assert.ok(isCollectorError(error, 'OBJECT_CORRUPT'));
    assert.match(error.message, /a line is longer than 8388608 bytes/);
    assert.equal(error.details.offset, rowsOut[0]!.length + VPC_DEFAULT_FORMAT.join(' ').length + 2);
    assert.throws(
      () => parser.end(),
      (err: unknown) => err === error,
    );
  });

  test('pushTo/endTo hand messages to a sink as read, saying which are plain ASCII without CR', () => {
    const got: [string, boolean][] = [];
    const sink = { push: (message: string, plain: boolean): number => got.push([message, plain]) };
    const lines = rows(DEFAULT);
    const parser = new VpcFlowLogParser();
    parser.pushTo(Buffer.from(`${VPC_DEFAULT_FORMAT.join(' ')}\r\n${lines[0]}\r\n${lines[1]}`), sink);
    parser.pushTo(Buffer.from(`\n2 x\r\n${lines[2]}é\n`), sink);
    parser.endTo(sink);
    assert.deepEqual(got, [
      [lines[0], true],
      [lines[1], true],
      // Malformed rows are sent as written too; a chunk that is not all ASCII has no plain line.
      ['2 x', false],
      [`${lines[2]}é`, false],
    ]);
    assert.equal(parser.malformed, 1);

    const custom = new VpcFlowLogParser();
    got.length = 0;
    custom.pushTo(Buffer.from('version action\n2 ACCEPT\n2 "A\\\n2 A\rB\n'), sink);
    custom.pushTo(Buffer.from('2 Ä\n'), sink);
    assert.deepEqual(got, [
      ['{"version":"2","action":"ACCEPT"}', true],
      ['{"version":"2","action":"\\"A\\\\"}', true],
      // JSON has no raw CR, but a line holding one is not said plain.
      ['{"version":"2","action":"A\\rB"}', false],
      ['{"version":"2","action":"Ä"}', false],
    ]);
  });

  test('pushTo throws OBJECT_CORRUPT in the call that finds it, the rows before it handed over', () => {
    const got: string[] = [];
    const sink = { push: (message: string): number => got.push(message) };
    const lines = rows(DEFAULT);
    const head = `${VPC_DEFAULT_FORMAT.join(' ')}\n${lines[0]}\n${lines[1]}\n`;
    const parser = new VpcFlowLogParser({ source: 's3://flow-bucket/f.log.gz' });
    assert.throws(
      () => parser.pushTo(Buffer.concat([Buffer.from(head), Buffer.alloc(9 * 1024 * 1024, 0x31)]), sink),
      (err: unknown) =>
        isCollectorError(err, 'OBJECT_CORRUPT') &&
        err.details.offset === head.length &&
        err.message.startsWith('s3://flow-bucket/f.log.gz: a line is longer than 8388608 bytes'),
    );
    assert.deepEqual(got, [lines[0], lines[1]]);
    assert.throws(
      () => new VpcFlowLogParser().pushTo(Buffer.from('not a header\n'), sink),
      (err: unknown) => isCollectorError(err, 'OBJECT_REJECTED'),
    );
  });

  test('an empty file has no header and no events', () => {
    const parser = new VpcFlowLogParser();
    assert.deepEqual(runParser(parser, [Buffer.alloc(0), Buffer.from('\n\n')]), []);
    assert.equal(parser.format, undefined);
  });

  test('many generated rows in random chunk sizes', () => {
    const next = random(7);
    const names = [...VPC_FLOW_LOG_FIELDS.keys()].sort(() => next() - 0.5).slice(0, 20);
    const lines: string[] = [];
    for (let i = 0; i < 5000; i++) lines.push(names.map((n) => (next() < 0.1 ? '-' : `${n}-${i}`)).join(' '));
    const input = Buffer.from(`${names.join(' ')}\n${lines.join('\n')}\n`);
    const chunks: Buffer[] = [];
    for (let at = 0; at < input.length;) {
      const size = 1 + Math.floor(next() * 5000);
      chunks.push(input.subarray(at, at + size));
      at += size;
    }
    const header = names.join(' ');
    assert.deepEqual(
      parse(chunks),
      lines.map((l) => asJson(header, l)),
    );
  });

  test('the field list covers versions 2 to 8', () => {
    assert.equal(VPC_FLOW_LOG_FIELDS.size, 40);
    assert.deepEqual([...new Set(VPC_FLOW_LOG_FIELDS.values())], [2, 3, 4, 5, 7, 8]);
    assert.ok(VPC_DEFAULT_FORMAT.every((f) => VPC_FLOW_LOG_FIELDS.get(f) === 2));
  });
});
