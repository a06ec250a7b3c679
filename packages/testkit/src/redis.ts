/** Real Redis servers and clusters for tests: `@aicache/testkit/redis`. */
export { freePort, type RedisCluster, type RedisServer, redisInstalled, skipWithoutRedis, startRedisCluster, startRedisServer } from './redis-server.js'
