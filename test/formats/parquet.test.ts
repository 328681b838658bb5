import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parquetWriteBuffer } from 'hyparquet-writer';
import { vpcFlowParquet } from '../../sandbox/vpc-flow-parquet.js';
import type { CollectorEvent } from '../../src/core/batch.js';
import { isCollectorError } from '../../src/core/errors.js';
import { isParquet, ParquetTextStream, type RangeReader } from '../../src/formats/parquet.js';
import { VPC_DEFAULT_FORMAT } from '../../src/formats/vpc-flow.js';
import { vpcFlowLogsFormat } from '../../src/services/shared/s3-objects/log-formats.js';
import { refOf } from '../services/shared/s3-objects/fixtures.js';

/** Rows of the AWS documentation's default-format examples ("Flow log record examples"). */
const DEFAULT_ROWS = [
  '2 123456789010 eni-1235b8ca123456789 172.31.16.139 172.31.16.21 20641 22 6 20 4249 1418530010 1418530070 ACCEPT OK',
  '2 123456789010 eni-1235b8ca123456789 172.31.9.69 172.31.9.12 49761 3389 6 20 4249 1418530010 1418530070 REJECT OK',
  '2 123456789010 eni-1235b8ca123456789 - - - - - - - 1431280876 1431280934 - NODATA',
  '2 123456789010 eni-11111111aaaaaaaaa - - - - - - - 1431280876 1431280934 - SKIPDATA',
];
/** A custom format (version 5 fields) with its documented example rows. */
const CUSTOM_FIELDS = [
  'version',
  'vpc-id',
  'subnet-id',
  'instance-id',
  'interface-id',
  'account-id',
  'type',
  'srcaddr',
  'dstaddr',
  'srcport',
  'dstport',
  'pkt-srcaddr',
  'pkt-dstaddr',
  'protocol',
  'bytes',
  'packets',
  'start',
  'end',
  'action',
  'tcp-flags',
  'log-status',
  'flow-direction',
  'traffic-path',
];
const CUSTOM_ROWS = [
  '5 vpc-12345678 subnet-12345678 i-1234567890abcdef0 eni-1235b8ca123456789 123456789012 IPv4 10.0.0.71 52.95.128.179 34210 443 10.0.0.71 52.95.128.179 6 5960 24 1418530010 1418530070 ACCEPT 19 OK egress 7',
  '5 vpc-12345678 subnet-12345678 i-1234567890abcdef0 eni-1235b8ca123456789 123456789012 IPv4 52.95.128.179 10.0.0.71 443 34210 52.95.128.179 10.0.0.71 6 2146 15 1418530010 1418530070 ACCEPT 3 OK ingress -',
];

const split = (rows: string[]): string[][] => rows.map((r) => r.split(' '));
const inMemory =
  (file: Buffer, reads: [number, number][] = []): RangeReader =>
  async (start, end) => {
    reads.push([start, end]);
    return file.subarray(start, end);
  };

async function text(stream: ParquetTextStream): Promise<string> {
  let all = '';
  for await (const chunk of stream) all += chunk.toString('utf8');
  return all;
}

/** The events the VPC Flow Logs format makes of a text file, or of a Parquet file's text. */
function events(content: string): CollectorEvent[] {
  const parser = vpcFlowLogsFormat('t').open('s3://b/k', refOf('s3://b/k'));
  const out: CollectorEvent[] = [];
  parser.push(Buffer.from(content), out);
  parser.end(out);
  return out;
}

describe('Parquet VPC Flow Logs as text', () => {
  const format = vpcFlowLogsFormat('t').parquet!('k.parquet')!;

  test('default format: the same events as the text file, NODATA/SKIPDATA nulls written as -', async () => {
    const file = vpcFlowParquet(VPC_DEFAULT_FORMAT, split(DEFAULT_ROWS), { rowGroupRows: 3 });
    assert.ok(isParquet(file));
    const reads: [number, number][] = [];
    const stream = new ParquetTextStream(inMemory(file, reads), file.length, format, 's3://b/k.parquet');
    const got = await text(stream);
    const written = `${VPC_DEFAULT_FORMAT.join(' ')}\n${DEFAULT_ROWS.join('\n')}\n`;
    assert.equal(got, written);
    assert.deepEqual(events(got), events(written));
    // Footer then row groups, never the whole object in one read.
    assert.ok(reads.length >= 3 && reads.every(([s, e]) => e - s < file.length), JSON.stringify(reads));
    assert.equal(
      stream.compressedBytes,
      reads.reduce((n, [s, e]) => n + e - s, 0),
    );
  });

  test('custom format: the same JSON objects as the text file', async () => {
    const file = vpcFlowParquet(CUSTOM_FIELDS, split(CUSTOM_ROWS));
    const got = await text(new ParquetTextStream(inMemory(file), file.length, format, 's3://b/k'));
    const written = `${CUSTOM_FIELDS.join(' ')}\n${CUSTOM_ROWS.join('\n')}\n`;
    const out = events(got);
    assert.deepEqual(out, events(written));
    assert.equal(
      (JSON.parse(out[1]!.message) as Record<string, string>)['traffic-path'],
      '-',
      'a null is "-" as in the text format',
    );
  });

  test('a row group over the limit: OBJECT_LIMIT_EXCEEDED naming it, before any text', async () => {
    const rows = split(
      Array.from({ length: 2000 }, (_, i) =>
        DEFAULT_ROWS[0]!.replace('20641', String(i)).replace('172.31.16.139', `10.0.${i >> 8}.${i & 255}`),
      ),
    );
    const file = vpcFlowParquet(VPC_DEFAULT_FORMAT, rows, { rowGroupRows: 1000 });
    const small = { ...format, maxRowGroupBytes: 8192 };
    const stream = new ParquetTextStream(inMemory(file), file.length, small, 's3://b/big.parquet');
    const chunks: Buffer[] = [];
    await assert.rejects(
      (async () => {
        for await (const c of stream) chunks.push(c);
      })(),
      (err: unknown) =>
        isCollectorError(err, 'OBJECT_LIMIT_EXCEEDED') &&
        err.details.rowGroup === 0 &&
        err.details.limit === 8192 &&
        err.details.source === 's3://b/big.parquet',
    );
    assert.equal(chunks.length, 0);
  });

  test('a truncated or damaged file is OBJECT_CORRUPT with its offset', async () => {
    const file = vpcFlowParquet(VPC_DEFAULT_FORMAT, split(DEFAULT_ROWS));
    const cut = file.subarray(0, file.length - 100);
    await assert.rejects(
      text(new ParquetTextStream(inMemory(cut), cut.length, format, 's3://b/cut')),
      (err: unknown) => isCollectorError(err, 'OBJECT_CORRUPT') && err.details.offset === cut.length - 4,
    );
    // The footer's length points before the start of the file.
    const bad = Buffer.from(file);
    bad.writeUInt32LE(file.length, file.length - 8);
    await assert.rejects(
      text(new ParquetTextStream(inMemory(bad), bad.length, format, 's3://b/bad')),
      (err: unknown) => isCollectorError(err, 'OBJECT_CORRUPT') && /footer length/.test(err.message),
    );
    // A page's bytes overwritten: the row group cannot be decoded.
    const damaged = Buffer.from(file);
    damaged.fill(0xff, 4, 200);
    await assert.rejects(
      text(new ParquetTextStream(inMemory(damaged), damaged.length, format, 's3://b/damaged')),
      (err: unknown) => isCollectorError(err, 'OBJECT_CORRUPT') && err.details.rowGroup === 0,
    );
  });

  test('a nested column is OBJECT_CORRUPT: a row of it is no line', async () => {
    const file = Buffer.from(
      parquetWriteBuffer({
        columnData: [
          { name: 'version', data: [2, 2] },
          { name: 'srcaddr', data: [{ x: 1 }, { x: 2 }] },
        ],
        schema: [
          { name: 'root', num_children: 2 },
          { name: 'version', type: 'INT32', repetition_type: 'OPTIONAL' },
          { name: 'srcaddr', num_children: 1, repetition_type: 'OPTIONAL' },
          { name: 'x', type: 'INT32', repetition_type: 'OPTIONAL' },
        ],
      }),
    );
    await assert.rejects(
      text(new ParquetTextStream(inMemory(file), file.length, format, 's3://b/nested')),
      (err: unknown) => isCollectorError(err, 'OBJECT_CORRUPT') && /srcaddr is nested/.test(err.message),
    );
  });
});
