import { type FakeUpstream, startFakeUpstream } from '@aicache/testkit'
import { type RedisServer, skipWithoutRedis, startRedisServer } from '@aicache/testkit/redis'
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import { generousTimeoutMs } from '../../test/support/redis-test-support.js'
import { startTestGateway } from '../../test/support/test-gateway.js'

const question = { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Which plan includes priority support?' }] }
const t0 = new Date('2026-01-01T00:00:00Z').getTime()

async function ask(url: string, headers: Record<string, string> = {}, body: unknown = question) {
  const response = await fetch(`${url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: 'Bearer sk-a', ...headers },
    body: JSON.stringify(body),
  })
  const text = await response.text()
  return { status: response.status, cacheStatus: response.headers.get('cache-status') ?? '', warning: response.headers.get('warning'), text }
}

// Only the clock is faked (entries are dated with Date.now); sockets, timers and Redis are real.
describe.skipIf(skipWithoutRedis())('stale-if-error: an expired entry answers while the upstream fails, within its grace period', () => {
  let redis: RedisServer
  let fake: FakeUpstream
  const cleanups: Array<() => Promise<void>> = []
  beforeAll(async () => {
    redis = await startRedisServer()
  })
  afterEach(async () => {
    vi.useRealTimers()
    await Promise.all(cleanups.splice(0).map((cleanup) => cleanup()))
    await fake.close()
  })
  afterAll(() => redis.stop())

  async function gateway(options: { redis?: boolean; staleIfErrorMs?: number }) {
    fake = await startFakeUpstream()
    const started = await startTestGateway({
      upstream: fake.url,
      ttlMs: 60_000,
      staleIfErrorMs: options.staleIfErrorMs ?? 120_000,
      retry: false,
      ...(options.redis ? { redis: { redis: redis.url, timeoutMs: generousTimeoutMs, prefix: `sie${Math.random().toString(36).slice(2)}` } } : {}),
    })
    cleanups.push(started.close)
    await started.cache.ready()
    return started
  }

  for (const tiers of ['memory', 'memory and Redis', 'Redis alone'] as const) {
    it(`answers from stale on a 503 and when the upstream is unreachable, none after the grace period (${tiers})`, async () => {
      vi.useFakeTimers({ toFake: ['Date'] })
      vi.setSystemTime(t0)
      const { url, cache } = await gateway({ redis: tiers !== 'memory' })
      if (tiers === 'Redis alone') cache.clear()
      const first = await ask(url)
      expect(first.cacheStatus).toMatch(/fwd=uri-miss;.*stored/)
      if (tiers === 'Redis alone') cache.clear()

      // Just expired (the TTL is a minute): the upstream answers 503.
      vi.setSystemTime(t0 + 61_000)
      fake.inject({ status: 503, times: 10 })
      const on503 = await ask(url)
      expect(on503.status).toBe(200)
      expect(on503.cacheStatus).toBe(`aicache; hit; ttl=-1; detail=stale-if-error`)
      expect(on503.warning).toBeNull()
      expect(on503.text).toBe(first.text)
      expect(fake.callCount()).toBe(2)

      // The upstream is gone: still the stale answer, now two minutes stale at most.
      await fake.close()
      vi.setSystemTime(t0 + 60_000 + 119_000)
      const unreachable = await ask(url)
      expect(unreachable.status).toBe(200)
      expect(unreachable.cacheStatus).toBe(`aicache; hit; ttl=-119; detail=stale-if-error`)

      // Past the grace period: the failure, not the entry.
      vi.setSystemTime(t0 + 60_000 + 121_000)
      const after = await ask(url)
      expect(after.status).toBeGreaterThanOrEqual(500)
      expect(after.cacheStatus).toMatch(/^aicache; fwd=/)
      expect(cache.stats().stale).toEqual({ error: 2, revalidate: 0 })
      expect(cache.stats().hits.l1 + cache.stats().hits.l2).toBe(2)
    })
  }

  it('never answers stale to a request that said no-cache, or whose max-age the entry is older than', async () => {
    vi.useFakeTimers({ toFake: ['Date'] })
    vi.setSystemTime(t0)
    const { url, cache } = await gateway({})
    await ask(url)
    vi.setSystemTime(t0 + 65_000)
    fake.inject({ status: 503, times: 10 })
    expect((await ask(url, { 'cache-control': 'no-cache' })).status).toBe(503)
    expect((await ask(url, { 'cache-control': 'max-age=30' })).status).toBe(503)
    // A request can narrow the window (or turn it off) with its own directive...
    expect((await ask(url, { 'cache-control': 'stale-if-error=2' })).status).toBe(503)
    expect((await ask(url, { 'cache-control': 'stale-if-error=0' })).status).toBe(503)
    // ...and a max-age it still meets, or a wider stale-if-error, leaves the stale answer.
    expect((await ask(url, { 'cache-control': 'max-age=120' })).cacheStatus).toMatch(/detail=stale-if-error/)
    expect((await ask(url, { 'cache-control': 'stale-if-error=10' })).cacheStatus).toMatch(/ttl=-5; detail=stale-if-error/)
    expect(cache.stats().stale.error).toBe(2)
  })

  it('keeps nothing past the TTL when it is off (the default)', async () => {
    vi.useFakeTimers({ toFake: ['Date'] })
    vi.setSystemTime(t0)
    const { url } = await gateway({ staleIfErrorMs: 0 })
    await ask(url)
    vi.setSystemTime(t0 + 61_000)
    fake.inject({ status: 503, times: 10 })
    // Even a request asking for stale-if-error finds nothing kept.
    expect((await ask(url, { 'cache-control': 'stale-if-error=600' })).status).toBe(503)
  })

  it('replays a stale stream entry like a hit', async () => {
    vi.useFakeTimers({ toFake: ['Date'] })
    vi.setSystemTime(t0)
    const { url } = await gateway({})
    const streamed = { ...question, stream: true }
    const first = await ask(url, {}, streamed)
    expect(first.text).toContain('[DONE]')
    vi.setSystemTime(t0 + 70_000)
    fake.inject({ status: 500, times: 10 })
    const stale = await ask(url, {}, streamed)
    expect(stale.cacheStatus).toBe('aicache; hit; ttl=-10; detail=stale-if-error')
    expect(stale.text).toContain('[DONE]')
    // A stream entry answers a JSON request too, as a hit does.
    const json = await ask(url)
    expect(json.status).toBe(200)
    expect(JSON.parse(json.text).choices[0].message.content).toBeTruthy()
  })
})
