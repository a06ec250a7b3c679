import { freePort, type RedisServer, skipWithoutRedis, startRedisServer } from '@aicache/testkit/redis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { eventually } from '../../test/support/redis-test-support.js'
import { AiCache } from './engine.js'

describe.skipIf(skipWithoutRedis())('stats().redis.connected', () => {
  let redis: RedisServer
  beforeAll(async () => {
    redis = await startRedisServer()
  })
  afterAll(() => redis.stop())

  it('is false while nothing listens on the Redis URL, although the breaker is still closed', async () => {
    const engine = new AiCache({ redis: { redis: `redis://127.0.0.1:${await freePort()}`, onStateChange: () => {} } })
    try {
      await engine.ready()
      // No call has failed yet, so the breaker alone would say all is well.
      expect(engine.stats().redis).toMatchObject({ connected: false, state: 'closed' })
    } finally {
      await engine.close()
    }
  })

  it('is true once Redis answers, and false again when it goes away', async () => {
    const engine = new AiCache({ redis: { redis: redis.url, onStateChange: () => {} } })
    try {
      await engine.ready()
      expect(engine.stats().redis).toMatchObject({ connected: true, state: 'closed' })
      await redis.kill()
      await eventually(() => engine.stats().redis?.connected === false, 3_000, 'connected: false')
    } finally {
      await engine.close()
      await redis.restart()
    }
  })
})
