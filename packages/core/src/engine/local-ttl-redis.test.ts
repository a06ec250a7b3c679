import { type FakeUpstream, startFakeUpstream } from '@aicache/testkit'
import { type RedisServer, skipWithoutRedis, startRedisServer } from '@aicache/testkit/redis'
import OpenAI from 'openai'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { eventually, generousTimeoutMs } from '../../test/support/redis-test-support.js'
import { startTestGateway } from '../../test/support/test-gateway.js'

/**
 * `redis.localTtlMs`: an entry stays in an instance's memory tier at most
 * that long, so the time an instance that cannot hear invalidations keeps
 * serving an invalidated entry is known. Real Redis; polled, never timed.
 */

const question = { model: 'gpt-4o-mini', messages: [{ role: 'user' as const, content: 'When does my contract end?' }] }
const localTtlMs = 300

describe.skipIf(skipWithoutRedis())('redis.localTtlMs', () => {
  let fake: FakeUpstream
  let server: RedisServer
  const cleanups: Array<() => Promise<void>> = []
  beforeEach(async () => {
    fake = await startFakeUpstream()
    server = await startRedisServer()
  })
  afterEach(async () => {
    await Promise.all(cleanups.splice(0).map((cleanup) => cleanup()))
    await server.stop()
    await fake.close()
  })

  async function instance() {
    const gateway = await startTestGateway({
      upstream: fake.url,
      // failureThreshold 1: once Redis is gone, the breaker answers at once instead of each call failing on its own.
      redis: { redis: server.url, timeoutMs: generousTimeoutMs, localTtlMs, failureThreshold: 1 },
    })
    await gateway.cache.ready()
    cleanups.push(gateway.close)
    const openai = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: 'sk-a', maxRetries: 0 })
    const status = async () => (await openai.chat.completions.create(question).withResponse()).response.headers.get('cache-status') ?? ''
    return { ...gateway, status }
  }

  it('lets an entry promoted from Redis live in memory no longer than localTtlMs, then reads Redis again', async () => {
    const one = await instance()
    const two = await instance()
    expect(await one.status()).toMatch(/fwd=uri-miss/)
    await eventually(async () => /detail=l2/.test(await two.status()), 3_000, 'an L2 hit on two')
    // A request of two's that came before one's entry reached Redis made its own call: count from the L2 hit on.
    const calls = fake.callCount()
    expect(await two.status()).toMatch(/detail=l1/)
    // The memory copy states its local freshness, not the hour the entry has in Redis.
    expect(Number(/ttl=(\d+)/.exec(await two.status())?.[1])).toBeLessThanOrEqual(Math.ceil(localTtlMs / 1000))
    await eventually(async () => /detail=l2/.test(await two.status()), 5_000, 'two reading Redis again')
    expect(fake.callCount()).toBe(calls)
  })

  it('bounds how long an instance cut off from Redis serves an entry invalidated elsewhere', async () => {
    const one = await instance()
    const two = await instance()
    await one.status()
    await eventually(async () => /detail=l2/.test(await two.status()), 3_000, 'an L2 hit on two')
    await server.kill()
    // The bump cannot reach two: its memory copy is all it has, for at most localTtlMs.
    await one.cache.invalidate()
    await eventually(async () => /fwd=uri-miss/.test(await two.status()), 5_000, 'two answering from upstream')
    await server.restart()
  })
})
