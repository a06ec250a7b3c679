import { type FakeUpstream, startFakeUpstream } from '@aicache/testkit'
import { type RedisServer, skipWithoutRedis, startRedisServer } from '@aicache/testkit/redis'
import OpenAI from 'openai'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import type { AiCacheOptions } from '../options.js'
import { attribute, genAi, metric } from '../telemetry/names.js'
import { eventually, generousTimeoutMs, rawClient } from '../../test/support/redis-test-support.js'
import { sdk } from '../../test/support/test-sdk.js'
import { startTestGateway } from '../../test/support/test-gateway.js'

const ask = (content: string) => ({ model: 'gpt-4o-mini', messages: [{ role: 'user' as const, content }] })

describe('capacity signals', () => {
  let fake: FakeUpstream
  const cleanups: Array<() => Promise<void>> = []
  beforeAll(async () => {
    fake = await startFakeUpstream()
  })
  afterEach(async () => {
    await Promise.all(cleanups.splice(0).map((cleanup) => cleanup()))
    fake.reset()
    fake.setLatency(0)
  })
  afterAll(async () => {
    await fake.close()
  })

  async function instance(options: AiCacheOptions) {
    const gateway = await startTestGateway({ upstream: fake.url, ...options })
    await gateway.cache.ready()
    cleanups.push(gateway.close)
    return { ...gateway, openai: new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: 'sk-a', maxRetries: 0 }) }
  }

  it('shows requests waiting behind the concurrency cap as queue depth, and calls in flight by model', async () => {
    const telemetry = sdk()
    const gateway = await instance({ concurrency: { maxConcurrent: 1 }, telemetry: { meterProvider: telemetry.meterProvider } })
    expect(await telemetry.sum(metric.upstreamQueueDepth, { [attribute.queue]: 'concurrency' })).toBe(0)
    fake.setLatency(400)
    const answers = Promise.all([1, 2, 3, 4].map((number) => gateway.openai.chat.completions.create(ask(`Question ${number}`))))
    // One call holds the only slot; the three others wait for it.
    await eventually(async () => ((await telemetry.sum(metric.upstreamQueueDepth, { [attribute.queue]: 'concurrency' })) === 3 ? true : undefined), 3_000)
    expect(await telemetry.sum(metric.upstreamInFlight, { [genAi.operationName]: 'chat', [genAi.requestModel]: 'gpt-4o-mini' })).toBe(4)
    expect(await telemetry.sum(metric.requestsInFlight)).toBe(4)
    await answers
    expect(await telemetry.sum(metric.upstreamQueueDepth, { [attribute.queue]: 'concurrency' })).toBe(0)
    expect(await telemetry.sum(metric.upstreamInFlight)).toBe(0)
    expect(await telemetry.sum(metric.requestsInFlight)).toBe(0)
    // The tokens of the last minute, by model.
    expect(await telemetry.sum(metric.upstreamTokensPerMinute, { [genAi.requestModel]: 'gpt-4o-mini' })).toBeGreaterThan(0)
  })

  it('reports the upstream budget it paces to', async () => {
    const telemetry = sdk()
    await instance({ upstreamBudget: { tokensPerMinute: 90_000 }, telemetry: { meterProvider: telemetry.meterProvider } })
    expect(await telemetry.sum(metric.upstreamBudgetLimit, { [attribute.budget]: 'tokens_per_minute' })).toBe(90_000)
    expect(await telemetry.sum(metric.upstreamQueueDepth, { [attribute.queue]: 'budget' })).toBe(0)
  })

  it('forecasts its own traffic without Redis, and exports the forecast and the recommendation', async () => {
    const telemetry = sdk()
    const intervalMs = 200
    const gateway = await instance({
      capacity: { intervalMs, horizonsMs: [400, 1_000], scaleAheadMs: 1_000, targetUtilisation: 0.5 },
      telemetry: { meterProvider: telemetry.meterProvider },
    })
    expect(gateway.cache.capacity()?.forecast).toEqual([])
    fake.setLatency(50)
    let sent = 0
    const until = Date.now() + 6 * intervalMs
    while (Date.now() < until) {
      await Promise.all([1, 2, 3].map(() => gateway.openai.chat.completions.create(ask(`Question ${sent++}`))))
    }
    const report = (await eventually(() => {
      const current = gateway.cache.capacity()
      return current !== undefined && current.history.length >= 3 ? current : undefined
    }, 3_000))!
    expect(report.scope).toBe('instance')
    expect(report.forecast.map((entry) => entry.horizonSeconds)).toEqual([0.4, 1])
    expect(report.forecast[0]!.requestsPerSecond).toBeGreaterThan(0)
    expect(report.observed?.upstreamLatencySeconds).toBeGreaterThan(0.04)
    expect(report.recommendation?.concurrency).toBeGreaterThanOrEqual(1)
    expect(report.history.every((interval) => interval.requests === interval.calls)).toBe(true)
    expect(await telemetry.sum(metric.capacityForecastRequestsRate, { [attribute.capacityHorizon]: 1 })).toBeGreaterThan(0)
    expect(await telemetry.sum(metric.capacityRecommendedInstances)).toBe(1)
    expect(await telemetry.sum(metric.capacityRecommendedConcurrency)).toBeGreaterThanOrEqual(1)
  })

  it('is off by default: no forecast, no report', async () => {
    const telemetry = sdk()
    const gateway = await instance({ telemetry: { meterProvider: telemetry.meterProvider } })
    await gateway.openai.chat.completions.create(ask('Where is my card?'))
    expect(gateway.cache.capacity()).toBeUndefined()
    expect(await telemetry.points(metric.capacityForecastRequestsRate)).toEqual([])
  })
})

describe.skipIf(skipWithoutRedis())('capacity across instances on one Redis', () => {
  let fake: FakeUpstream
  let redis: RedisServer
  const cleanups: Array<() => Promise<void>> = []
  beforeAll(async () => {
    fake = await startFakeUpstream()
    redis = await startRedisServer()
  })
  afterAll(async () => {
    await Promise.all(cleanups.splice(0).map((cleanup) => cleanup()))
    await fake.close()
    await redis.stop()
  })

  it('adds up the counts of two engines: one forecast of the whole fleet', async () => {
    const intervalMs = 250
    const options: AiCacheOptions = {
      upstream: fake.url,
      redis: { redis: redis.url, timeoutMs: generousTimeoutMs },
      capacity: { intervalMs, settleMs: 60, historyIntervals: 100 },
    }
    const one = await startTestGateway(options)
    const two = await startTestGateway(options)
    cleanups.push(one.close, two.close)
    await Promise.all([one.cache.ready(), two.cache.ready()])
    const client = (url: string) => new OpenAI({ baseURL: `${url}/v1`, apiKey: 'sk-a', maxRetries: 0 })
    // Distinct questions: every request is an upstream call; 7 on one instance, 12 on the other.
    for (let index = 0; index < 7; index++) await client(one.url).chat.completions.create(ask(`One asks ${index}`))
    for (let index = 0; index < 12; index++) await client(two.url).chat.completions.create(ask(`Two asks ${index}`))
    // Wait until both have added the intervals of those requests and read them back.
    await new Promise((resolve) => setTimeout(resolve, 3 * intervalMs))
    const total = (report: ReturnType<typeof one.cache.capacity>) => report!.history.reduce((sum, interval) => sum + interval.requests, 0)
    await eventually(() => (total(one.cache.capacity()) === 19 && total(two.cache.capacity()) === 19 ? true : undefined), 3_000, 'fleet totals of 19')
    const [reportOne, reportTwo] = [one.cache.capacity()!, two.cache.capacity()!]
    expect(reportOne.scope).toBe('fleet')
    expect(reportOne.history.reduce((sum, interval) => sum + interval.calls, 0)).toBe(19)
    // The same fleet, the same counts.
    expect(reportTwo.history.map((interval) => [interval.startMs, interval.requests])).toEqual(
      reportOne.history.map((interval) => [interval.startMs, interval.requests]),
    )
    const redisClient = rawClient(redis.url)
    const keys = await redisClient.keys('aicache:{capacity}:requests:*')
    expect(keys.length).toBeGreaterThan(0)
    // Every key expires: the fleet's counts do not pile up.
    expect(await redisClient.pttl(keys[0]!)).toBeGreaterThan(0)
    redisClient.disconnect()
  })
})
