import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { isCollectorError } from '../../src/core/errors.js';
import { LineSplitter } from '../../src/formats/lines.js';
import { chunksOf, forEverySplit, random } from './helpers.js';

interface Line {
  line: string;
  fields: number;
  escape: boolean;
}

function splitLines(chunks: Buffer[], separator = 0x20, detectEscapes = false): Line[] {
  const out: Line[] = [];
  const splitter = new LineSplitter({ separator, detectEscapes }, (line, fields, escape) =>
    out.push({ line, fields, escape }),
  );
  for (const chunk of chunks) splitter.push(chunk);
  splitter.end();
  return out;
}

/** The obvious, slow definition the splitter must agree with. */
function reference(text: string, separator = ' ', detectEscapes = false): Line[] {
  return text
    .split('\n')
    .map((l) => (l.endsWith('\r') ? l.slice(0, -1) : l))
    .filter((l) => l.length > 0)
    .map((line) => ({
      line,
      fields: line.split(separator).length,
      escape: detectEscapes && [...line].some((c) => c < ' ' || c === '"' || c === '\\'),
    }));
}

/** A copy of `buf` starting `shift` bytes into its memory, to exercise unaligned word access. */
function shifted(buf: Buffer, shift: number): Buffer {
  const backing = Buffer.alloc(buf.length + shift);
  buf.copy(backing, shift);
  return backing.subarray(shift);
}

describe('LineSplitter', () => {
  test('lines, field counts, CRLF, blank lines, a last line without a break', () => {
    const text = 'a b c\r\n\n\r\nd\n  \nlast line here';
    assert.deepEqual(splitLines([Buffer.from(text)]), [
      { line: 'a b c', fields: 3, escape: false },
      { line: 'd', fields: 1, escape: false },
      { line: '  ', fields: 3, escape: false },
      { line: 'last line here', fields: 3, escape: false },
    ]);
  });

  test('split at every byte position, with UTF-8 characters cut across chunks', () => {
    const input = Buffer.from('x y\nçé 日本 😀 z\r\n\tτ\tab\n\n"q" \\ e\u0001\nend');
    forEverySplit(input, (chunks) => splitLines(chunks, 0x20, true), reference(input.toString(), ' ', true));
    forEverySplit(input, (chunks) => splitLines(chunks, 0x09), reference(input.toString(), '\t'));
  });

  test('agrees with the reference on random lines, chunk sizes and memory alignments', () => {
    const next = random(42);
    const alphabet = 'ab  01\t-"\\\r\né\u0002';
    for (let round = 0; round < 40; round++) {
      let text = '';
      const length = Math.floor(next() * 3000);
      for (let i = 0; i < length; i++) text += alphabet[Math.floor(next() * alphabet.length)];
      const input = shifted(Buffer.from(text), Math.floor(next() * 4));
      const size = 1 + Math.floor(next() * 200);
      const chunks = chunksOf(input, size).map((c, i) => shifted(c, (i + round) % 4));
      const detect = round % 2 === 0;
      assert.deepEqual(
        splitLines(chunks, 0x20, detect),
        reference(input.toString(), ' ', detect),
        `round ${round}`,
      );
    }
  });

  test('chunks larger than the 64 KiB decoding window', () => {
    const next = random(9);
    const lines: string[] = [];
    for (let i = 0; i < 20_000; i++) lines.push(`${i} ${'v '.repeat(Math.floor(next() * 20))}x`);
    const input = Buffer.from(`${lines.join('\n')}\n`);
    assert.ok(input.length > 4 * 64 * 1024);
    assert.deepEqual(splitLines([input]), reference(input.toString()));
    assert.deepEqual(splitLines(chunksOf(input, 100_003)), reference(input.toString()));
  });

  test('a long line over many chunks', () => {
    const line = 'w '.repeat(100_000).trimEnd();
    const out = splitLines(chunksOf(Buffer.from(`${line}\nnext\n`), 1000));
    assert.equal(out.length, 2);
    assert.equal(out[0]?.line, line);
    assert.equal(out[0]?.fields, 100_000);
  });

  test('needsEscape only while detectEscapes is on; a trailing CR is no escape', () => {
    const lines: boolean[] = [];
    const splitter = new LineSplitter({ separator: 0x20 }, (_line, _fields, escape) => lines.push(escape));
    splitter.push(Buffer.from('a"b\n'));
    splitter.detectEscapes = true;
    splitter.push(Buffer.from('a"b\nplain\r\nback\\slash\n'));
    assert.deepEqual(lines, [false, true, false, true]);
  });

  test('a line longer than maxLineBytes is OBJECT_CORRUPT at its start offset, not buffered', () => {
    const lines: string[] = [];
    const splitter = new LineSplitter({ separator: 0x20, maxLineBytes: 100, source: 's3://b/k' }, (line) =>
      lines.push(line),
    );
    splitter.push(Buffer.from('short\nxx'));
    assert.throws(
      () => {
        for (let i = 0; i < 10; i++) splitter.push(Buffer.alloc(30, 0x61));
      },
      (err: unknown) =>
        isCollectorError(err, 'OBJECT_CORRUPT') &&
        err.details.offset === 6 &&
        /^s3:\/\/b\/k: a line is longer than 100 bytes/.test(err.message),
    );
    assert.deepEqual(lines, ['short']);
  });

  test('plain: an ASCII line without CR, whatever CRs other lines of the chunk hold', () => {
    const plainOf = (chunks: Buffer[]): [string, boolean][] => {
      const out: [string, boolean][] = [];
      const splitter = new LineSplitter({ separator: 0x20 }, (line, _fields, _escape, plain) =>
        out.push([line, plain]),
      );
      for (const chunk of chunks) splitter.push(chunk);
      splitter.end();
      return out;
    };
    const input = Buffer.from('a b\r\nin\rside\nc\n\r\n\rd\nlast');
    forEverySplit(input, plainOf, [
      ['a b', true],
      ['in\rside', false],
      ['c', true],
      ['\rd', false],
      ['last', true],
    ]);
    // Lines of a chunk that is not all ASCII are never said plain, even the ASCII ones.
    assert.deepEqual(plainOf([Buffer.from('ascii\nçé\n')]), [
      ['ascii', false],
      ['çé', false],
    ]);
  });

  test('plain agrees with the line on random input: exactly when ASCII-only, never with a CR or non-ASCII', () => {
    const next = random(11);
    for (let round = 0; round < 40; round++) {
      const asciiOnly = round % 2 === 0;
      const alphabet = asciiOnly ? 'ab \r\n\n' : 'ab \r\n\né';
      let text = '';
      const length = Math.floor(next() * 2000);
      for (let i = 0; i < length; i++) text += alphabet[Math.floor(next() * alphabet.length)];
      const got: [string, boolean][] = [];
      const splitter = new LineSplitter({ separator: 0x20 }, (line, _fields, _escape, plain) =>
        got.push([line, plain]),
      );
      for (const chunk of chunksOf(Buffer.from(text), 1 + Math.floor(next() * 300))) splitter.push(chunk);
      splitter.end();
      for (const [line, plain] of got) {
        if (asciiOnly) assert.equal(plain, !line.includes('\r'), `round ${round}: ${JSON.stringify(line)}`);
        else if (plain) assert.match(line, /^[^\r\u0080-\uffff]*$/, `round ${round}`);
      }
    }
  });

  test('separator counts across word boundaries in long lines, at every memory alignment', () => {
    for (let shift = 0; shift < 4; shift++) {
      for (const line of [' '.repeat(1001), 'x'.repeat(1001), ' x'.repeat(700), 'xx x'.repeat(300)]) {
        const input = shifted(Buffer.from(`${line}\n`), shift);
        assert.deepEqual(splitLines([input]), reference(`${line}\n`), `shift ${shift}`);
      }
    }
  });

  test('refuses a separator that is not a single ASCII byte other than LF', () => {
    for (const separator of [0, 0x0a, 0x80, 1.5, -1]) {
      assert.throws(() => new LineSplitter({ separator }, () => {}), RangeError);
    }
  });
});
