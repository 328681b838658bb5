import { busiestWindow } from '../helpers/harness.js';
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { RateLimits, retryThrottled, SlidingWindowLimiter } from '../../src/aws/rate-limiter.js';
import { isThrottling } from '../../src/aws/throttling.js';
import { isCollectorError } from '../../src/core/errors.js';

describe('SlidingWindowLimiter', () => {
  test('never grants more than the limit in any window, even to concurrent callers', async () => {
    const limiter = new SlidingWindowLimiter(2, 100);
    const grants: number[] = [];
    const started = Date.now();
    await Promise.all(
      Array.from({ length: 7 }, async () => {
        await limiter.acquire();
        grants.push(Date.now());
      }),
    );
    grants.sort((a, b) => a - b);
    // Times are taken by the callers, a little after each grant: a few ms of slack for that.
    assert.equal(busiestWindow(grants, 95), 2);
    // 7 grants at 2 per 100 ms: the last one comes after 3 full windows.
    const took = grants.at(-1)! - started;
    assert.ok(took >= 300 && took < 2_000, `took ${took} ms`);
  });

  test('a burst up to the limit is granted at once', async () => {
    const limiter = new SlidingWindowLimiter(3, 10_000);
    const started = Date.now();
    for (let i = 0; i < 3; i++) await limiter.acquire();
    assert.ok(Date.now() - started < 1_000);
  });

  test('an aborted wait resolves early', async () => {
    const limiter = new SlidingWindowLimiter(1, 10_000);
    await limiter.acquire();
    const abort = new AbortController();
    const started = Date.now();
    setTimeout(() => abort.abort(), 20);
    await limiter.acquire(abort.signal);
    assert.ok(Date.now() - started < 1_000);
  });

  test('can be turned off explicitly (benchmarks against a local fake)', async () => {
    const limiter = new RateLimits({ enabled: false }).limiter(
      'cloudtrail:LookupEvents',
      '111111111111',
      'eu-west-1',
      1,
    );
    const started = Date.now();
    for (let i = 0; i < 5; i++) await limiter.acquire();
    assert.ok(Date.now() - started < 1_000);
  });

  test('limiters are shared per API, account and region', () => {
    const limits = new RateLimits();
    const rateLimiter = limits.limiter.bind(limits);
    const a = rateLimiter('cloudtrail:LookupEvents', '111111111111', 'eu-west-1', 2);
    assert.equal(rateLimiter('cloudtrail:LookupEvents', '111111111111', 'eu-west-1', 2), a);
    assert.notEqual(rateLimiter('cloudtrail:LookupEvents', '111111111111', 'us-east-1', 2), a);
    assert.notEqual(rateLimiter('cloudtrail:LookupEvents', '222222222222', 'eu-west-1', 2), a);
    assert.notEqual(rateLimiter('logs:FilterLogEvents', '111111111111', 'eu-west-1', 5), a);
  });
});

describe('throttling', () => {
  const throttled = () =>
    Object.assign(new Error('Rate exceeded'), {
      name: 'ThrottlingException',
      $metadata: { httpStatusCode: 400 },
    });

  test('isThrottling knows the SDK trait, the names and HTTP 429, and nothing else', () => {
    assert.equal(isThrottling(throttled()), true);
    assert.equal(isThrottling({ name: 'X', $retryable: { throttling: true } }), true);
    assert.equal(isThrottling({ name: 'X', $metadata: { httpStatusCode: 429 } }), true);
    assert.equal(
      isThrottling(Object.assign(new Error('gone'), { name: 'ResourceNotFoundException' })),
      false,
    );
    assert.equal(isThrottling(undefined), false);
  });

  test('retryThrottled retries the same call until it passes', async () => {
    let calls = 0;
    const delays: number[] = [];
    const result = await retryThrottled(
      async () => {
        if (++calls < 3) throw throttled();
        return 'page';
      },
      {
        signal: new AbortController().signal,
        what: 'test call',
        baseMs: 1,
        maxMs: 5,
        onThrottled: (_a, d) => delays.push(d),
      },
    );
    assert.equal(result, 'page');
    assert.equal(calls, 3);
    assert.equal(delays.length, 2);
  });

  test('retryThrottled gives up after its rounds with AWS_CALL_FAILED naming the call, and passes other errors through', async () => {
    const signal = new AbortController().signal;
    await assert.rejects(
      retryThrottled(async () => Promise.reject(throttled()), {
        signal,
        what: 'LookupEvents in eu-west-1',
        rounds: 2,
        baseMs: 1,
        maxMs: 2,
      }),
      (err: unknown) =>
        isCollectorError(err, 'AWS_CALL_FAILED') && /LookupEvents in eu-west-1/.test(err.message),
    );
    const other = new Error('denied');
    await assert.rejects(
      retryThrottled(async () => Promise.reject(other), { signal, what: 'x', baseMs: 1 }),
      (err: unknown) => err === other,
    );
  });
});
