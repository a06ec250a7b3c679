import { setTimeout as sleep } from 'node:timers/promises'
import { type FakeUpstream, startFakeUpstream } from '@aicache/testkit'
import { type RedisServer, skipWithoutRedis, startRedisServer } from '@aicache/testkit/redis'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { generousTimeoutMs } from '../../test/support/redis-test-support.js'
import { startTestGateway } from '../../test/support/test-gateway.js'

const hot = { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'What are your opening hours?' }] }
const cold = { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Do you ship to Iceland?' }] }

async function ask(url: string, body: unknown) {
  const response = await fetch(`${url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: 'Bearer sk-a' },
    body: JSON.stringify(body),
  })
  await response.arrayBuffer()
  return { status: response.status, cacheStatus: response.headers.get('cache-status') ?? '' }
}

const callsFor = (fake: FakeUpstream, body: typeof hot) =>
  fake.calls.filter((call) => JSON.stringify((call.body as typeof hot).messages) === JSON.stringify(body.messages)).length

// Real time with a short TTL: entries expire while the test runs (about four seconds).
describe.skipIf(skipWithoutRedis())('refresh-ahead: a hot entry is refreshed before it expires, a cold one is left to expire', () => {
  let redis: RedisServer
  let fake: FakeUpstream
  const cleanups: Array<() => Promise<void>> = []
  beforeAll(async () => {
    redis = await startRedisServer()
    fake = await startFakeUpstream()
  })
  afterEach(async () => {
    await Promise.all(cleanups.splice(0).map((cleanup) => cleanup()))
    fake.reset()
  })
  afterAll(async () => {
    await fake.close()
    await redis.stop()
  })

  for (const withRedis of [false, true]) {
    it(`never misses on a hot key under steady load; a cold key is not refreshed (${withRedis ? 'memory and Redis' : 'memory'})`, async () => {
      const gateway = await startTestGateway({
        upstream: fake.url,
        ttlMs: 1_500,
        refreshAhead: { minHitsPerMinute: 600, leadMs: 1_000 },
        ...(withRedis ? { redis: { redis: redis.url, timeoutMs: generousTimeoutMs, prefix: 'ahead' } } : {}),
      })
      cleanups.push(gateway.close)
      await gateway.cache.ready()
      expect((await ask(gateway.url, hot)).cacheStatus).toMatch(/fwd=uri-miss/)
      expect((await ask(gateway.url, cold)).cacheStatus).toMatch(/fwd=uri-miss/)

      // Steady load on the hot key for more than two of its lifetimes: about 25 requests a second.
      const statuses: string[] = []
      const until = Date.now() + 4_000
      let coldAsked = false
      while (Date.now() < until) {
        statuses.push((await ask(gateway.url, hot)).cacheStatus)
        // The cold key is asked once, inside its last second: a rate far below the threshold.
        if (!coldAsked && Date.now() > until - 4_000 + 800) {
          coldAsked = true
          expect((await ask(gateway.url, cold)).cacheStatus).toMatch(/hit/)
        }
        await sleep(40)
      }
      expect(statuses.length).toBeGreaterThan(20)
      expect(statuses.filter((status) => !/^aicache; hit; ttl=\d+; detail=l[12]$/.test(status))).toEqual([])
      // Refreshed at least twice in four seconds of a 1.5-second TTL.
      expect(callsFor(fake, hot)).toBeGreaterThanOrEqual(3)
      expect(callsFor(fake, cold)).toBe(1)
      expect(gateway.cache.stats().misses).toBe(2)
      expect(gateway.cache.stats().refreshes.stored).toBe(callsFor(fake, hot) - 1)
      // The cold key expired: it is a miss now.
      expect((await ask(gateway.url, cold)).cacheStatus).toMatch(/fwd=/)
    })
  }

  it('is off by default: a hot key expires and misses', async () => {
    const gateway = await startTestGateway({ upstream: fake.url, ttlMs: 1_000 })
    cleanups.push(gateway.close)
    await ask(gateway.url, hot)
    const until = Date.now() + 1_500
    while (Date.now() < until) {
      await ask(gateway.url, hot)
      await sleep(40)
    }
    expect(callsFor(fake, hot)).toBe(2)
    expect(gateway.cache.stats().refreshes.stored).toBe(0)
  })
})
