import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isCollectorError } from '../../src/core/errors.js';
import { MAX_JSON_DEPTH, jsonArrayObjects } from '../../src/formats/json-scanner.js';
import {
  CloudTrailLogSplitter,
  compactCloudTrailEvent,
  type CloudTrailRecord,
} from '../../src/formats/cloudtrail.js';
import { random } from './helpers.js';

// Differential fuzzing of the JSON scanner against JSON.parse: for every generated input the
// scanner yields exactly the records JSON.parse sees, or fails with OBJECT_CORRUPT where JSON.parse
// fails or a documented limit (MAX_JSON_DEPTH) or CloudTrail shape (an object with a Records array
// of objects) is not met. Deterministic: the same seed, the same inputs.

const rand = random(0x5eed19);
const int = (n: number): number => Math.floor(rand() * n);
const pick = <T>(items: readonly T[]): T => items[int(items.length)] as T;

const SPACE = [' ', '\n', '\r', '\t', '  \r\n'];
/** Whitespace, often none: inserted at every place JSON allows it. */
const ws = (): string => (rand() < 0.7 ? '' : pick(SPACE));

const ESCAPES = ['\\"', '\\\\', '\\/', '\\b', '\\f', '\\n', '\\r', '\\t'];
const CHARS = ['a', 'Z', '0', ' ', 'é', '€', '😀', '\u2028', '\u007f', 'Records', 'event'];

function stringText(): string {
  let s = '"';
  const length = int(12);
  for (let k = 0; k < length; k++) {
    const r = rand();
    if (r < 0.55) s += pick(CHARS);
    else if (r < 0.7) s += pick(ESCAPES);
    else if (r < 0.8) s += `\\u${int(0x10000).toString(16).padStart(4, '0')}`;
    // A surrogate pair, a lone high or low surrogate, in either case of hex digits.
    else if (r < 0.9) s += '\\uD83D\\uDE00';
    else if (r < 0.95) s += pick(['\\ud800', '\\uDFFF', '\\uDbFf']);
    else s += '\\u00e9';
  }
  return `${s}"`;
}

function numberText(): string {
  let s = rand() < 0.3 ? '-' : '';
  s += rand() < 0.2 ? '0' : `${1 + int(9)}${rand() < 0.5 ? String(int(1e9)) : ''}`;
  if (rand() < 0.3) s += `.${int(1e6)}`;
  if (rand() < 0.3) s += `${pick(['e', 'E'])}${pick(['', '+', '-'])}${int(400)}`;
  // Beyond 2^64, where a JSON round trip would change the text.
  if (rand() < 0.05) s = '12345678901234567890';
  return s;
}

const FIELD_KEYS = ['eventSource', 'eventName', 'awsRegion', 'recipientAccountId'];

function keyText(): string {
  const r = rand();
  if (r < 0.3) return `"${pick(FIELD_KEYS)}"`;
  if (r < 0.35) return '"event\\u004eame"';
  return stringText();
}

function valueText(depth: number): string {
  const r = rand();
  if (depth > 6 || r < 0.45) {
    const s = rand();
    if (s < 0.4) return stringText();
    if (s < 0.75) return numberText();
    return pick(['true', 'false', 'null']);
  }
  return r < 0.75 ? objectText(depth + 1) : arrayText(depth + 1);
}

function objectText(depth: number): string {
  const members = Array.from(
    { length: int(5) },
    () => `${ws()}${keyText()}${ws()}:${ws()}${valueText(depth)}${ws()}`,
  );
  return members.length === 0 ? `{${ws()}}` : `{${members.join(',')}}`;
}

function arrayText(depth: number): string {
  const items = Array.from({ length: int(4) }, () => `${ws()}${valueText(depth)}${ws()}`);
  return items.length === 0 ? `[${ws()}]` : `[${items.join(',')}]`;
}

/** `levels` nested arrays around a value, as in crafted documents. */
function nested(levels: number): string {
  return `${'['.repeat(levels)}1${']'.repeat(levels)}`;
}

/** A CloudTrail-like file: Records among other top-level keys; sometimes nested near the limit. */
function documentText(): string {
  const records = Array.from({ length: int(5) }, () => `${ws()}${objectText(3)}${ws()}`);
  const members = [`${ws()}"Records"${ws()}:${ws()}[${records.join(',')}${ws()}]${ws()}`];
  if (rand() < 0.5) members.unshift(`${ws()}"other"${ws()}:${ws()}${valueText(2)}`);
  if (rand() < 0.3) members.push(`"x":${ws()}${valueText(2)}`);
  if (rand() < 0.1) members.push(`"deep":${nested(MAX_JSON_DEPTH - 3 + int(4))}`);
  return `${ws()}{${members.join(',')}}${ws()}`;
}

const INTERESTING = Buffer.from('"{}[],:\\ \n0123456789eE+-.atfnul\u0000\u001f\u007f');

/** A valid document broken the ways corrupt or crafted files are. */
function mutate(text: Buffer): Buffer {
  const at = int(text.length + 1);
  switch (int(5)) {
    case 0: // truncated
      return text.subarray(0, at);
    case 1: {
      // one byte replaced
      const out = Buffer.from(text);
      if (at < out.length)
        out[at] = rand() < 0.8 ? (INTERESTING[int(INTERESTING.length)] as number) : int(256);
      return out;
    }
    case 2: // one byte removed
      return Buffer.concat([text.subarray(0, at), text.subarray(at + 1)]);
    case 3: // a byte inserted
      return Buffer.concat([
        text.subarray(0, at),
        Buffer.from([INTERESTING[int(INTERESTING.length)] as number]),
        text.subarray(at),
      ]);
    default: {
      // a piece repeated
      const end = Math.min(text.length, at + int(8));
      return Buffer.concat([text.subarray(0, end), text.subarray(at, end), text.subarray(end)]);
    }
  }
}

/** `input` cut at random places, sometimes into single bytes. */
function randomChunks(input: Buffer): Buffer[] {
  const chunks: Buffer[] = [];
  let at = 0;
  while (at < input.length) {
    const size = rand() < 0.3 ? 1 : 1 + int(rand() < 0.5 ? 8 : 200);
    chunks.push(input.subarray(at, at + size));
    at += size;
  }
  return chunks;
}

function depthOf(value: unknown): number {
  if (value === null || typeof value !== 'object') return 0;
  const children = Array.isArray(value) ? value : Object.values(value);
  return 1 + children.reduce((d: number, v) => Math.max(d, depthOf(v)), 0);
}

const isRecord = (v: unknown): v is Record<string, unknown> =>
  v !== null && typeof v === 'object' && !Array.isArray(v);

/** What the scanner must give for `text`: the records, or undefined for OBJECT_CORRUPT. */
function oracle(text: string, file: boolean): Record<string, unknown>[] | undefined {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (!isRecord(doc) || depthOf(doc) > MAX_JSON_DEPTH) return undefined;
  if (!file) return [doc];
  const records = doc.Records;
  return Array.isArray(records) && records.every(isRecord) ? records : undefined;
}

function scan(chunks: Buffer[]): CloudTrailRecord[] | undefined {
  const splitter = new CloudTrailLogSplitter();
  const out: CloudTrailRecord[] = [];
  try {
    for (const chunk of chunks) out.push(...splitter.push(chunk));
    out.push(...splitter.end());
  } catch (err) {
    assert.ok(isCollectorError(err, 'OBJECT_CORRUPT'), String(err));
    return undefined;
  }
  return out;
}

function compactOne(text: string): CloudTrailRecord[] | undefined {
  try {
    return [compactCloudTrailEvent(text)];
  } catch (err) {
    assert.ok(isCollectorError(err, 'OBJECT_CORRUPT'), String(err));
    return undefined;
  }
}

function assertSame(
  input: Buffer,
  got: CloudTrailRecord[] | undefined,
  want: Record<string, unknown>[] | undefined,
): void {
  const context = `input ${JSON.stringify(input.toString('utf8'))}`;
  if (want === undefined) {
    assert.equal(got, undefined, `${context}: JSON.parse refuses it, the scanner gave records`);
    return;
  }
  assert.ok(got !== undefined, `${context}: JSON.parse reads it, the scanner refused it`);
  assert.equal(got.length, want.length, context);
  got.forEach((record, n) => {
    const expected = want[n] as Record<string, unknown>;
    assert.ok(!/[\r\n]/.test(record.json.replace(/"(?:[^"\\]|\\.)*"/g, '')), `${context}: not compact`);
    assert.deepEqual(JSON.parse(record.json), expected, context);
    const field = (name: string): unknown =>
      typeof expected[name] === 'string' ? expected[name] : undefined;
    assert.equal(record.eventSource, field('eventSource'), context);
    assert.equal(record.eventName, field('eventName'), context);
    assert.equal(record.awsRegion, field('awsRegion'), context);
    assert.equal(record.recipientAccountId, field('recipientAccountId'), context);
  });
}

test('the scanner agrees with JSON.parse on random, mutated and truncated documents, any chunking', () => {
  let valid = 0;
  let refused = 0;
  for (let n = 0; n < 4000; n++) {
    const original = Buffer.from(documentText());
    const input = n % 2 === 0 ? original : mutate(original);
    const text = input.toString('utf8');
    const want = oracle(text, true);
    assertSame(input, scan(randomChunks(input)), want);
    // The same bytes as one event (LookupEvents, service events): one object, any shape.
    assertSame(input, compactOne(text), oracle(text, false));
    if (want === undefined) refused++;
    else valid++;
  }
  // The generator must exercise both sides.
  assert.ok(valid > 2000 && refused > 500, `${valid} read, ${refused} refused`);
});

test('random bytes and bytes of JSON punctuation: the scanner refuses what JSON.parse refuses', () => {
  for (let n = 0; n < 3000; n++) {
    const length = int(40);
    const input = Buffer.from(
      Array.from({ length }, () =>
        rand() < 0.8 ? (INTERESTING[int(INTERESTING.length)] as number) : int(256),
      ),
    );
    // A document head makes the rest reach the deeper states.
    const doc = rand() < 0.5 ? Buffer.concat([Buffer.from('{"Records":['), input]) : input;
    assertSame(doc, scan(randomChunks(doc)), oracle(doc.toString('utf8'), true));
  }
});

/** A Security Hub-like event: findings two levels down, other keys around and inside. */
function findingsEventText(): string {
  const findings = Array.from({ length: int(4) }, () => `${ws()}${objectText(3)}${ws()}`);
  const detail = [`${ws()}"findings"${ws()}:${ws()}[${findings.join(',')}]${ws()}`];
  if (rand() < 0.5) detail.unshift(`"count":${ws()}${valueText(3)}`);
  if (rand() < 0.3) detail.push(`"other":{"findings":${arrayText(3)}}`);
  const members = [`"detail"${ws()}:${ws()}{${detail.join(',')}}`];
  if (rand() < 0.5) members.unshift(`"source":${ws()}${valueText(2)}`);
  if (rand() < 0.3) members.push(`"findings":${ws()}${valueText(2)}`);
  return `${ws()}{${members.join(',')}}${ws()}`;
}

test('array elements at a path (Security Hub findings) agree with JSON.parse', () => {
  let read = 0;
  for (let n = 0; n < 3000; n++) {
    const original = Buffer.from(findingsEventText());
    const input = n % 2 === 0 ? original : mutate(original);
    const text = input.toString('utf8');
    let want: unknown[] | undefined;
    try {
      const doc = JSON.parse(text) as unknown;
      const detail = isRecord(doc) ? doc.detail : undefined;
      const findings = isRecord(detail) ? detail.findings : undefined;
      if (depthOf(doc) <= MAX_JSON_DEPTH && Array.isArray(findings) && findings.every(isRecord))
        want = findings;
    } catch {
      want = undefined;
    }
    let got: unknown[] | undefined;
    try {
      got = jsonArrayObjects(text, ['detail', 'findings'], 'event').map(
        (json) => JSON.parse(json) as unknown,
      );
    } catch (err) {
      assert.ok(isCollectorError(err, 'OBJECT_CORRUPT'), String(err));
    }
    assert.deepEqual(got, want, `input ${JSON.stringify(text)}`);
    if (want !== undefined) read++;
  }
  assert.ok(read > 1500, `${read} read`);
});
