import { embeddedInputs, type FakeUpstream, startFakeUpstream } from '@aicache/testkit'
import { type RedisServer, skipWithoutRedis, startRedisServer } from '@aicache/testkit/redis'
import OpenAI from 'openai'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { createAiCache } from '../index.js'
import type { AiCacheOptions } from '../options.js'
import { attribute, genAi, metric } from '../telemetry/names.js'
import { generousTimeoutMs } from '../../test/support/redis-test-support.js'
import { byName, sdk } from '../../test/support/test-sdk.js'
import { startTestGateway } from '../../test/support/test-gateway.js'

const model = 'text-embedding-3-small'
const chunks = Array.from({ length: 100 }, (_, index) => `Chunk ${index}: how do I activate the card number ${index * 7} I received by post?`)

interface EmbeddingsAnswer {
  object: string
  data: Array<{ object: string; index: number; embedding: number[] | string }>
  model: string
  usage: { prompt_tokens: number; total_tokens: number }
}

/** The inputs of each upstream embeddings call the fake received, in order. */
function inputsPerCall(fake: FakeUpstream): unknown[][] {
  return fake.calls.filter((call) => call.path === '/v1/embeddings').map(embeddedInputs)
}

describe('per-input embeddings', () => {
  let fake: FakeUpstream
  const cleanups: Array<() => Promise<void> | void> = []
  beforeAll(async () => {
    fake = await startFakeUpstream()
  })
  afterEach(async () => {
    await Promise.all(cleanups.splice(0).map((cleanup) => cleanup()))
    fake.reset()
    fake.setLatency(0)
  })
  afterAll(() => fake.close())

  /** What the upstream itself answers for a body, asked directly (not through the cache). */
  async function upstreamAnswer(body: Record<string, unknown>, apiKey = 'sk-a'): Promise<EmbeddingsAnswer> {
    const response = await fetch(`${fake.url}/embeddings`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${apiKey}` },
      body: JSON.stringify(body),
    })
    return (await response.json()) as EmbeddingsAnswer
  }

  function clientMode(options: AiCacheOptions = {}) {
    const cache = createAiCache(options)
    const ask = async (body: Record<string, unknown>, apiKey = 'sk-a') => {
      const response = await cache.fetch(`${fake.url}/embeddings`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${apiKey}` },
        body: JSON.stringify(body),
      })
      return { status: response.status, cacheStatus: response.headers.get('cache-status') ?? '', answer: (await response.json()) as EmbeddingsAnswer }
    }
    return { cache, ask }
  }

  it('sends exactly the changed inputs of a batch upstream, and answers as the upstream would for the whole batch', async () => {
    const { cache, ask } = clientMode()
    const first = await ask({ model, input: chunks, encoding_format: 'float' })
    expect(first.cacheStatus).toBe('aicache; fwd=uri-miss; fwd-status=200; stored; fwd-inputs=100')
    expect(inputsPerCall(fake)).toEqual([chunks])

    const changed = chunks.map((chunk, index) => (index % 10 === 3 ? `${chunk} (revised)` : chunk))
    const second = await ask({ model, input: changed, encoding_format: 'float' })
    const revised = changed.filter((_, index) => index % 10 === 3)
    expect(revised).toHaveLength(10)
    expect(inputsPerCall(fake)).toEqual([chunks, revised])
    expect(second.cacheStatus).toBe('aicache; fwd=partial; fwd-status=200; stored; hit-inputs=90; fwd-inputs=10')

    const whole = await upstreamAnswer({ model, input: changed, encoding_format: 'float' })
    expect(second.answer.data).toEqual(whole.data)
    expect(second.answer.data.map((item) => item.index)).toEqual(changed.map((_, index) => index))
    expect(second.answer.model).toBe(whole.model)
    // Usage is what the upstream charged for the ten inputs it was sent.
    const charged = await upstreamAnswer({ model, input: revised })
    expect(second.answer.usage).toEqual({ prompt_tokens: charged.usage.prompt_tokens, total_tokens: charged.usage.prompt_tokens })
    expect(cache.stats().tokensSaved.input).toBe(whole.usage.prompt_tokens - charged.usage.prompt_tokens)
    expect(cache.stats().embeddings).toEqual({ inputsFromCache: 90, inputsSent: 110, inputsCollapsed: 0, upstreamCalls: 2, batchesMerged: 0 })

    const third = await ask({ model, input: changed, encoding_format: 'float' })
    expect(third.cacheStatus).toMatch(/^aicache; hit; ttl=\d+; detail=l1; hit-inputs=100$/)
    expect(third.answer.data).toEqual(whole.data)
    expect(cache.stats().embeddings.upstreamCalls).toBe(2)
  })

  it('serves float and base64 from one entry, each identical to the upstream answer in that encoding', async () => {
    const { cache, ask } = clientMode()
    const input = ['What is the exchange rate?', 'Why was my card declined?']
    await ask({ model, input, encoding_format: 'float' })
    const asBase64 = await ask({ model, input, encoding_format: 'base64' })
    expect(asBase64.cacheStatus).toMatch(/hit/)
    expect(asBase64.answer.data).toEqual((await upstreamAnswer({ model, input, encoding_format: 'base64' })).data)

    const others = ['Can I get a refund?', 'Where is my transfer?']
    await ask({ model, input: others, encoding_format: 'base64' })
    const asFloat = await ask({ model, input: others })
    expect(asFloat.cacheStatus).toMatch(/hit/)
    expect(asFloat.answer.data).toEqual((await upstreamAnswer({ model, input: others })).data)
    expect(cache.stats().embeddings.upstreamCalls).toBe(2)
  })

  it('keys inputs by model and dimensions but not by user', async () => {
    const { ask } = clientMode()
    await ask({ model, input: 'top up', dimensions: 8, user: 'alice' })
    expect((await ask({ model, input: 'top up', dimensions: 8, user: 'bob' })).cacheStatus).toMatch(/hit/)
    const other = await ask({ model, input: 'top up', dimensions: 4 })
    expect(other.cacheStatus).toMatch(/fwd=uri-miss/)
    expect((other.answer.data[0]?.embedding as number[]).length).toBe(4)
    expect((await ask({ model: 'text-embedding-3-large', input: 'top up', dimensions: 8 })).cacheStatus).toMatch(/fwd=uri-miss/)
  })

  it('merges concurrent single-input misses into a handful of upstream calls, each caller getting its own vector', async () => {
    const { cache, ask } = clientMode({ embeddings: { batchWindowMs: 20 } })
    const singles = chunks.slice(0, 50)
    const answers = await Promise.all(singles.map((input) => ask({ model, input })))
    expect(fake.callCount('/v1/embeddings')).toBeLessThanOrEqual(5)
    expect(inputsPerCall(fake).flat().sort()).toEqual([...singles].sort())
    for (const [index, input] of singles.entries()) {
      expect(answers[index]!.answer.data).toEqual((await upstreamAnswer({ model, input })).data)
    }
    expect(cache.stats().embeddings.batchesMerged).toBeGreaterThan(0)
    expect(cache.stats().embeddings.inputsSent).toBe(50)
  })

  it('keeps merged calls within the input limit', async () => {
    const { ask } = clientMode({ embeddings: { batchWindowMs: 100, maxBatchInputs: 4 } })
    await Promise.all(chunks.slice(0, 10).map((input) => ask({ model, input })))
    const sizes = inputsPerCall(fake).map((inputs) => inputs.length)
    expect(Math.max(...sizes)).toBe(4)
    expect(sizes.reduce((sum, size) => sum + size)).toBe(10)
    expect(sizes.filter((size) => size === 4).length).toBeGreaterThanOrEqual(2)
  })

  it('fetches an input being fetched for another request once', async () => {
    const { cache, ask } = clientMode()
    fake.setLatency(100)
    const [first, second] = await Promise.all([ask({ model, input: ['a', 'b'] }), ask({ model, input: ['b', 'c'] })])
    expect(inputsPerCall(fake).flat().sort()).toEqual(['a', 'b', 'c'])
    expect(second.cacheStatus).toContain('collapsed-inputs=1')
    expect(first.answer.data[1]?.embedding).toEqual(second.answer.data[0]?.embedding)
    expect(cache.stats().embeddings.inputsCollapsed).toBe(1)
  })

  it('never shares vectors between tenants', async () => {
    const { ask } = clientMode({ embeddings: { batchWindowMs: 20 } })
    await ask({ model, input: 'my balance' }, 'sk-tenant-a')
    const other = await ask({ model, input: 'my balance' }, 'sk-tenant-b')
    expect(other.cacheStatus).toMatch(/fwd=uri-miss/)
    // Concurrent misses of two tenants are never merged into one call either.
    await Promise.all([ask({ model, input: 'x' }, 'sk-tenant-a'), ask({ model, input: 'y' }, 'sk-tenant-b')])
    const keys = fake.calls.map((call) => call.headers['authorization'])
    expect(keys).toEqual(['Bearer sk-tenant-a', 'Bearer sk-tenant-b', expect.any(String), expect.any(String)])
    expect(
      inputsPerCall(fake)
        .slice(2)
        .map((inputs) => inputs.length),
    ).toEqual([1, 1])
  })

  it('an upstream error for a merged call reaches every waiting caller and nothing is stored', async () => {
    const { cache, ask } = clientMode({ embeddings: { batchWindowMs: 20 }, retry: false })
    fake.inject({ status: 503 })
    // The last request waits on the first one's input: it gets the failure too.
    const answers = await Promise.all(['one', 'two', 'three', 'one'].map((input) => ask({ model, input })))
    expect(fake.callCount('/v1/embeddings')).toBe(1)
    for (const answer of answers) {
      expect(answer.status).toBe(503)
      expect(answer.cacheStatus).toMatch(/^aicache; fwd=uri-miss; fwd-status=503/)
    }
    expect(answers[3]?.cacheStatus).toBe('aicache; fwd=uri-miss; fwd-status=503; collapsed; collapsed-inputs=1')
    expect(cache.stats().memory.entries).toBe(0)
    const again = await ask({ model, input: 'one' })
    expect(again.status).toBe(200)
    expect(again.cacheStatus).toMatch(/fwd=uri-miss/)
  })

  it('sends the inputs of a merged call the upstream refuses again request by request', async () => {
    const { ask } = clientMode({ embeddings: { batchWindowMs: 20 } })
    fake.inject({ status: 400 })
    const answers = await Promise.all(['alpha', 'beta'].map((input) => ask({ model, input })))
    expect(answers.map((answer) => answer.status)).toEqual([200, 200])
    expect(inputsPerCall(fake).map((inputs) => inputs.length)).toEqual([2, 1, 1])
  })

  it('records inputs from the cache, inputs sent and merged calls on the span, in metrics and in stats', async () => {
    const telemetry = sdk()
    const { cache, ask } = clientMode({
      embeddings: { batchWindowMs: 20 },
      telemetry: { tracerProvider: telemetry.tracerProvider, meterProvider: telemetry.meterProvider },
    })
    await ask({ model, input: ['a', 'b', 'c'] })
    await ask({ model, input: ['a', 'b', 'd'] })
    await Promise.all([ask({ model, input: 'e' }), ask({ model, input: 'f' })])
    const requests = byName(await telemetry.spans(), 'aicache embeddings')
    expect(requests[1]?.attributes).toMatchObject({
      [attribute.embeddingInputsCached]: 2,
      [attribute.embeddingInputsSent]: 1,
      [attribute.embeddingInputsCollapsed]: 0,
      [attribute.result]: 'miss',
      [attribute.tokensSavedInput]: expect.any(Number),
    })
    // One upstream span per call, the merged one included.
    expect(byName(await telemetry.spans(), `embeddings ${model}`)).toHaveLength(3)
    expect(await telemetry.sum(metric.embeddingInputs, { [attribute.embeddingSource]: 'cache' })).toBe(2)
    expect(await telemetry.sum(metric.embeddingInputs, { [attribute.embeddingSource]: 'upstream' })).toBe(6)
    expect(await telemetry.sum(metric.embeddingBatchesMerged)).toBe(1)
    expect(await telemetry.sum(metric.tokenUsage, { [genAi.tokenType]: 'input' })).toBeGreaterThan(0)
    expect(cache.stats().embeddings).toEqual({ inputsFromCache: 2, inputsSent: 6, inputsCollapsed: 0, upstreamCalls: 3, batchesMerged: 1 })
  })

  it('embeddings: false caches whole requests', async () => {
    const { ask } = clientMode({ embeddings: false })
    await ask({ model, input: ['a', 'b'] })
    expect((await ask({ model, input: ['a'] })).cacheStatus).toMatch(/fwd=uri-miss/)
    expect((await ask({ model, input: ['a', 'b'] })).cacheStatus).toMatch(/^aicache; hit; ttl=\d+; detail=l1$/)
  })

  it('the official client (base64 by default) gets the vectors the upstream gives', async () => {
    const gateway = await startTestGateway({ upstream: fake.url })
    cleanups.push(gateway.close)
    const openai = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: 'sk-a', maxRetries: 0 })
    const direct = new OpenAI({ baseURL: fake.url, apiKey: 'sk-a', maxRetries: 0 })
    await openai.embeddings.create({ model, input: chunks.slice(0, 5) })
    const partial = await openai.embeddings.create({ model, input: chunks.slice(3, 8) }).withResponse()
    expect(partial.response.headers.get('cache-status')).toContain('fwd=partial')
    expect(partial.data.data).toEqual((await direct.embeddings.create({ model, input: chunks.slice(3, 8) })).data)
  })
})

describe.skipIf(skipWithoutRedis())('per-input embeddings in Redis', () => {
  let fake: FakeUpstream
  let server: RedisServer
  beforeAll(async () => {
    fake = await startFakeUpstream()
    server = await startRedisServer()
  })
  afterAll(async () => {
    await server.stop()
    await fake.close()
  })

  it('another instance answers from the vectors one instance stored, as float32 bytes', async () => {
    const redis = { redis: server.url, timeoutMs: generousTimeoutMs }
    const first = createAiCache({ redis })
    const second = createAiCache({ redis })
    await Promise.all([first.ready(), second.ready()])
    const ask = (cache: typeof first, input: string[]) =>
      cache.fetch(`${fake.url}/embeddings`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: 'Bearer sk-a' },
        body: JSON.stringify({ model, input, dimensions: 256 }),
      })
    const stored = await (await ask(first, ['pin blocked', 'card stolen'])).json()
    await new Promise((resolve) => setTimeout(resolve, 200))
    const response = await ask(second, ['card stolen', 'pin blocked'])
    expect(response.headers.get('cache-status')).toMatch(/hit; ttl=\d+; detail=l2; hit-inputs=2/)
    const answer = (await response.json()) as EmbeddingsAnswer
    expect(answer.data[1]?.embedding).toEqual((stored as EmbeddingsAnswer).data[0]?.embedding)
    expect(fake.callCount('/v1/embeddings')).toBe(1)
    // 256 float32 values are 1 KB; their JSON text would be about 5 KB.
    const { Redis } = await import('ioredis')
    const client = new Redis(server.url)
    const keys = await client.keys('*')
    const sizes = await Promise.all(keys.map((key) => client.memory('USAGE', key)))
    await client.quit()
    expect(Math.max(...sizes.map(Number))).toBeLessThan(2_000)
    await Promise.all([first.close(), second.close()])
  })
})
