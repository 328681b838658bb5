import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { isCollectorError } from '../../../../src/core/errors.js';
import { CloudFrontLogParser } from '../../../../src/formats/cloudfront.js';
import { VPC_DEFAULT_FORMAT, VpcFlowLogParser } from '../../../../src/formats/vpc-flow.js';
import { singleMessages, type CollectorEvent } from '../../../../src/core/batch.js';

/** The object a source names, as the object reader passes it. */
import {
  cloudFrontFormat,
  vpcFlowLogsFormat,
} from '../../../../src/services/shared/s3-objects/log-formats.js';
import { refOf } from './fixtures.js';

const HEADER = VPC_DEFAULT_FORMAT.join(' ');
const ROW = '2 123456789012 eni-1 10.0.0.1 10.0.0.2 1024 443 6 10 840 1795700000 1795700060 ACCEPT OK';

describe('S3 object formats made of lines', () => {
  test('VPC Flow Logs: one event per row, appended to the caller array, marked plain when known', () => {
    const parser = vpcFlowLogsFormat('cloud.aws.vpc.flowlogs').open('s3://b/k', refOf('s3://b/k'));
    const out: CollectorEvent[] = [{ tag: 'earlier', message: 'kept' }];
    parser.push(Buffer.from(`${HEADER}\r\n${ROW}\r\n2 short\r\n`), out);
    parser.push(Buffer.from(`${ROW} é`), out);
    parser.end(out);
    const tag = 'cloud.aws.vpc.flowlogs';
    assert.deepEqual(out, [
      { tag: 'earlier', message: 'kept' },
      { tag, message: ROW, plain: true },
      { tag, message: '2 short', plain: true },
      { tag, message: `${ROW} é`, plain: false },
    ]);
    assert.equal(parser.malformed, 2);
    assert.equal(parser.dropped, 0);
  });

  test('VPC Flow Logs: the rows before corrupt content are appended by the call that throws', () => {
    const parser = vpcFlowLogsFormat('t').open('s3://b/f.log.gz', refOf('s3://b/f.log.gz'));
    const out: CollectorEvent[] = [];
    const head = `${HEADER}\n${ROW}\n`;
    assert.throws(
      () => parser.push(Buffer.concat([Buffer.from(head), Buffer.alloc(9 * 1024 * 1024, 0x31)]), out),
      (err: unknown) =>
        isCollectorError(err, 'OBJECT_CORRUPT') &&
        err.details.offset === head.length &&
        err.message.startsWith('s3://b/f.log.gz: a line is longer than'),
    );
    assert.deepEqual(out, [{ tag: 't', message: ROW, plain: true }]);

    const notHeader = vpcFlowLogsFormat('t').open('s3://b/g.log.gz', refOf('s3://b/g.log.gz'));
    assert.throws(
      () => notHeader.push(Buffer.from(`${ROW}\n`), out),
      (err: unknown) =>
        isCollectorError(err, 'OBJECT_REJECTED') && /not a VPC Flow Logs header/.test(err.message),
    );
  });

  test('CloudFront: one event per record, directives skipped', () => {
    const parser = cloudFrontFormat('cloud.aws.cloudfront').open('s3://b/E2.gz', refOf('s3://b/E2.gz'));
    const out: CollectorEvent[] = [];
    parser.push(Buffer.from('#Version: 1.0\n#Fields: date time\n2026-11-20\t10:00:01\n2026-11-20'), out);
    parser.end(out);
    assert.deepEqual(out, [
      { tag: 'cloud.aws.cloudfront', message: '2026-11-20\t10:00:01', plain: true },
      { tag: 'cloud.aws.cloudfront', message: '2026-11-20', plain: true },
    ]);
    assert.equal(parser.malformed, 1);
  });

  test('runs of rows sent as written: the same messages and counts as row by row, whatever the chunking', () => {
    // Clean rows (runs), malformed rows, blank lines, CRLF rows, non-ASCII rows, directives.
    const row = (i: number) => ROW.replace('eni-1', `eni-${i}`);
    const vpc: string[] = [HEADER];
    for (let i = 0; i < 3000; i++) {
      if (i % 401 === 7) vpc.push('2 short row');
      else if (i % 503 === 9) vpc.push('');
      else if (i % 607 === 11) vpc.push(`${row(i)}\r`);
      else if (i % 709 === 13) vpc.push(`${row(i)}é`.replace(' ACCEPT', ' ACCÉPT'));
      else vpc.push(row(i));
    }
    const cf: string[] = ['#Version: 1.0', '#Fields: date time x-edge-location'];
    for (let i = 0; i < 3000; i++) {
      if (i % 401 === 7) cf.push('2026-11-20\tshort');
      else if (i % 503 === 9) cf.push('#Fields: date time x-edge-location');
      else cf.push(`2026-11-20\t10:00:${i % 60}\tFRA${i}`);
    }
    const cases = [
      {
        name: 'vpc',
        text: `${vpc.join('\n')}\n`,
        open: () => vpcFlowLogsFormat('t').open('s3://b/k', refOf('s3://b/k')),
        lines: () => new VpcFlowLogParser(),
      },
      {
        name: 'cloudfront',
        text: cf.join('\n'),
        open: () => cloudFrontFormat('t').open('s3://b/k', refOf('s3://b/k')),
        lines: () => new CloudFrontLogParser(),
      },
      {
        // A custom format is sent as JSON, never as written: no runs.
        name: 'vpc custom',
        text: `srcaddr dstaddr action\n${Array.from({ length: 2000 }, (_, i) => `10.0.0.${i % 250} 10.0.1.1 ACCEPT`).join('\n')}\n`,
        open: () => vpcFlowLogsFormat('t').open('s3://b/k', refOf('s3://b/k')),
        lines: () => new VpcFlowLogParser(),
        noRuns: true,
      },
    ];
    for (const { name, text, open, lines, noRuns } of cases) {
      const bytes = Buffer.from(text);
      const reference = lines();
      const want = [...reference.push(bytes), ...reference.end()];
      for (const size of [7, 1000, 65_536, bytes.length]) {
        const parser = open();
        const out: CollectorEvent[] = [];
        for (let at = 0; at < bytes.length; at += size) parser.push(bytes.subarray(at, at + size), out);
        parser.end(out);
        assert.deepEqual(
          singleMessages(out).map((e) => e.message),
          want,
          `${name}, chunks of ${size}`,
        );
        assert.equal(parser.malformed, reference.malformed, `${name}, chunks of ${size}`);
        if (noRuns)
          assert.ok(
            out.every((e) => e.lines === undefined),
            `${name}: no runs`,
          );
        else if (size >= 1000)
          assert.ok(
            out.some((e) => (e.lines ?? 1) > 1),
            `${name}: runs used`,
          );
        assert.ok(out.every((e) => e.lines === undefined || (e.plain === true && e.lines > 1)));
      }
    }
  });

  test('CloudFront: corrupt content is an error naming the object', () => {
    const parser = cloudFrontFormat('t').open('s3://b/E3.gz', refOf('s3://b/E3.gz'));
    const head = '#Version: 1.0\n2026-11-20\t10:00:01\n';
    assert.throws(
      () => parser.push(Buffer.concat([Buffer.from(head), Buffer.alloc(9 * 1024 * 1024, 0x31)]), []),
      (err: unknown) =>
        isCollectorError(err, 'OBJECT_CORRUPT') &&
        err.details.offset === head.length &&
        err.message.startsWith('s3://b/E3.gz: a line is longer than'),
    );
  });
});
