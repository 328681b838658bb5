import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { escapeLineBreaks } from '../../src/formats/line-breaks.js';
import { SyslogEncoder, rfc3164Timestamp, rfc5424Timestamp } from '../../src/outputs/syslog-line.js';
import { singleMessages, type CollectorEvent } from '../../src/core/batch.js';

const AT = Date.parse('2024-05-01T03:04:05.678Z');

describe('syslog lines', () => {
  test('RFC 3164 timestamps pad the day with a space, in UTC', () => {
    assert.equal(rfc3164Timestamp(new Date(AT)), 'May  1 03:04:05');
    assert.equal(rfc3164Timestamp(new Date('2024-12-31T23:59:59Z')), 'Dec 31 23:59:59');
    assert.equal(rfc5424Timestamp(new Date(AT)), '2024-05-01T03:04:05Z');
  });

  test('line breaks are escaped, other text is untouched', () => {
    assert.equal(escapeLineBreaks('a\nb\r\nc'), 'a\\nb\\r\\nc');
    const plain = '{"k":"v \\n already escaped"}';
    assert.equal(escapeLineBreaks(plain), plain);
  });

  test('newline framing, RFC 3164: one exact line per event, header per second', () => {
    const enc = new SyslogEncoder({
      format: 'rfc3164',
      framing: 'newline',
      hostname: 'my host',
      facility: 1,
      severity: 6,
    });
    const events = [
      { tag: 'cloud.aws.cloudwatch.events', message: '{"a":"é"}' },
      { tag: 'bad tag\n', message: 'x\ny' },
    ];
    assert.equal(
      enc.encode(events, AT).toString('utf8'),
      '<14>May  1 03:04:05 my_host cloud.aws.cloudwatch.events: {"a":"é"}\n<14>May  1 03:04:05 my_host bad_tag_: x\\ny\n',
    );
    assert.equal(
      enc.encode(events.slice(0, 1), AT + 1000).toString(),
      '<14>May  1 03:04:06 my_host cloud.aws.cloudwatch.events: {"a":"é"}\n',
    );
    assert.equal(enc.encode([], AT).length, 0);
  });

  test('an all-ASCII batch and a batch with one Latin-1 character give the same bytes as UTF-8', () => {
    const enc = new SyslogEncoder({
      format: 'rfc3164',
      framing: 'newline',
      hostname: 'h',
      facility: 1,
      severity: 6,
    });
    const ascii = [
      { tag: 't', message: '2 123 eni-1 ACCEPT OK' },
      { tag: 'u', message: '{"k":"v"}' },
    ];
    assert.equal(
      enc.encode(ascii, AT).toString('utf8'),
      '<14>May  1 03:04:05 h t: 2 123 eni-1 ACCEPT OK\n<14>May  1 03:04:05 h u: {"k":"v"}\n',
    );
    // 'é' is one byte in a Latin-1 copy but two in UTF-8: the whole batch must be written as UTF-8.
    const mixed = [...ascii, { tag: 't', message: 'café' }];
    assert.deepEqual(
      enc.encode(mixed, AT),
      Buffer.from(
        '<14>May  1 03:04:05 h t: 2 123 eni-1 ACCEPT OK\n<14>May  1 03:04:05 h u: {"k":"v"}\n<14>May  1 03:04:05 h t: café\n',
        'utf8',
      ),
    );
  });

  test('octet counting counts bytes, not characters', () => {
    const enc = new SyslogEncoder({
      format: 'rfc5424',
      framing: 'octet-counting',
      hostname: 'h',
      facility: 4,
      severity: 2,
    });
    const out = enc.encode([{ tag: 't', message: '✓\n' }], AT).toString('utf8');
    const message = '<34>1 2024-05-01T03:04:05Z h t - - - ✓\n';
    assert.equal(out, `${Buffer.byteLength(message)} ${message}`);
  });

  test('events marked plain give the same bytes as unmarked ones, in runs of any length and tag', () => {
    const events: CollectorEvent[] = [];
    for (let i = 0; i < 3000; i++) {
      // Mostly long runs of one tag, as S3 objects give; a few runs of other tags and some
      // unmarked messages among them, non-ASCII and with line breaks too; long messages (copied
      // one by one when plain) among short ones (joined).
      const tag = i % 1000 < 990 ? 'cloud.aws.vpc.flowlogs' : `tag.${i % 3}`;
      const filler = 'x'.repeat(i % 7 === 3 ? 200 + (i % 900) : i % 150);
      const message = `2 123456789012 eni-${i} 10.0.0.1 10.0.0.2 ${filler} ACCEPT OK`;
      if (i % 97 === 5) events.push({ tag, message: `${message} é` });
      else if (i % 89 === 7) events.push({ tag, message: `${message}\r\nmore` });
      else events.push({ tag, message, plain: i % 83 !== 0 });
    }
    assert.ok(events.reduce((n, e) => n + e.message.length, 0) > 3 * 64 * 1024);
    const unmarked = events.map(({ tag, message }) => ({ tag, message }));
    for (const framing of ['newline', 'octet-counting'] as const) {
      for (const format of ['rfc3164', 'rfc5424'] as const) {
        const options = { format, framing, hostname: 'h', facility: 1, severity: 6 };
        const want = new SyslogEncoder(options).encode(unmarked, AT);
        assert.deepEqual(new SyslogEncoder(options).encode(events, AT), want, `${framing} ${format}`);
        const plainOnly = events.filter((e) => e.plain === true);
        assert.deepEqual(
          new SyslogEncoder(options).encode(plainOnly, AT),
          new SyslogEncoder(options).encode(
            plainOnly.map(({ tag, message }) => ({ tag, message })),
            AT,
          ),
          `${framing} ${format}, plain only`,
        );
      }
    }
  });

  test('a run of lines (CollectorEvent#lines) gives the bytes of its lines sent one by one', () => {
    const line = (i: number) => `2 123456789012 eni-${i} 10.0.0.1 10.0.0.2 ${'y'.repeat(i % 40)} ACCEPT OK`;
    const run = (from: number, n: number, tag = 'cloud.aws.vpc.flowlogs'): CollectorEvent => ({
      tag,
      message: Array.from({ length: n }, (_, k) => line(from + k)).join('\n'),
      plain: true,
      lines: n,
    });
    const events: CollectorEvent[] = [
      run(0, 700),
      { tag: 'cloud.aws.vpc.flowlogs', message: line(700), plain: true },
      run(701, 2),
      { tag: 'cloud.aws.vpc.flowlogs', message: `${line(703)} é` },
      run(704, 300, 'other.tag'),
      // A message with a raw CR takes the escaping path; the runs' LFs must stay line breaks.
      { tag: 'cloud.aws.vpc.flowlogs', message: `${line(1004)}\rmore` },
      run(1005, 3),
    ];
    const one = singleMessages(events);
    assert.equal(one.length, 700 + 1 + 2 + 1 + 300 + 1 + 3);
    for (const framing of ['newline', 'octet-counting'] as const) {
      for (const format of ['rfc3164', 'rfc5424'] as const) {
        const options = { format, framing, hostname: 'h', facility: 1, severity: 6 };
        const want = new SyslogEncoder(options).encode(one, AT);
        // One line per message: the runs' LFs were not escaped along with the CR.
        if (framing === 'newline') assert.equal(want.toString('latin1').split('\n').length, one.length + 1);
        assert.deepEqual(new SyslogEncoder(options).encode(events, AT), want, `${framing} ${format}`);
        const runsOnly = events.filter((e) => e.lines !== undefined);
        assert.deepEqual(
          new SyslogEncoder(options).encode(runsOnly, AT),
          new SyslogEncoder(options).encode(singleMessages(runsOnly), AT),
          `${framing} ${format}, runs only`,
        );
      }
    }
  });

  test('unframed message for datagrams', () => {
    const enc = new SyslogEncoder({
      format: 'rfc3164',
      framing: 'newline',
      hostname: 'h',
      facility: 1,
      severity: 6,
    });
    assert.equal(enc.message({ tag: 't', message: 'm' }, AT), '<14>May  1 03:04:05 h t: m');
  });
});
