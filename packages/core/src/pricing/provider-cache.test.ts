import { context } from '@opentelemetry/api'
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks'
import { CACHED_TOKENS_HEADER, type FakeUpstream, REASONING_TOKENS_HEADER, startFakeUpstream } from '@aicache/testkit'
import { type RedisServer, skipWithoutRedis, startRedisServer } from '@aicache/testkit/redis'
import OpenAI from 'openai7'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import type { TokenUsage } from '../exchange/types.js'
import { attribute, genAi, metric } from '../telemetry/names.js'
import { eventually, generousTimeoutMs } from '../../test/support/redis-test-support.js'
import { startTestGateway } from '../../test/support/test-gateway.js'
import { byName, sdk } from '../../test/support/test-sdk.js'
import { createPricing } from './pricing.js'

// A prompt long enough for a provider to cache most of it.
const policy = Array.from({ length: 40 }, (_, index) => `Clause ${index + 1}: refunds are issued within ${index + 3} days of a return.`).join(' ')
const priceOf = createPricing()
const knobs = (cached: number, reasoning = 0) => ({ headers: { [CACHED_TOKENS_HEADER]: String(cached), [REASONING_TOKENS_HEADER]: String(reasoning) } })

/** A chat completion's usage as aicache reads it. */
const chatUsage = (usage: OpenAI.CompletionUsage | undefined): TokenUsage => ({
  inputTokens: usage!.prompt_tokens,
  outputTokens: usage!.completion_tokens,
  cacheReadTokens: usage!.prompt_tokens_details!.cached_tokens!,
  reasoningTokens: usage!.completion_tokens_details!.reasoning_tokens!,
})

/** A Responses answer's usage as aicache reads it. */
const responseUsage = (usage: OpenAI.Responses.ResponseUsage | null | undefined): TokenUsage => ({
  inputTokens: usage!.input_tokens,
  outputTokens: usage!.output_tokens,
  cacheReadTokens: usage!.input_tokens_details.cached_tokens,
  reasoningTokens: usage!.output_tokens_details.reasoning_tokens,
})

describe('provider prompt caching, priced and observed', () => {
  let fake: FakeUpstream
  const cleanups: Array<() => Promise<void>> = []
  beforeAll(async () => {
    context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable())
    fake = await startFakeUpstream()
  })
  afterEach(async () => {
    await Promise.all(cleanups.splice(0).map((cleanup) => cleanup()))
    fake.reset()
  })
  afterAll(async () => {
    context.disable()
    await fake.close()
  })

  async function gateway() {
    const telemetry = sdk()
    const started = await startTestGateway({
      upstream: fake.url,
      telemetry: { tracerProvider: telemetry.tracerProvider, meterProvider: telemetry.meterProvider },
    })
    cleanups.push(started.close)
    // Two callers that never share entries: the same question is a miss for each.
    const client = (apiKey: string) => new OpenAI({ baseURL: `${started.url}/v1`, apiKey, maxRetries: 0 })
    return { ...started, telemetry, client }
  }

  it('prices a chat completion with cached prompt tokens lower than one without, on the miss and on what its hit saved', async () => {
    const { cache, telemetry, client } = await gateway()
    const ask = { model: 'gpt-4o-mini', messages: [{ role: 'user' as const, content: `${policy} How long do refunds take?` }] }

    const plain = await client('sk-plain').chat.completions.create(ask)
    const plainUsd = priceOf('openai', 'gpt-4o-mini', chatUsage(plain.usage))!
    expect(cache.stats().costSpentUsd).toBeCloseTo(plainUsd, 12)
    await client('sk-plain').chat.completions.create(ask)
    expect(cache.stats().costSavedUsd).toBeCloseTo(plainUsd, 12)

    const cached = await client('sk-cached').chat.completions.create(ask, knobs(512, 64))
    expect(cached.usage?.prompt_tokens).toBe(plain.usage?.prompt_tokens)
    expect(cached.usage?.prompt_tokens_details?.cached_tokens).toBe(512)
    const cachedUsd = priceOf('openai', 'gpt-4o-mini', chatUsage(cached.usage))!
    // 512 prompt tokens at gpt-4o-mini's cached rate (half the input rate): cheaper, reasoning tokens paid as output.
    expect(cachedUsd).toBeLessThan(priceOf('openai', 'gpt-4o-mini', { ...chatUsage(cached.usage), cacheReadTokens: 0 })!)
    expect(cache.stats().costSpentUsd).toBeCloseTo(plainUsd + cachedUsd, 12)
    const hit = await client('sk-cached').chat.completions.create(ask).withResponse()
    expect(hit.response.headers.get('cache-status')).toMatch(/hit/)
    // The hit saved what its miss cost, cached prompt at its own rate.
    expect(cache.stats().costSavedUsd).toBeCloseTo(plainUsd + cachedUsd, 12)
    expect(cache.stats().providerCacheTokens).toEqual({ read: 512, write: 0 })

    const hits = byName(await telemetry.spans(), 'aicache chat').filter((span) => span.attributes[attribute.result] === 'hit')
    expect(hits.map((span) => span.attributes[attribute.costSavedUsd])).toEqual([expect.closeTo(plainUsd, 12), expect.closeTo(cachedUsd, 12)])
    const [, upstream] = byName(await telemetry.spans(), 'chat gpt-4o-mini')
    expect(upstream?.attributes).toMatchObject({
      [genAi.usageInputTokens]: cached.usage?.prompt_tokens,
      [genAi.usageCacheReadInputTokens]: 512,
      [genAi.usageReasoningOutputTokens]: 64,
      [attribute.costSpentUsd]: expect.closeTo(cachedUsd, 12),
    })
    expect(upstream?.attributes[genAi.usageCacheCreationInputTokens]).toBeUndefined()
    expect(await telemetry.sum(metric.providerCacheTokens, { [attribute.providerCacheType]: 'read' })).toBe(512)
    expect(await telemetry.sum(metric.providerCacheTokens, { [attribute.providerCacheType]: 'write' })).toBe(0)
    expect(await telemetry.sum(metric.costSpent)).toBeCloseTo(plainUsd + cachedUsd, 12)
  })

  it('counts provider-cached tokens by provider, operation and model, beside the tokens aicache saved', async () => {
    const { telemetry, client } = await gateway()
    const ask = { model: 'gpt-4o-mini', messages: [{ role: 'user' as const, content: `${policy} Who pays return shipping?` }] }
    const stream = await client('sk-a').chat.completions.create({ ...ask, stream: true, stream_options: { include_usage: true } }, knobs(300))
    for await (const chunk of stream) void chunk
    await client('sk-a')
      .chat.completions.create({ ...ask, stream: true })
      .then(async (replayed) => {
        for await (const chunk of replayed) void chunk
      })
    const points = (await telemetry.points(metric.providerCacheTokens)).filter((point) => point.attributes[attribute.providerCacheType] === 'read')
    expect(points.map((point) => point.attributes)).toEqual([
      { [genAi.operationName]: 'chat', [genAi.providerName]: 'openai', [genAi.requestModel]: 'gpt-4o-mini', [attribute.providerCacheType]: 'read' },
    ])
    expect(points[0]?.value).toBe(300)
    // The streamed hit saved the whole prompt again, cached part included.
    expect(await telemetry.sum(metric.tokensSaved, { [genAi.tokenType]: 'input' })).toBeGreaterThan(300)
  })

  it('prices a Responses answer with cached input lower than one without, JSON and streamed', async () => {
    const { cache, telemetry, client } = await gateway()
    const params = { model: 'gpt-4o-mini', input: `${policy} Can I return a gift?` }
    const plain = await client('sk-plain').responses.create(params)
    const plainUsd = priceOf('openai', 'gpt-4o-mini', responseUsage(plain.usage))!
    const cached = await client('sk-cached').responses.create(params, knobs(400, 50))
    const cachedUsd = priceOf('openai', 'gpt-4o-mini', responseUsage(cached.usage))!
    expect(responseUsage(cached.usage)).toMatchObject({ inputTokens: plain.usage?.input_tokens, cacheReadTokens: 400, reasoningTokens: 50 })
    expect(cachedUsd).toBeLessThan(priceOf('openai', 'gpt-4o-mini', { ...responseUsage(cached.usage), cacheReadTokens: 0 })!)
    expect(cache.stats().costSpentUsd).toBeCloseTo(plainUsd + cachedUsd, 12)
    await client('sk-cached').responses.create(params)
    expect(cache.stats().costSavedUsd).toBeCloseTo(cachedUsd, 12)

    // A stream records response.completed's usage: its hit saves the cached price too.
    const streamed = { ...params, input: `${policy} Is a receipt needed?`, stream: true as const }
    let usage: OpenAI.Responses.ResponseUsage | null | undefined
    for await (const event of await client('sk-cached').responses.create(streamed, knobs(400))) {
      if (event.type === 'response.completed') usage = event.response.usage
    }
    const streamedUsd = priceOf('openai', 'gpt-4o-mini', responseUsage(usage))!
    for await (const event of await client('sk-cached').responses.create(streamed)) void event
    expect(cache.stats().costSavedUsd).toBeCloseTo(cachedUsd + streamedUsd, 12)
    expect(cache.stats().providerCacheTokens.read).toBe(800)
    const [, upstream] = byName(await telemetry.spans(), 'chat gpt-4o-mini')
    expect(upstream?.attributes).toMatchObject({ [genAi.usageCacheReadInputTokens]: 400, [genAi.usageReasoningOutputTokens]: 50 })
    expect(await telemetry.sum(metric.providerCacheTokens, { [attribute.providerCacheType]: 'read' })).toBe(800)
  })

  it('prices cached input at an override’s cache rate, or at its input rate without one', async () => {
    const prices = { 'gpt-4o-mini': { inputPerMillionUsd: 1, outputPerMillionUsd: 4, cacheReadPerMillionUsd: 0.25 } }
    const started = await startTestGateway({ upstream: fake.url, prices })
    cleanups.push(started.close)
    const openai = new OpenAI({ baseURL: `${started.url}/v1`, apiKey: 'sk-a', maxRetries: 0 })
    const answer = await openai.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: policy }] }, knobs(200))
    const usage = answer.usage!
    const expected = ((usage.prompt_tokens - 200) * 1 + 200 * 0.25 + usage.completion_tokens * 4) / 1e6
    expect(started.cache.stats().costSpentUsd).toBeCloseTo(expected, 15)
  })
})

describe.skipIf(skipWithoutRedis())('provider prompt caching through Redis', () => {
  let fake: FakeUpstream
  let redis: RedisServer
  beforeAll(async () => {
    fake = await startFakeUpstream()
    redis = await startRedisServer()
  })
  afterAll(async () => {
    await fake.close()
    await redis.stop()
  })

  it('an L2 hit on another instance saves what the miss cost, cached prompt at its own rate', async () => {
    const options = { upstream: fake.url, redis: { redis: redis.url, timeoutMs: generousTimeoutMs } }
    const [one, two] = await Promise.all([startTestGateway(options), startTestGateway(options)])
    try {
      await Promise.all([one.cache.ready(), two.cache.ready()])
      const ask = { model: 'gpt-4o-mini', messages: [{ role: 'user' as const, content: `${policy} Are sale items refundable?` }] }
      const miss = await new OpenAI({ baseURL: `${one.url}/v1`, apiKey: 'sk-a', maxRetries: 0 }).chat.completions.create(ask, knobs(256))
      const missUsd = priceOf('openai', 'gpt-4o-mini', chatUsage(miss.usage))!
      const other = new OpenAI({ baseURL: `${two.url}/v1`, apiKey: 'sk-a', maxRetries: 0 })
      await eventually(
        async () => ((await other.chat.completions.create(ask).withResponse()).response.headers.get('cache-status')?.includes('detail=l2') ? true : undefined),
        3_000,
        'an L2 hit',
      )
      expect(two.cache.stats().hits.l2).toBe(1)
      expect(two.cache.stats().costSavedUsd).toBeCloseTo(missUsd, 12)
      expect(missUsd).toBeLessThan(priceOf('openai', 'gpt-4o-mini', { ...chatUsage(miss.usage), cacheReadTokens: 0 })!)
    } finally {
      await Promise.all([one.close(), two.close()])
    }
  })
})
