import type { DataPoint, Histogram } from '@opentelemetry/sdk-metrics'
import { type FakeUpstream, startFakeUpstream } from '@aicache/testkit'
import OpenAI from 'openai'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { createAiCache } from '../index.js'
import type { AiCacheOptions } from '../options.js'
import { createPricing } from '../pricing/pricing.js'
import { attribute, genAi, metric } from './names.js'
import { sdk } from '../../test/support/test-sdk.js'

const ask = (content: string, model = 'gpt-4o-mini') => ({ model, messages: [{ role: 'user' as const, content }] })

describe('metrics', () => {
  let fake: FakeUpstream
  const cleanups: Array<() => Promise<void>> = []
  beforeAll(async () => {
    fake = await startFakeUpstream()
  })
  afterEach(async () => {
    await Promise.all(cleanups.splice(0).map((cleanup) => cleanup()))
    fake.reset()
  })
  afterAll(async () => {
    await fake.close()
  })

  function engine(telemetry: ReturnType<typeof sdk>, options: AiCacheOptions['telemetry'] = {}, more: AiCacheOptions = {}) {
    const cache = createAiCache({ ...more, fetch: (input, init) => fetch(input, init), telemetry: { meterProvider: telemetry.meterProvider, ...options } })
    cleanups.push(() => cache.close())
    return { cache, openai: new OpenAI({ baseURL: fake.url, apiKey: 'sk-a', fetch: cache.fetch, maxRetries: 0 }) }
  }

  /** The points of `name` at one collection, as a reader (a Prometheus scrape) sees them. */
  async function collect(telemetry: ReturnType<typeof sdk>, name: string) {
    await new Promise((resolve) => setImmediate(resolve))
    const { resourceMetrics } = await telemetry.reader.collect()
    return resourceMetrics.scopeMetrics.flatMap((scope) =>
      scope.metrics.filter((m) => m.descriptor.name === name).flatMap((m) => m.dataPoints as DataPoint<number | Histogram>[]),
    )
  }

  it('reports a new counter series at zero first, so rate() and increase() count its first requests', async () => {
    const telemetry = sdk()
    const { openai } = engine(telemetry)
    await openai.chat.completions.create(ask('Where is my card?'))
    await openai.chat.completions.create(ask('Where is my card?'))
    await openai.chat.completions.create(ask('Where is my card?'))
    // First scrape: the series exists, at zero; second: its count. An
    // increase from 0 to 3 is what Prometheus can see.
    const first = await collect(telemetry, metric.requests)
    expect(first.map((point) => [point.attributes[attribute.result], point.value])).toEqual([
      ['miss', 0],
      ['hit', 0],
    ])
    const second = await collect(telemetry, metric.requests)
    expect(second.map((point) => [point.attributes[attribute.result], point.value])).toEqual([
      ['miss', 1],
      ['hit', 2],
    ])
    // Dollars spent: the first answer's price appears as an increase too.
    expect((await collect(telemetry, metric.costSpent))[0]?.value).toBeGreaterThan(0)
  })

  it('has the retry and rejection series of every operation at zero before the first one', async () => {
    const telemetry = sdk()
    engine(telemetry)
    const retries = await collect(telemetry, metric.upstreamRetries)
    expect(retries.map((point) => [point.attributes[genAi.operationName], point.value])).toEqual([
      ['chat', 0],
      ['text_completion', 0],
      ['embeddings', 0],
    ])
    expect((await collect(telemetry, metric.rateLimitRejections)).map((point) => point.value)).toEqual([0, 0, 0])
  })

  it('counts upstream errors by error.type, from zero', async () => {
    const telemetry = sdk()
    const { openai } = engine(telemetry, {}, { retry: { maxAttempts: 1 } })
    fake.inject({ status: 500, times: 2 })
    await expect(openai.chat.completions.create(ask('a'))).rejects.toThrow()
    await expect(openai.chat.completions.create(ask('b'))).rejects.toThrow()
    expect((await collect(telemetry, metric.upstreamErrors)).map((point) => point.value)).toEqual([0])
    const errors = await collect(telemetry, metric.upstreamErrors)
    expect(errors.map((point) => [point.attributes[genAi.errorType], point.value])).toEqual([['500', 2]])
  })

  it('adds up two unnamed engines of one process instead of reporting the last one', async () => {
    const telemetry = sdk()
    const a = engine(telemetry)
    const b = engine(telemetry)
    await a.openai.chat.completions.create(ask('A question'))
    for (let index = 0; index < 5; index++) await a.openai.chat.completions.create(ask('A question'))
    await b.openai.chat.completions.create(ask('B question'))
    for (let index = 0; index < 2; index++) await b.openai.chat.completions.create(ask('B question'))
    expect(await telemetry.sum(metric.requests, { [attribute.result]: 'hit' })).toBe(7)
    expect(await telemetry.sum(metric.requests, { [attribute.result]: 'miss' })).toBe(2)
    expect(await telemetry.sum(metric.memoryEntries)).toBe(2)
    expect(await telemetry.sum(metric.memoryBytes)).toBe(a.cache.stats().memory.bytes + b.cache.stats().memory.bytes)
  })

  it('labels the series of named engines with aicache.engine', async () => {
    const telemetry = sdk()
    const a = engine(telemetry, { engine: 'chat-path' })
    const b = engine(telemetry, { engine: 'batch-path' })
    await a.openai.chat.completions.create(ask('A question'))
    for (let index = 0; index < 5; index++) await a.openai.chat.completions.create(ask('A question'))
    await b.openai.chat.completions.create(ask('B question'))
    for (let index = 0; index < 2; index++) await b.openai.chat.completions.create(ask('B question'))
    const hits = (name: string) => telemetry.sum(metric.requests, { [attribute.result]: 'hit', [attribute.engine]: name })
    expect([await hits('chat-path'), await hits('batch-path')]).toEqual([5, 2])
    expect(await telemetry.sum(metric.memoryEntries, { [attribute.engine]: 'chat-path' })).toBe(1)
    expect(await telemetry.sum(metric.memoryEntries, { [attribute.engine]: 'batch-path' })).toBe(1)
    const durations = await telemetry.points(metric.requestDuration)
    expect(new Set(durations.map((point) => point.attributes[attribute.engine]))).toEqual(new Set(['chat-path', 'batch-path']))
    const upstream = await telemetry.points(metric.operationDuration)
    expect(upstream.map((point) => point.attributes[attribute.engine]).sort()).toEqual(['batch-path', 'chat-path'])
  })

  it('prices an answer naming a snapshot the price table does not know by the model requested', async () => {
    const telemetry = sdk()
    const { cache, openai } = engine(telemetry)
    const usage = { prompt_tokens: 1000, completion_tokens: 500, total_tokens: 1500 }
    fake.inject({
      status: 200,
      body: {
        id: 'chatcmpl-snapshot',
        object: 'chat.completion',
        created: 1,
        model: 'gpt-4o-2099-01-01',
        choices: [{ index: 0, message: { role: 'assistant', content: 'It is on its way.' }, finish_reason: 'stop' }],
        usage,
      },
    })
    await openai.chat.completions.create(ask('Where is my card?', 'gpt-4o'))
    await openai.chat.completions.create(ask('Where is my card?', 'gpt-4o'))
    const price = createPricing()('openai', 'gpt-4o', { inputTokens: 1000, outputTokens: 500 })
    expect(createPricing()('openai', 'gpt-4o-2099-01-01', { inputTokens: 1000, outputTokens: 500 })).toBeUndefined()
    expect(price).toBeGreaterThan(0)
    expect(cache.stats().costSpentUsd).toBeCloseTo(price!, 12)
    expect(cache.stats().costSavedUsd).toBeCloseTo(price!, 12)
    expect(await telemetry.sum(metric.costSpent)).toBeCloseTo(price!, 12)
  })

  it('caps the model-labelled upstream histograms at 1,000 attribute sets plus the overflow set', async () => {
    const telemetry = sdk()
    const { cache } = engine(telemetry)
    const call = async (index: number) => {
      const response = await cache.fetch(`${fake.url}/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: 'Bearer sk-a' },
        body: JSON.stringify(ask('hello', `made-up-${index}`)),
      })
      await response.arrayBuffer()
    }
    // The first 1,000 models one at a time (the order decides which sets are kept), then 100 more.
    for (let batch = 0; batch < 1100; batch += 50) {
      await Promise.all(Array.from({ length: 50 }, (_, offset) => call(batch + offset)))
    }
    const durations = await telemetry.points(metric.operationDuration)
    expect(durations).toHaveLength(1001)
    const overflow = durations.find((point) => point.attributes['otel.metric.overflow'] === true)
    expect((overflow?.value as Histogram).count).toBe(100)
    expect(durations.reduce((total, point) => total + (point.value as Histogram).count, 0)).toBe(1100)
    expect(await telemetry.points(metric.tokenUsage)).toHaveLength(1001)
    expect((await telemetry.points(metric.costSpent)).length).toBeLessThanOrEqual(1001)
  }, 60_000)
})
