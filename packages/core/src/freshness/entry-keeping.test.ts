import { type RedisServer, skipWithoutRedis, startRedisServer } from '@aicache/testkit/redis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { sampleEntry } from '../../test/support/store-entries.js'
import { eventually, generousTimeoutMs, rawClient } from '../../test/support/redis-test-support.js'
import { createMemoryTier } from '../store/memory-tier.js'
import { createRedisLayer } from '../store/redis-layer.js'
import { redisKeys } from '../store/redis-keys.js'
import { TieredCache } from '../tiers/tiered-cache.js'
import { countHit, entryHits, hitsPerMinute } from './entry-hits.js'

const nobody = { lookedUp: () => {} }

describe('the memory tier keeps an entry past its freshness for its grace period', () => {
  it('answers get() only while fresh, peek() until the grace period ends, then drops it', () => {
    const tier = createMemoryTier({ maxBytes: 1_000_000 })
    const now = Date.now()
    const entry = sampleEntry({ createdAt: now - 10_000, ttlMs: 9_000 })
    // Already stale: not kept whatever the grace period (a tier only takes fresh entries).
    tier.set('late', entry, 60_000)
    expect(tier.peek('late')).toBeUndefined()

    const kept = sampleEntry({ createdAt: now, ttlMs: 1_000 })
    tier.set('k', kept, 5_000)
    expect(tier.get('k', now + 500)).toBe(kept)
    expect(tier.get('k', now + 1_500)).toBeUndefined()
    expect(tier.peek('k', now + 1_500)).toBe(kept)
    expect(tier.entries).toBe(1)
    expect(tier.get('k', now + 6_500)).toBeUndefined()
    expect(tier.entries).toBe(0)
  })

  it('drops an expired entry without a grace period at once, as before', () => {
    const tier = createMemoryTier({ maxBytes: 1_000_000 })
    const now = Date.now()
    tier.set('k', sampleEntry({ createdAt: now, ttlMs: 1_000 }))
    expect(tier.peek('k', now + 1_001)).toBeUndefined()
    expect(tier.entries).toBe(0)
  })
})

describe('hit counts of an entry', () => {
  it('counts hits in place, with the last hit and a rate over about the last minute', () => {
    const createdAt = 1_000_000
    const entry = sampleEntry({ createdAt, ttlMs: 600_000 })
    expect(entryHits(entry, createdAt)).toEqual({ hits: 0, lastHitMs: undefined, hitsPerMinute: 0 })
    // 30 hits in the first 30 seconds: 60 a minute.
    for (let second = 1; second <= 30; second++) countHit(entry, createdAt + second * 1_000)
    expect(entryHits(entry, createdAt + 30_000)).toEqual({ hits: 30, lastHitMs: createdAt + 30_000, hitsPerMinute: 60 })
    // A minute and a half in, with no hit since: the first window is weighed by the half still within the last minute.
    countHit(entry, createdAt + 90_000)
    expect(hitsPerMinute(entry, createdAt + 90_000)).toBeCloseTo(1 + 30 * 0.5)
    // Gone cold: nothing for two minutes is a rate of 0.
    expect(hitsPerMinute(entry, createdAt + 240_000)).toBe(0)
  })
})

describe.skipIf(skipWithoutRedis())('Redis keeps an entry past its freshness and counts its hits without a write per hit', () => {
  let redis: RedisServer
  beforeAll(async () => {
    redis = await startRedisServer()
  })
  afterAll(() => redis.stop())

  it('PEXPIREs for freshness plus grace (bounded by maxTtlMs); get() answers fresh entries only, getRetained() stale ones too', async () => {
    const layer = await createRedisLayer({ redis: redis.url, timeoutMs: generousTimeoutMs, prefix: 'keep', maxTtlMs: 50_000 })
    const client = rawClient(redis.url)
    try {
      const now = Date.now()
      await layer.set('fresh', sampleEntry({ createdAt: now, ttlMs: 10_000 }), 30_000)
      const ttl = await client.pttl(redisKeys('keep').entry('fresh'))
      expect(ttl).toBeGreaterThan(39_000)
      expect(ttl).toBeLessThanOrEqual(40_000)
      await layer.set('capped', sampleEntry({ createdAt: now, ttlMs: 10_000 }), 600_000)
      expect(await client.pttl(redisKeys('keep').entry('capped'))).toBeLessThanOrEqual(50_000)

      // An entry that expired a moment ago, still kept: a miss for get(), found by getRetained().
      const storedAt = Date.now()
      await layer.set('stale', sampleEntry({ createdAt: storedAt - 9_500, ttlMs: 10_000 }), 30_000)
      expect(await layer.get('stale')).toBeDefined()
      await eventually(() => Date.now() > storedAt + 600, 2_000)
      expect(await layer.get('stale')).toBeUndefined()
      expect((await layer.getRetained('stale'))?.createdAt).toBe(storedAt - 9_500)
    } finally {
      client.disconnect()
      await layer.close()
    }
  })

  it('counts memory hits on the entry and sends Redis nothing for them', async () => {
    const tiers = new TieredCache({ memoryTier: true, maxBytes: 1_000_000, lockWaitMs: 1_000 })
    await tiers.connect({ redis: redis.url, timeoutMs: generousTimeoutMs, prefix: 'hits' }, () => {})
    const client = rawClient(redis.url)
    try {
      await tiers.keep('k', sampleEntry({ createdAt: Date.now(), ttlMs: 60_000 }), undefined, 30_000)
      const commands = async () => Number(/total_commands_processed:(\d+)/.exec(await client.info('stats'))![1])
      const before = await commands()
      for (let hit = 0; hit < 500; hit++) expect(tiers.lookUp('k', Date.now(), nobody)).toBeDefined()
      expect(tiers.hitsOf('k')).toMatchObject({ hits: 500 })
      // Past any flush interval: only the INFO reads themselves were processed.
      await new Promise((resolve) => setTimeout(resolve, 1_500))
      expect((await commands()) - before).toBeLessThan(3)
    } finally {
      client.disconnect()
      await tiers.close()
    }
  })
})
