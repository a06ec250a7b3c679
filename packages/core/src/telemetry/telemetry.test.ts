import { context, metrics, SpanStatusCode, trace } from '@opentelemetry/api'
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks'
import type { Histogram } from '@opentelemetry/sdk-metrics'
import { type FakeUpstream, startFakeUpstream } from '@aicache/testkit'
import OpenAI from 'openai'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { startTestGateway } from '../../test/support/test-gateway.js'
import { createAiCache } from '../index.js'
import { attribute, genAi, metric } from './names.js'
import { byName, sdk } from '../../test/support/test-sdk.js'

const question = { model: 'gpt-4o-mini', messages: [{ role: 'user' as const, content: 'Why was my card declined?' }] }

describe('telemetry', () => {
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

  async function observedGateway(options: { retry?: { maxAttempts: number; baseDelayMs: number } } = {}) {
    const telemetry = sdk()
    const gateway = await startTestGateway({
      ...options,
      upstream: fake.url,
      telemetry: { tracerProvider: telemetry.tracerProvider, meterProvider: telemetry.meterProvider },
    })
    cleanups.push(gateway.close)
    return { ...telemetry, ...gateway, openai: new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: 'sk-a', maxRetries: 0 }) }
  }

  it('records a miss with a GenAI client span and a hit with what it saved', async () => {
    const { openai, spans, sum, points, cache } = await observedGateway()
    const miss = await openai.chat.completions.create(question)
    await openai.chat.completions.create(question)

    const [missSpan, hitSpan] = byName(await spans(), 'aicache chat')
    expect(missSpan?.attributes).toMatchObject({ [attribute.result]: 'miss', [genAi.requestModel]: 'gpt-4o-mini' })
    expect(hitSpan?.attributes).toMatchObject({
      [attribute.result]: 'hit',
      [attribute.tier]: 'l1',
      [attribute.namespace]: 'default',
      [attribute.tokensSavedInput]: miss.usage?.prompt_tokens,
      [attribute.tokensSavedOutput]: miss.usage?.completion_tokens,
    })
    expect(hitSpan?.attributes[attribute.costSavedUsd]).toBeGreaterThan(0)
    // A hit spent nothing: no GenAI usage on it.
    expect(hitSpan?.attributes[genAi.usageInputTokens]).toBeUndefined()

    const [client] = byName(await spans(), 'chat gpt-4o-mini')
    expect(client?.parentSpanContext?.spanId).toBe(missSpan?.spanContext().spanId)
    expect(client?.attributes).toMatchObject({
      [genAi.operationName]: 'chat',
      [genAi.providerName]: 'openai',
      [genAi.requestModel]: 'gpt-4o-mini',
      [genAi.responseModel]: 'gpt-4o-mini',
      [genAi.responseId]: miss.id,
      [genAi.responseFinishReasons]: ['stop'],
      [genAi.usageInputTokens]: miss.usage?.prompt_tokens,
      [genAi.usageOutputTokens]: miss.usage?.completion_tokens,
      [genAi.serverAddress]: '127.0.0.1',
      [genAi.serverPort]: fake.port,
    })

    expect(await sum(metric.requests, { [attribute.result]: 'hit', [attribute.tier]: 'l1' })).toBe(1)
    expect(await sum(metric.requests, { [attribute.result]: 'miss' })).toBe(1)
    expect(await sum(metric.tokensSaved, { [genAi.tokenType]: 'output' })).toBe(miss.usage?.completion_tokens)
    expect(await sum(metric.tokenUsage, { [genAi.tokenType]: 'input' })).toBe(miss.usage?.prompt_tokens)
    expect(await sum(metric.costSaved)).toBeCloseTo(cache.stats().costSavedUsd, 12)
    expect(await sum(metric.costSpent)).toBeCloseTo(cache.stats().costSpentUsd, 12)
    expect(cache.stats().costSpentUsd).toBeGreaterThan(0)
    const [duration] = await points(metric.operationDuration)
    expect((duration?.value as Histogram).count).toBe(1)
    expect(await sum(metric.memoryEntries)).toBe(1)
  })

  it('marks the upstream span of a failed call with error.type and its retries', async () => {
    const { openai, spans, sum } = await observedGateway({ retry: { maxAttempts: 3, baseDelayMs: 1 } })
    fake.inject({ status: 503, times: 3 })
    await expect(openai.chat.completions.create(question)).rejects.toThrow()
    const [client] = byName(await spans(), 'chat gpt-4o-mini')
    expect(client?.attributes[genAi.errorType]).toBe('503')
    expect(client?.attributes[attribute.upstreamAttempts]).toBe(3)
    expect(client?.events.filter((event) => event.name === 'aicache.retry')).toHaveLength(2)
    expect(client?.status.code).toBe(2)
    expect(await sum(metric.upstreamRetries)).toBe(2)
    expect(fake.callCount()).toBe(3)
  })

  it('marks a rate-limited request on its span and counts the rejection', async () => {
    const telemetry = sdk()
    const gateway = await startTestGateway({
      upstream: fake.url,
      rateLimit: { requestsPerMinute: 1 },
      telemetry: { tracerProvider: telemetry.tracerProvider, meterProvider: telemetry.meterProvider },
    })
    cleanups.push(gateway.close)
    const openai = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: 'sk-a', maxRetries: 0 })
    await openai.chat.completions.create(question)
    await expect(openai.chat.completions.create({ ...question, seed: 1 })).rejects.toThrow(/Rate limit/)
    const limited = byName(await telemetry.spans(), 'aicache chat')[1]
    expect(limited?.attributes).toMatchObject({ [attribute.rateLimited]: true, [attribute.result]: 'error', [genAi.errorType]: 'rate_limited' })
    // A 429 is the caller's doing: as on an HTTP server span, the status stays unset.
    expect(limited?.status.code).toBe(SpanStatusCode.UNSET)
    expect(await telemetry.sum(metric.rateLimitRejections)).toBe(1)
  })

  it('ends the span of a stream when the stream ends, with the usage the stream reported', async () => {
    const { openai, spans } = await observedGateway()
    const stream = await openai.chat.completions.create({ ...question, stream: true })
    let chunks = 0
    for await (const _chunk of stream) chunks++
    expect(chunks).toBeGreaterThan(2)
    const [request] = byName(await spans(), 'aicache chat')
    const [client] = byName(await spans(), 'chat gpt-4o-mini')
    expect(request?.attributes[attribute.stream]).toBe(true)
    expect(client?.attributes[genAi.usageOutputTokens]).toBeGreaterThan(0)
    expect(client?.attributes[genAi.requestStream]).toBe(true)
  })

  it('times the chunks of a streamed miss with the GenAI streaming metrics', async () => {
    const { openai, points } = await observedGateway()
    const stream = await openai.chat.completions.create({ ...question, stream: true })
    let chunks = 0
    for await (const _chunk of stream) chunks++
    const [first] = await points(metric.timeToFirstChunk)
    expect((first?.value as Histogram).count).toBe(1)
    expect(first?.attributes).toMatchObject({ [genAi.operationName]: 'chat', [genAi.requestModel]: 'gpt-4o-mini' })
    const [between] = await points(metric.timePerOutputChunk)
    // Every event after the first, the usage chunk included.
    expect((between?.value as Histogram).count).toBeGreaterThanOrEqual(chunks - 1)
  })

  it('puts the request parameters on the upstream span, and content as GenAI messages when asked to', async () => {
    const telemetry = sdk()
    const gateway = await startTestGateway({
      upstream: fake.url,
      telemetry: { tracerProvider: telemetry.tracerProvider, meterProvider: telemetry.meterProvider, recordContent: true },
    })
    cleanups.push(gateway.close)
    const openai = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: 'sk-a', maxRetries: 0 })
    const answer = await openai.chat.completions.create({ ...question, max_tokens: 50, temperature: 0.2, top_p: 0.9, seed: 7, stop: ['END'] })
    const [client] = byName(await telemetry.spans(), 'chat gpt-4o-mini')
    expect(client?.attributes).toMatchObject({
      [genAi.requestMaxTokens]: 50,
      [genAi.requestTemperature]: 0.2,
      [genAi.requestTopP]: 0.9,
      [genAi.requestSeed]: 7,
      [genAi.requestStopSequences]: ['END'],
      [genAi.requestStream]: false,
    })
    expect(JSON.parse(String(client?.attributes[genAi.inputMessages]))).toEqual([
      { role: 'user', parts: [{ type: 'text', content: 'Why was my card declined?' }] },
    ])
    expect(JSON.parse(String(client?.attributes[genAi.outputMessages]))).toEqual([
      { role: 'assistant', parts: [{ type: 'text', content: answer.choices[0]?.message.content }], finish_reason: 'stop' },
    ])
    expect(client?.attributes['aicache.prompt']).toBeUndefined()
  })

  it('records nothing and throws nothing without an SDK', async () => {
    const gateway = await startTestGateway({ upstream: fake.url })
    cleanups.push(gateway.close)
    const openai = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: 'sk-a', maxRetries: 0 })
    await openai.chat.completions.create(question)
    await openai.chat.completions.create(question)
    expect(gateway.cache.stats()).toMatchObject({ requests: 2, hits: { l1: 1 } })
    expect(trace.getActiveSpan()).toBeUndefined()
  })

  it('sends data to an SDK registered after the engine was created', async () => {
    const cache = createAiCache({ fetch: (input, init) => fetch(input, init) })
    const telemetry = sdk()
    trace.setGlobalTracerProvider(telemetry.tracerProvider)
    metrics.setGlobalMeterProvider(telemetry.meterProvider)
    cleanups.push(async () => {
      trace.disable()
      metrics.disable()
    })
    const openai = new OpenAI({ baseURL: fake.url, apiKey: 'sk-a', fetch: cache.fetch, maxRetries: 0 })
    await openai.chat.completions.create(question)
    await openai.chat.completions.create(question)
    expect(byName(await telemetry.spans(), 'aicache chat')).toHaveLength(2)
    expect(await telemetry.sum(metric.requests)).toBe(2)
  })
})
