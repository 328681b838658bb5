import { hasRedisServer } from '../../sandbox/redis.js';

export { hasRedisServer, REDIS_PASSWORD, startRedis } from '../../sandbox/redis.js';

/** Tests needing redis-server: CI installs it (.ci/run); elsewhere they say why they did not run. */
export const skipWithoutRedis =
  !hasRedisServer() && !process.env.CI
    ? 'redis-server is not installed (apt-get install redis-server)'
    : false;
