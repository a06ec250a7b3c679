import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { type AiCache, createAiCache } from '@aicache/express'
import { type FakeUpstream, startFakeUpstream } from '@aicache/testkit'
import { type RedisServer, skipWithoutRedis, startRedisServer } from '@aicache/testkit/redis'
import OpenAI from 'openai'
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import { createGatewayApp } from './app.js'
import { loadConfig } from './config.js'

const questionOf = (content: string) => ({ model: 'gpt-4o-mini', messages: [{ role: 'user' as const, content }] })
const t0 = new Date('2026-01-01T00:00:00Z').getTime()

// The gateway configured from its environment variables, called with the official client; only the clock is faked.
describe.skipIf(skipWithoutRedis())('gateway freshness: AICACHE_STALE_IF_ERROR and AICACHE_STALE_WHILE_REVALIDATE', () => {
  let fake: FakeUpstream
  let redis: RedisServer
  const servers: Server[] = []
  const caches: AiCache[] = []
  beforeAll(async () => {
    fake = await startFakeUpstream()
    redis = await startRedisServer()
  })
  afterEach(async () => {
    vi.useRealTimers()
    for (const server of servers.splice(0)) {
      server.close()
      server.closeAllConnections()
    }
    await Promise.all(caches.splice(0).map((cache) => cache.close()))
    fake.reset()
  })
  afterAll(async () => {
    await fake.close()
    await redis.stop()
  })

  // Each test asks its own question: they share one Redis.
  async function start(environment: Record<string, string>, question: ReturnType<typeof questionOf>) {
    const config = loadConfig({ AICACHE_UPSTREAM_URL: fake.url, AICACHE_TTL_MS: '60000', REDIS_URL: redis.url, ...environment })
    const cache = createAiCache({ ...config.cache, retry: false })
    caches.push(cache)
    await cache.ready()
    const server = createGatewayApp(cache, undefined).listen(0, '127.0.0.1')
    await new Promise((resolve) => server.once('listening', resolve))
    servers.push(server)
    const openai = new OpenAI({ baseURL: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`, apiKey: 'sk-a', maxRetries: 0 })
    return {
      cache,
      async ask(headers: Record<string, string> = {}) {
        const { data, response } = await openai.chat.completions.create(question, { headers }).withResponse()
        return { content: data.choices[0]!.message.content, cacheStatus: response.headers.get('cache-status') ?? '' }
      },
    }
  }

  it('answers from the stale entry while the upstream answers 503, within AICACHE_STALE_IF_ERROR seconds', async () => {
    vi.useFakeTimers({ toFake: ['Date'] })
    vi.setSystemTime(t0)
    const gateway = await start({ AICACHE_STALE_IF_ERROR: '600' }, questionOf('Is my card blocked?'))
    const first = await gateway.ask()
    vi.setSystemTime(t0 + 60_000 + 300_000)
    fake.inject({ status: 503, times: 10 })
    const stale = await gateway.ask()
    expect(stale.cacheStatus).toBe('aicache; hit; ttl=-300; detail=stale-if-error')
    expect(stale.content).toBe(first.content)
    // The client's own no-cache refuses it: the 503 goes through.
    await expect(gateway.ask({ 'cache-control': 'no-cache' })).rejects.toMatchObject({ status: 503 })
    vi.setSystemTime(t0 + 60_000 + 601_000)
    await expect(gateway.ask()).rejects.toMatchObject({ status: 503 })
    expect(gateway.cache.stats().stale.error).toBe(1)
  })

  it('answers at once within AICACHE_STALE_WHILE_REVALIDATE seconds and refreshes the entry in the background', async () => {
    vi.useFakeTimers({ toFake: ['Date'] })
    vi.setSystemTime(t0)
    const gateway = await start({ AICACHE_STALE_WHILE_REVALIDATE: '120' }, questionOf('Can I change my billing date?'))
    await gateway.ask()
    vi.setSystemTime(t0 + 100_000)
    expect((await gateway.ask()).cacheStatus).toBe('aicache; hit; ttl=-40; detail=stale-while-revalidate')
    await vi.waitFor(() => expect(gateway.cache.stats().refreshes.stored).toBe(1), { timeout: 5_000 })
    expect((await gateway.ask()).cacheStatus).toMatch(/^aicache; hit; ttl=(59|60); detail=l1$/)
    expect(fake.callCount()).toBe(2)
  })
})
