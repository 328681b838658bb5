import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CollectorError, ErrorCodes } from '../../src/core/errors.js';
import { createLogger } from '../../src/telemetry/logger.js';
import { Secrets } from '../../src/telemetry/secrets.js';

test('secrets never reach the log: by key name, by registered value, inside messages and errors', () => {
  const lines: string[] = [];
  const secrets = new Secrets();
  const logger = createLogger({
    secrets,
    debug: true,
    destination: { write: (l: string) => void lines.push(l) },
  });
  secrets.register('wJalrXUtnFEMI/K7MDENG/registered');
  logger.info(
    { credentials: { access_key: 'AKIAKEY', access_secret: 'plain-secret-value' }, token: 'tok-123456' },
    'configured',
  );
  logger.warn(`request failed with secret wJalrXUtnFEMI/K7MDENG/registered in the URL`);
  logger.error(
    {
      err: new CollectorError(
        ErrorCodes.OUTPUT_REJECTED,
        'POST https://h/stream/d/token!wJalrXUtnFEMI/K7MDENG/registered/x failed',
      ),
    },
    'output failed',
  );
  logger.debug({ nested: { deeper: ['wJalrXUtnFEMI/K7MDENG/registered'] } }, 'debug is on');
  const text = lines.join('');
  assert.equal(lines.length, 4, 'globals.debug enables debug level');
  assert.doesNotMatch(text, /plain-secret-value|tok-123456|wJalrXUtnFEMI/);
  assert.match(text, /\[REDACTED\]/);
  assert.match(text, /"code":"OUTPUT_REJECTED"/, 'errors keep their stable code');
});

test("a logger scrubs what its own registry holds, not another registry's secrets", () => {
  const lines: { a: string[]; b: string[] } = { a: [], b: [] };
  const a = new Secrets();
  const b = new Secrets();
  const loggerA = createLogger({ secrets: a, destination: { write: (l: string) => void lines.a.push(l) } });
  const loggerB = createLogger({ secrets: b, destination: { write: (l: string) => void lines.b.push(l) } });
  a.register('only-in-registry-a-0001');
  for (const logger of [loggerA, loggerB])
    logger.info({ event: 'probe', detail: 'only-in-registry-a-0001' }, 'saw only-in-registry-a-0001');
  const [recordA, recordB] = [lines.a, lines.b].map((l) => JSON.parse(l[0]!) as Record<string, string>);
  assert.equal(recordA!.detail, '[REDACTED]');
  assert.equal(recordA!.msg, 'saw [REDACTED]');
  assert.equal(recordB!.detail, 'only-in-registry-a-0001', 'b never saw the secret registered in a');
  assert.equal(recordB!.msg, 'saw only-in-registry-a-0001');
});

test('without debug, debug lines are dropped', () => {
  const lines: string[] = [];
  const logger = createLogger({
    secrets: new Secrets(),
    destination: { write: (l: string) => void lines.push(l) },
  });
  logger.debug('hidden');
  logger.info('shown');
  assert.equal(lines.length, 1);
});

test('control bytes from data are escaped in fields, messages and errors: C0, DEL, C1', () => {
  const lines: string[] = [];
  const logger = createLogger({
    secrets: new Secrets(),
    destination: { write: (l: string) => void lines.push(l) },
  });
  const garbage = 'a\u001b[2Jb\u0000c\u007fd\u009b31me\rf\tg';
  logger.warn({ line: garbage, err: new Error(`bad row ${garbage}`) }, `skipped ${garbage}`);
  const record = JSON.parse(lines[0]!) as { line: string; msg: string; err: { message: string } };
  const escaped = 'a\\u001b[2Jb\\u0000c\\u007fd\\u009b31me\\u000df\tg';
  assert.equal(record.line, escaped);
  assert.equal(record.msg, `skipped ${escaped}`);
  assert.equal(record.err.message, `bad row ${escaped}`);
  assert.doesNotMatch(lines[0]!, /[\u007f-\u009f]/);
});
