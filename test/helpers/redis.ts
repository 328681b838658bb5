export { hasRedisServer, REDIS_PASSWORD, startRedis } from '../../sandbox/redis.js';
