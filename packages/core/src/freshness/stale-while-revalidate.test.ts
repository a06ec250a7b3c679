import { type FakeUpstream, startFakeUpstream } from '@aicache/testkit'
import { type RedisServer, skipWithoutRedis, startRedisServer } from '@aicache/testkit/redis'
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import { eventually, generousTimeoutMs } from '../../test/support/redis-test-support.js'
import { startTestGateway } from '../../test/support/test-gateway.js'

const question = { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'How do I reset my password?' }] }
const t0 = new Date('2026-01-01T00:00:00Z').getTime()

async function ask(url: string, headers: Record<string, string> = {}) {
  const response = await fetch(`${url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: 'Bearer sk-a', ...headers },
    body: JSON.stringify(question),
  })
  const text = await response.text()
  return { status: response.status, cacheStatus: response.headers.get('cache-status') ?? '', text }
}

// Only the clock is faked (entries are dated with Date.now); sockets, timers and Redis are real.
describe.skipIf(skipWithoutRedis())('stale-while-revalidate: answered at once from the stale entry, refreshed once across every instance', () => {
  let redis: RedisServer
  let fake: FakeUpstream
  const cleanups: Array<() => Promise<void>> = []
  beforeAll(async () => {
    redis = await startRedisServer()
    fake = await startFakeUpstream()
  })
  afterEach(async () => {
    vi.useRealTimers()
    await Promise.all(cleanups.splice(0).map((cleanup) => cleanup()))
    fake.reset()
  })
  afterAll(async () => {
    await fake.close()
    await redis.stop()
  })

  async function instances(count: number, prefix: string) {
    const started = []
    for (let index = 0; index < count; index++) {
      const gateway = await startTestGateway({
        upstream: fake.url,
        ttlMs: 60_000,
        staleWhileRevalidateMs: 300_000,
        retry: false,
        redis: { redis: redis.url, timeoutMs: generousTimeoutMs, prefix },
      })
      cleanups.push(gateway.close)
      await gateway.cache.ready()
      started.push(gateway)
    }
    return started
  }

  it('100 concurrent requests over three instances on one Redis: every one answered, exactly one refresh call', async () => {
    vi.useFakeTimers({ toFake: ['Date'] })
    vi.setSystemTime(t0)
    const gateways = await instances(3, 'swr100')
    const first = await ask(gateways[0]!.url)
    expect(first.cacheStatus).toMatch(/stored/)
    // Each instance holds the entry in memory too.
    expect((await ask(gateways[1]!.url)).cacheStatus).toMatch(/hit/)
    expect((await ask(gateways[2]!.url)).cacheStatus).toMatch(/hit/)
    expect(fake.callCount()).toBe(1)

    vi.setSystemTime(t0 + 90_000)
    // The refresh takes a while, so the requests arrive while it is under way.
    fake.inject({ delayMs: 300 })
    const answers = await Promise.all(Array.from({ length: 100 }, (_, index) => ask(gateways[index % 3]!.url)))
    for (const answer of answers) {
      expect(answer.status).toBe(200)
      expect(answer.cacheStatus).toMatch(/^aicache; hit; ttl=(-30; detail=stale-while-revalidate|\d+; detail=l[12])$/)
    }
    expect(answers.filter((answer) => answer.cacheStatus.includes('stale-while-revalidate')).length).toBeGreaterThan(0)
    await eventually(() => fake.callCount() === 2, 5_000, 'the refresh call')
    await eventually(() => gateways.some((gateway) => gateway.cache.stats().refreshes.stored === 1), 5_000, 'the refresh stored')
    // Refreshed: every instance answers fresh now (from Redis where its memory held the stale one).
    for (const gateway of gateways) expect((await ask(gateway.url)).cacheStatus).toMatch(/^aicache; hit; ttl=60; detail=l[12]$/)
    // Time for any second refresh to show itself.
    await new Promise((resolve) => setTimeout(resolve, 400))
    expect(fake.callCount()).toBe(2)
    const stats = gateways.map((gateway) => gateway.cache.stats())
    expect(stats.reduce((sum, each) => sum + each.refreshes.stored, 0)).toBe(1)
    expect(stats.reduce((sum, each) => sum + each.stale.revalidate, 0)).toBe(answers.filter((answer) => answer.cacheStatus.includes('stale')).length)
  })

  it('keeps the stale entry when the refresh fails, and refreshes again on a later stale answer', async () => {
    vi.useFakeTimers({ toFake: ['Date'] })
    vi.setSystemTime(t0)
    const [gateway] = await instances(1, 'swrfail')
    const first = await ask(gateway!.url)
    vi.setSystemTime(t0 + 61_000)
    fake.inject({ status: 500, times: 1 })
    const stale = await ask(gateway!.url)
    expect(stale.cacheStatus).toBe('aicache; hit; ttl=-1; detail=stale-while-revalidate')
    expect(stale.text).toBe(first.text)
    await eventually(() => gateway!.cache.stats().refreshes.failed === 1, 5_000, 'the failed refresh')
    expect((await ask(gateway!.url)).cacheStatus).toMatch(/stale-while-revalidate/)
    // Tried again no sooner than a second later, by a later stale answer.
    expect(fake.callCount()).toBe(2)
    vi.setSystemTime(t0 + 62_500)
    expect((await ask(gateway!.url)).cacheStatus).toMatch(/stale-while-revalidate/)
    await eventually(() => gateway!.cache.stats().refreshes.stored === 1, 5_000, 'the second refresh')
    expect((await ask(gateway!.url)).cacheStatus).toMatch(/^aicache; hit; ttl=60; detail=l1$/)
    expect(fake.callCount()).toBe(3)
  })

  it('past the window the request is a miss; no-cache and a stricter max-age never get the stale answer', async () => {
    vi.useFakeTimers({ toFake: ['Date'] })
    vi.setSystemTime(t0)
    const [gateway] = await instances(1, 'swrpast')
    await ask(gateway!.url)
    vi.setSystemTime(t0 + 61_000)
    expect((await ask(gateway!.url, { 'cache-control': 'no-cache' })).cacheStatus).toMatch(/^aicache; fwd=request/)
    vi.setSystemTime(t0 + 122_000)
    expect((await ask(gateway!.url, { 'cache-control': 'max-age=30' })).cacheStatus).toMatch(/^aicache; fwd=stale/)
    vi.setSystemTime(t0 + 183_000 + 300_000)
    expect((await ask(gateway!.url)).cacheStatus).toMatch(/^aicache; fwd=stale/)
    expect(gateway!.cache.stats().stale.revalidate).toBe(0)
  })
})
