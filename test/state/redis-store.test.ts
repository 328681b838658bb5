import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Redis } from 'ioredis';
import { RedisStateStore } from '../../src/state/redis-store.js';
import { skipWithoutRedis, startRedis } from '../helpers/redis.js';
import { Secrets } from '../../src/telemetry/secrets.js';

const skip = skipWithoutRedis;

function storeOptions(port: number) {
  return { host: '127.0.0.1', port, password: 'test-redis-pass', db: 0, tls: false, key_prefix: 'dac:' };
}

test('RedisStateStore: replicas share state; corrupt values are a clear error', { skip }, async () => {
  const redis = await startRedis();
  const options = storeOptions(redis.port);
  const a = new RedisStateStore(options, new Secrets());
  const b = new RedisStateStore(options, new Secrets());
  const raw = new Redis({ host: '127.0.0.1', port: redis.port, password: 'test-redis-pass' });
  try {
    assert.equal(await a.get('12351/cwl_1/eu-west-1'), undefined);
    await a.set('12351/cwl_1/eu-west-1', { startTime: 1700000000000, ids: ['x'] });
    assert.deepEqual(await b.get('12351/cwl_1/eu-west-1'), { startTime: 1700000000000, ids: ['x'] });
    await raw.set('dac:broken', '{not json');
    await assert.rejects(b.get('broken'), (err: Error & { code?: string }) => {
      assert.equal(err.code, 'STATE_UNREADABLE');
      assert.match(err.message, /dac:broken/);
      assert.doesNotMatch(err.message, /test-redis-pass/);
      return true;
    });
  } finally {
    raw.disconnect();
    await a.close();
    await b.close();
    await a.close();
    await redis.stop();
  }
});

test(
  'RedisStateStore: a Redis that stops answering fails a read or write after the command timeout, naming it',
  { skip },
  async () => {
    const redis = await startRedis();
    const options = storeOptions(redis.port);
    const store = new RedisStateStore(options, new Secrets(), 200);
    const raw = new Redis({ host: '127.0.0.1', port: redis.port, password: 'test-redis-pass' });
    try {
      await store.open();
      // Redis holds every command of its clients for a second: as a partition that does not close the connection.
      await raw.call('CLIENT', 'PAUSE', '1000', 'ALL');
      const started = Date.now();
      await assert.rejects(store.get('k'), (err: Error & { code?: string }) => {
        assert.equal(err.code, 'STATE_UNREADABLE');
        assert.match(err.message, new RegExp(`redis 127.0.0.1:${redis.port} key dac:k`));
        return true;
      });
      await assert.rejects(
        store.set('k', 1),
        (err: Error & { code?: string }) => err.code === 'STATE_WRITE_FAILED',
      );
      assert.ok(Date.now() - started < 1000, 'not held until Redis answers');
    } finally {
      raw.disconnect();
      await store.close();
      await redis.stop();
    }
  },
);
