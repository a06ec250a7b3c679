import { type FakeUpstream, startFakeUpstream } from '@aicache/testkit'
import { type RedisServer, skipWithoutRedis, startRedisServer } from '@aicache/testkit/redis'
import OpenAI from 'openai'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import type { AiCacheOptions } from '../options.js'
import { redisKeys } from '../store/redis-keys.js'
import { eventually, generousTimeoutMs, rawClient } from '../../test/support/redis-test-support.js'
import { attribute, metric } from '../telemetry/names.js'
import { byName, sdk } from '../../test/support/test-sdk.js'
import { startTestGateway } from '../../test/support/test-gateway.js'

const question = { model: 'gpt-4o-mini', messages: [{ role: 'user' as const, content: 'How do I dispute a charge?' }] }

describe.skipIf(skipWithoutRedis())('engine with Redis', () => {
  let fake: FakeUpstream
  let redis: RedisServer
  const cleanups: Array<() => Promise<void>> = []
  beforeAll(async () => {
    fake = await startFakeUpstream()
    redis = await startRedisServer()
  })
  afterEach(async () => {
    await Promise.all(cleanups.splice(0).map((cleanup) => cleanup()))
    fake.reset()
    fake.setLatency(0)
    const client = rawClient(redis.url)
    await client.flushall()
    client.disconnect()
  })
  afterAll(async () => {
    await fake.close()
    await redis.stop()
  })

  async function instance(options: AiCacheOptions = {}) {
    const gateway = await startTestGateway({
      upstream: fake.url,
      redis: { redis: redis.url, timeoutMs: generousTimeoutMs },
      ...options,
    })
    await gateway.cache.ready()
    cleanups.push(gateway.close)
    const openai = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: 'sk-a', maxRetries: 0 })
    const status = async (body: object = question) =>
      (await openai.chat.completions.create(body as typeof question).withResponse()).response.headers.get('cache-status')
    return { ...gateway, openai, status }
  }

  it('answers from L2 on another instance, then from its own L1', async () => {
    const one = await instance()
    const two = await instance()
    expect(await one.status()).toMatch(/fwd=uri-miss.*stored/)
    const l2 = await eventually(
      async () => {
        const status = await two.status()
        return status?.includes('detail=l2') ? status : undefined
      },
      3_000,
      'an L2 hit',
    )
    expect(l2).toMatch(/^aicache; hit; ttl=\d+; detail=l2$/)
    expect(await two.status()).toMatch(/detail=l1/)
    expect(two.cache.stats().hits).toMatchObject({ l2: 1, l1: 1 })
    expect(fake.callCount()).toBe(1)
  })

  it('records an L2 hit on its span and in the metrics, by tier', async () => {
    const telemetry = sdk()
    const one = await instance({ memoryTier: false, telemetry: { tracerProvider: telemetry.tracerProvider, meterProvider: telemetry.meterProvider } })
    await one.status()
    expect(await one.status()).toMatch(/detail=l2/)
    const [, hit] = byName(await telemetry.spans(), 'aicache chat')
    expect(hit?.attributes).toMatchObject({ [attribute.result]: 'hit', [attribute.tier]: 'l2' })
    expect(hit?.attributes[attribute.tokensSavedOutput]).toBeGreaterThan(0)
    expect(await telemetry.sum(metric.requests, { [attribute.result]: 'hit', [attribute.tier]: 'l2' })).toBe(1)
    const l2Lookups = (await telemetry.points(metric.lookupDuration)).filter((point) => point.attributes[attribute.tier] === 'l2')
    expect(l2Lookups.length).toBeGreaterThan(0)
  })

  it('serves from Redis alone with the memory tier off, streams included', async () => {
    const only = await instance({ memoryTier: false })
    await only.status()
    expect(await only.status()).toMatch(/detail=l2/)
    expect(await only.status()).toMatch(/detail=l2/)
    const read = async () => {
      let text = ''
      for await (const chunk of await only.openai.chat.completions.create({ ...question, seed: 9, stream: true })) {
        text += chunk.choices[0]?.delta.content ?? ''
      }
      return text
    }
    const streamed = await read()
    expect(await read()).toBe(streamed)
    expect(fake.callCount()).toBe(2)
  })

  it('sees an invalidation made on another instance at once', async () => {
    const one = await instance()
    const two = await instance()
    await one.status()
    await eventually(async () => (await two.status())?.includes('hit'), 3_000, 'a hit on the second instance')
    await one.cache.invalidate()
    await eventually(async () => (await two.status())?.includes('fwd=uri-miss'), 2_000, 'a miss after invalidate')
  })

  it('makes one upstream call for 300 identical cold requests spread over three instances', async () => {
    fake.setLatency(300)
    const instances = await Promise.all([instance(), instance(), instance()])
    const answers = await Promise.all(
      Array.from({ length: 300 }, (_, index) => instances[index % 3]!.openai.chat.completions.create({ ...question, seed: 300 })),
    )
    expect(fake.callCount()).toBe(1)
    for (const answer of answers) expect(answer.id).toBe(answers[0]!.id)
  })

  it('says collapsed, not stored, when another instance answered the call', async () => {
    fake.setLatency(300)
    const [one, two] = await Promise.all([instance(), instance()])
    const [first, second] = await Promise.all([
      one.openai.chat.completions.create({ ...question, seed: 301 }).withResponse(),
      new Promise((resolve) => setTimeout(resolve, 50)).then(() => two.openai.chat.completions.create({ ...question, seed: 301 }).withResponse()),
    ])
    expect(fake.callCount()).toBe(1)
    expect(first.response.headers.get('cache-status')).toMatch(/fwd=uri-miss; fwd-status=200; stored$/)
    expect(second.response.headers.get('cache-status')).toMatch(/fwd=uri-miss; fwd-status=200; collapsed$/)
  })

  it('caps the Redis copy of an entry at maxTtlMs, while the entry stays fresh for ttlMs', async () => {
    const one = await instance({ ttlMs: 3_600_000, redis: { redis: redis.url, timeoutMs: generousTimeoutMs, maxTtlMs: 5_000 } })
    expect(await one.status()).toMatch(/fwd=uri-miss.*stored/)
    const client = rawClient(redis.url)
    try {
      const keys = await eventually(
        async () => {
          const found = await client.keys(redisKeys('aicache').entry('*'))
          return found.length > 0 ? found : undefined
        },
        3_000,
        'the entry in Redis',
      )
      expect(keys).toHaveLength(1)
      const remainingMs = await client.pttl(keys?.[0] ?? '')
      expect(remainingMs).toBeGreaterThan(0)
      expect(remainingMs).toBeLessThanOrEqual(5_000)
    } finally {
      client.disconnect()
    }
    // The memory copy keeps the full freshness: the answer says an hour, not five seconds.
    expect(await one.status()).toMatch(/hit; ttl=3[56]\d\d; detail=l1/)
  })

  it('treats a corrupt or foreign value under a key as a miss and replaces it', async () => {
    const one = await instance({ memoryTier: false })
    await one.status()
    const client = rawClient(redis.url)
    const keys = await client.keys(redisKeys('aicache').entry('*'))
    expect(keys).toHaveLength(1)
    await client.set(keys[0]!, 'definitely not an aicache entry')
    expect(await one.status()).toMatch(/fwd=uri-miss.*stored/)
    expect(await one.status()).toMatch(/detail=l2/)
    await client.del(keys[0]!)
    await client.hset(keys[0]!, 'field', 'a hash, not a string')
    expect(await one.status()).toMatch(/fwd=uri-miss/)
    client.disconnect()
  })

  it('serves every request while Redis is killed for 5 s, and uses L2 again once it is back', async () => {
    const one = await instance({ memoryTier: false, redis: { redis: redis.url, timeoutMs: 100, coolDownMs: 500 } })
    let failures = 0
    let served = 0
    let running = true
    const load = (async () => {
      for (let index = 0; running; index++) {
        try {
          await one.openai.chat.completions.create({ ...question, seed: index % 5 })
          served++
        } catch {
          failures++
        }
      }
    })()
    await eventually(() => served > 20, 5_000, 'steady load')
    await redis.kill()
    const servedBefore = served
    await new Promise((resolve) => setTimeout(resolve, 5_000))
    expect(served).toBeGreaterThan(servedBefore)
    await redis.restart()
    await one.status({ ...question, seed: 77 })
    await eventually(async () => (await one.status({ ...question, seed: 77 }))?.includes('detail=l2'), 10_000, 'L2 hits again')
    running = false
    await load
    expect(failures).toBe(0)
    expect(one.cache.stats().redis?.errors).toBeGreaterThan(0)
  }, 30_000)

  it('bounds request latency by the Redis timeout when Redis stalls', async () => {
    const one = await instance({ memoryTier: false, redis: { redis: redis.url, timeoutMs: 100 } })
    await one.status()
    const client = rawClient(redis.url)
    await client.call('CLIENT', 'PAUSE', '2000', 'ALL')
    const latencies: number[] = []
    for (let index = 0; index < 5; index++) {
      const startedAt = performance.now()
      await one.openai.chat.completions.create({ ...question, seed: 1000 + index })
      latencies.push(performance.now() - startedAt)
    }
    client.disconnect()
    // Each request waits on Redis at most a few times its 100 ms timeout, never the 2 s pause.
    expect(Math.max(...latencies)).toBeLessThan(1_500)
  })
})
