import { type RedisCluster, type RedisServer, skipWithoutRedis, startRedisCluster, startRedisServer } from '@aicache/testkit/redis'
import { describeRateLimiterContract } from '@aicache/testkit/contracts'
import { Cluster, Redis } from 'ioredis'
import * as vitest from 'vitest'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { AiCacheError } from '../errors.js'
import { createRedisCounterStore } from './redis-counter-store.js'
import { type Admission, createRateLimiter } from './rate-limiter.js'

const skip = skipWithoutRedis()

describe.skipIf(skip)('Redis counter store', () => {
  let server: RedisServer
  const clients: Redis[] = []
  let stores = 0

  function client(): Redis {
    const created = new Redis(server.url, { maxRetriesPerRequest: 1 })
    // Connection errors are expected while the server is killed; the limiter reports them.
    created.on('error', () => {})
    clients.push(created)
    return created
  }

  beforeAll(async () => {
    server = await startRedisServer()
  })

  afterAll(async () => {
    for (const each of clients) each.disconnect()
    await server.stop()
  })

  describe('with the caller clock', () => {
    let shared: Redis
    beforeAll(() => {
      shared = client()
    })
    // A prefix per store keeps the suite's tests apart in one Redis.
    describeRateLimiterContract(vitest, {
      name: 'Redis',
      createStore: () => createRedisCounterStore(shared, { clock: 'caller', prefix: `suite:${++stores}:` }),
      createRateLimiter,
    })
  })

  it('three instances on one scope hold a global limit of 300/min within 5% under 600 concurrent admits', async () => {
    const limiters = [client(), client(), client()].map((each) =>
      createRateLimiter({ requestsPerMinute: 300 }, { store: createRedisCounterStore(each, { prefix: 'hammer:' }), storeTimeoutMs: 5_000 }),
    )
    const decisions = await Promise.all(Array.from({ length: 600 }, (_, index) => limiters[index % 3]!.admit('shared-scope', { estimatedTokens: 0 })))
    const allowed = decisions.filter((decision) => decision.allowed).length
    // A minute's burst is 300; the budget refills 5 a second while the test runs.
    expect(allowed).toBeGreaterThanOrEqual(285)
    expect(allowed).toBeLessThanOrEqual(315)
  })

  it("keeps a scope's keys in one hash slot and lets them expire", async () => {
    const redis = client()
    const limiter = createRateLimiter({ requestsPerMinute: 60, tokensPerMinute: 6_000 }, { store: createRedisCounterStore(redis, { prefix: 'keys:' }) })
    await limiter.admit('tenant-7', { estimatedTokens: 100 })
    const keys = (await redis.keys('keys:*')).sort()
    expect(keys).toEqual(['keys:{tenant-7}:requests', 'keys:{tenant-7}:tokens'])
    const ttlMs = await redis.pttl('keys:{tenant-7}:requests')
    expect(ttlMs).toBeGreaterThan(0)
    expect(ttlMs).toBeLessThanOrEqual(2_000)
  })

  it('refuses a prefix with braces, which would break the hash tag', () => {
    expect(() => createRedisCounterStore(client(), { prefix: 'a{b}:' })).toThrow(AiCacheError)
  })

  it('admits without Redis (fail open) and uses it again once it is back', async () => {
    let nowMs = 0
    const onStoreError = vi.fn()
    const redis = client()
    const limiter = createRateLimiter(
      { requestsPerMinute: 1 },
      { store: createRedisCounterStore(redis, { prefix: 'failopen:' }), now: () => nowMs, storeTimeoutMs: 100, onStoreError },
    )
    await server.kill()
    try {
      for (let index = 0; index < 6; index++) {
        const decision = (await limiter.admit('alice', { estimatedTokens: 0 })) as Admission
        expect(decision).toMatchObject({ allowed: true, headers: {} })
        await decision.settle(0) // a fail-open admission has nothing to settle
      }
      // Five failures opened the store's breaker: the sixth did not wait for Redis.
      expect(onStoreError).toHaveBeenCalledTimes(5)
    } finally {
      await server.restart()
    }
    await vi.waitFor(() => redis.ping(), { timeout: 5_000, interval: 100 })
    nowMs += 5_000
    // Another scope: admissions timed out during the outage may still land once Redis is back.
    await expect(limiter.admit('bob', { estimatedTokens: 0 })).resolves.toMatchObject({ allowed: true, headers: { 'x-ratelimit-remaining-requests': '0' } })
    await expect(limiter.admit('bob', { estimatedTokens: 0 })).resolves.toMatchObject({ allowed: false })
  })
})

describe.skipIf(skip)('Redis counter store on a Redis Cluster', () => {
  let cluster: RedisCluster
  let client: Cluster

  beforeAll(async () => {
    cluster = await startRedisCluster()
    client = new Cluster(cluster.nodes.map(({ host, port }) => ({ host, port })))
  }, 30_000)

  afterAll(async () => {
    client?.disconnect()
    await cluster?.stop()
  })

  it('limits every scope with one script call, whichever node owns its slot', async () => {
    const limiter = createRateLimiter({ requestsPerMinute: 2, tokensPerMinute: 1_000 }, { store: createRedisCounterStore(client), storeTimeoutMs: 5_000 })
    for (const scope of ['a', 'b', 'c', 'd', 'e', 'f']) {
      await expect(limiter.admit(scope, { estimatedTokens: 400 })).resolves.toMatchObject({ allowed: true })
      await expect(limiter.admit(scope, { estimatedTokens: 400 })).resolves.toMatchObject({ allowed: true })
      await expect(limiter.admit(scope, { estimatedTokens: 100 })).resolves.toMatchObject({ allowed: false, limit: 'requests' })
    }
  })
})
