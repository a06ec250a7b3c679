import net from 'node:net'
import type { AddressInfo } from 'node:net'
import { type FakeUpstream, startFakeUpstream } from '@aicache/testkit'
import { type RedisServer, skipWithoutRedis, startRedisServer } from '@aicache/testkit/redis'
import { Redis } from 'ioredis'
import OpenAI from 'openai'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { eventually, generousTimeoutMs } from '../../test/support/redis-test-support.js'
import { startTestGateway } from '../../test/support/test-gateway.js'
import type { WarmUpOptions } from './warm-up-options.js'

/**
 * Warm-up from Redis (`warmUp`): instances rank the keys they are asked
 * for; a new instance loads the hottest entries into its memory tier before
 * `ready()` resolves, within its bounds, and is ready in bounded time
 * whatever Redis does. Real Redis, the fake upstream, the official client.
 */

const question = (topic: string) => ({ model: 'gpt-4o-mini', messages: [{ role: 'user' as const, content: `Tell me about ${topic}.` }] })

describe.skipIf(skipWithoutRedis())('warm-up from Redis', () => {
  let fake: FakeUpstream
  let server: RedisServer
  const cleanups: Array<() => Promise<void> | void> = []
  beforeEach(async () => {
    fake = await startFakeUpstream()
    server = await startRedisServer()
  })
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
    await server.stop()
    await fake.close()
  })

  async function instance(warmUp: WarmUpOptions = {}, redisUrl = server.url) {
    const gateway = await startTestGateway({
      upstream: fake.url,
      redis: { redis: redisUrl, timeoutMs: generousTimeoutMs },
      warmUp: { flushIntervalMs: 50, ...warmUp },
    })
    cleanups.push(gateway.close)
    const openai = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: 'sk-a', maxRetries: 0 })
    const ask = async (topic: string) => (await openai.chat.completions.create(question(topic)).withResponse()).response.headers.get('cache-status') ?? ''
    return { ...gateway, ask }
  }

  it("fills a new instance's memory tier with the hottest entries before it is ready: its first requests are memory hits", async () => {
    const one = await instance()
    await one.cache.ready()
    const topics = ['parcels', 'refunds', 'invoices', 'returns', 'opening hours']
    for (const topic of topics) for (let time = 0; time < 3; time++) await one.ask(topic)
    expect(fake.callCount()).toBe(topics.length)
    // close() flushes what was counted.
    await one.close()

    const two = await instance()
    expect(two.cache.stats().memory.entries).toBe(0)
    await two.cache.ready()
    expect(two.cache.warmUpReport).toMatchObject({ loaded: topics.length, ranked: topics.length })
    expect(two.cache.stats().memory.entries).toBe(topics.length)
    for (const topic of topics) expect(await two.ask(topic)).toMatch(/hit.*detail=l1/)
    expect(fake.callCount()).toBe(topics.length)
  })

  it('loads the hottest first and no more than maxEntries', async () => {
    const one = await instance()
    await one.cache.ready()
    const askedTimes: Record<string, number> = { cold: 1, warm: 3, hot: 6 }
    for (const [topic, times] of Object.entries(askedTimes)) for (let time = 0; time < times; time++) await one.ask(topic)
    await one.close()

    const two = await instance({ maxEntries: 2 })
    await two.cache.ready()
    expect(two.cache.warmUpReport).toMatchObject({ loaded: 2, ranked: 3, skipped: 1 })
    expect(await two.ask('hot')).toMatch(/detail=l1/)
    expect(await two.ask('warm')).toMatch(/detail=l1/)
    expect(await two.ask('cold')).toMatch(/detail=l2/)
  })

  it('ranks keys while instances serve (flushed every flushIntervalMs), not only at close', async () => {
    const one = await instance()
    await one.cache.ready()
    await one.ask('parcels')
    await one.ask('parcels')
    const client = new Redis(server.url)
    cleanups.push(() => client.disconnect())
    const setKey = (await eventually(async () => (await client.keys('aicache:{hot:default}:*'))[0], 3_000, 'a ranking set in Redis')) as string
    // Both requests counted (in one flush or two), before the instance closes.
    await eventually(async () => (await client.zrevrange(setKey, 0, -1, 'WITHSCORES'))[1] === '2', 3_000, 'a count of 2')
    expect(await client.zcard(setKey)).toBe(1)
  })

  it('warms only the namespaces it is told to', async () => {
    const one = await instance({ namespaces: ['docs'] })
    await one.cache.ready()
    const openai = new OpenAI({ baseURL: `${one.url}/v1`, apiKey: 'sk-a', maxRetries: 0 })
    await openai.chat.completions.create(question('docs'), { headers: { 'x-aicache-namespace': 'docs' } })
    await one.ask('default namespace')
    await one.close()

    const two = await instance({ namespaces: ['docs'] })
    await two.cache.ready()
    expect(two.cache.warmUpReport).toMatchObject({ loaded: 1 })
    expect(await two.ask('default namespace')).toMatch(/detail=l2/)
  })

  it('leaves out entries invalidated since they were ranked (their generation is gone)', async () => {
    const one = await instance()
    await one.cache.ready()
    await one.ask('parcels')
    await one.cache.invalidate()
    await one.close()

    const two = await instance()
    await two.cache.ready()
    expect(two.cache.warmUpReport).toMatchObject({ loaded: 0, ranked: 0 })
  })

  it('is ready without warming when Redis is down', async () => {
    await server.kill()
    const two = await instance({ timeoutMs: 1_000 })
    await two.cache.ready()
    expect(two.cache.warmUpReport?.loaded).toBe(0)
    expect(two.cache.warmUpReport?.error).toEqual(expect.any(String))
    expect(await two.ask('parcels')).toMatch(/fwd=uri-miss/)
    await server.restart()
  })

  it('is ready after timeoutMs when Redis accepts connections but never answers', async () => {
    // A server that takes the connection and answers nothing: every command hangs.
    const sockets: net.Socket[] = []
    const silent = net.createServer((socket) => void sockets.push(socket)).listen(0, '127.0.0.1')
    await new Promise((resolve) => silent.once('listening', resolve))
    cleanups.push(() => {
      for (const socket of sockets) socket.destroy()
      silent.close()
    })
    const client = new Redis({ port: (silent.address() as AddressInfo).port, host: '127.0.0.1', enableReadyCheck: false, maxRetriesPerRequest: null })
    client.on('error', () => {})
    cleanups.push(() => client.disconnect())
    const gateway = await startTestGateway({ upstream: fake.url, redis: client, warmUp: { timeoutMs: 500 } })
    cleanups.push(gateway.close)
    const startedAt = Date.now()
    await gateway.cache.ready()
    // About a second waiting for Redis to connect, then at most timeoutMs of warm-up.
    expect(Date.now() - startedAt).toBeLessThan(5_000)
    expect(gateway.cache.warmUpReport?.error).toMatch(/longer than 500 ms/)
  })
})
