/**
 * Types of aicache's Redis layer: the `redis` option of `createAiCache` and
 * of every adapter. They describe ioredis clients by the members aicache
 * recognises them by, so naming them never needs ioredis installed; ioredis
 * itself is loaded only when a Redis URL is configured.
 *
 * @example
 * ```ts
 * import { Redis } from 'ioredis'
 * import { createAiCache } from '@aicache/core'
 * import type { IoredisClient, RedisLayerOptions } from '@aicache/core/redis'
 *
 * const client: IoredisClient = new Redis(process.env.REDIS_URL!)
 * const redis: RedisLayerOptions = { redis: client, prefix: 'chat' }
 * const cache = createAiCache({ redis })
 * ```
 */
export type { IoredisClient, RedisConnection } from './store/redis-client.js'
export type { RedisLayerOptions } from './store/redis-layer-options.js'
export type { RedisSentinel, RedisTlsOptions } from './store/redis-connection-options.js'
export type { RedisServerFacts } from './store/redis-info.js'
// The ACL rules of a Redis user limited to what aicache runs (docs/redis.md).
export { redisAclRules } from './store/redis-acl.js'
