import { type FakeUpstream, startFakeUpstream } from '@aicache/testkit'
import { type RedisServer, skipWithoutRedis, startRedisServer } from '@aicache/testkit/redis'
import OpenAI from 'openai'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import type { AiCacheOptions } from '../options.js'
import { resolveOptions } from '../options.js'
import { eventually, generousTimeoutMs } from '../../test/support/redis-test-support.js'
import { startTestGateway } from '../../test/support/test-gateway.js'

/**
 * `l1TtlMs`: the memory tier keeps an entry at most that long while Redis
 * keeps it for its whole freshness, so a hot answer leaves memory and is an
 * L2 hit next. Real Redis; polled, never timed.
 */

const question = { model: 'gpt-4o-mini', messages: [{ role: 'user' as const, content: 'How long is my warranty?' }] }
const l1TtlMs = 300

describe('l1TtlMs option', () => {
  it('is optional, positive, and the shorter of itself and redis.localTtlMs', () => {
    expect(resolveOptions({}).l1TtlMs).toBeUndefined()
    expect(resolveOptions({ l1TtlMs: 500 }).l1TtlMs).toBe(500)
    expect(resolveOptions({ redis: { redis: 'redis://h:1', localTtlMs: 200 } }).l1TtlMs).toBe(200)
    expect(resolveOptions({ l1TtlMs: 500, redis: { redis: 'redis://h:1', localTtlMs: 200 } }).l1TtlMs).toBe(200)
    expect(resolveOptions({ l1TtlMs: 100, redis: { redis: 'redis://h:1', localTtlMs: 200 } }).l1TtlMs).toBe(100)
    expect(() => resolveOptions({ l1TtlMs: 0 })).toThrow(/'l1TtlMs'/)
    expect(() => resolveOptions({ l1TtlMs: Number.NaN })).toThrow(/'l1TtlMs'/)
  })
})

describe.skipIf(skipWithoutRedis())('l1TtlMs with Redis', () => {
  let fake: FakeUpstream
  let server: RedisServer
  const cleanups: Array<() => Promise<void>> = []
  beforeAll(async () => {
    fake = await startFakeUpstream()
    server = await startRedisServer()
  })
  afterEach(async () => {
    await Promise.all(cleanups.splice(0).map((cleanup) => cleanup()))
    fake.reset()
  })
  afterAll(async () => {
    await server.stop()
    await fake.close()
  })

  async function instance(options: AiCacheOptions) {
    const gateway = await startTestGateway({ upstream: fake.url, ...options })
    await gateway.cache.ready()
    cleanups.push(gateway.close)
    const openai = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: 'sk-a', maxRetries: 0 })
    const status = async () => (await openai.chat.completions.create(question).withResponse()).response.headers.get('cache-status') ?? ''
    return { ...gateway, status }
  }

  it('lets an entry leave memory after l1TtlMs while it is still an L2 hit, then keeps it in memory again', async () => {
    const one = await instance({ l1TtlMs, redis: { redis: server.url, timeoutMs: generousTimeoutMs, infoIntervalMs: 0, onWarning: () => {} } })
    expect(await one.status()).toMatch(/fwd=uri-miss.*stored/)
    const inMemory = await one.status()
    expect(inMemory).toMatch(/detail=l1/)
    // The memory copy states its local freshness, not the hour the entry has in Redis.
    expect(Number(/ttl=(\d+)/.exec(inMemory)?.[1])).toBeLessThanOrEqual(Math.ceil(l1TtlMs / 1000))
    const fromRedis = await eventually(
      async () => {
        const status = await one.status()
        return /detail=l2/.test(status) ? status : false
      },
      5_000,
      'an L2 hit once the entry left memory',
    )
    // Redis still counts the whole hour.
    expect(Number(/ttl=(\d+)/.exec(fromRedis as string)?.[1])).toBeGreaterThan(3_000)
    expect(await one.status()).toMatch(/detail=l1/)
    expect(fake.callCount()).toBe(1)
    expect(one.cache.stats().hits.l2).toBeGreaterThanOrEqual(1)
  })

  it('bounds memory without Redis too: the entry is asked again of the upstream', async () => {
    const alone = await instance({ l1TtlMs })
    await alone.status()
    expect(await alone.status()).toMatch(/detail=l1/)
    await eventually(async () => /fwd=uri-miss/.test(await alone.status()), 5_000, 'a miss once the entry left memory')
    expect(fake.callCount()).toBe(2)
  })
})
