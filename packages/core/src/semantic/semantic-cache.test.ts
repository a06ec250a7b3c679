import { createLocalEmbedder, type LocalEmbedder } from '@aicache/embeddings-local'
import { type FakeUpstream, startFakeUpstream } from '@aicache/testkit'
import { type RedisServer, skipWithoutRedis, startRedisServer } from '@aicache/testkit/redis'
import Anthropic from '@anthropic-ai/sdk'
import OpenAI from 'openai7'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import type { AiCacheOptions } from '../options.js'
import { eventually, generousTimeoutMs, rawClient } from '../../test/support/redis-test-support.js'
import { startTestGateway } from '../../test/support/test-gateway.js'

// Loading the model and embedding take seconds on a loaded machine, far more than the default timeouts.
const modelLoadMs = 60_000

const model = 'gpt-4o-mini'
const asked = 'How do I reset my password?'
const paraphrase = 'How can I reset my password?'
const unrelated = 'What is the capital of France?'
const system = 'You are the help desk of an online bank.'

const chat = (text: string, systemPrompt = system) => ({
  model,
  messages: [
    { role: 'system' as const, content: systemPrompt },
    { role: 'user' as const, content: text },
  ],
})

describe.skipIf(skipWithoutRedis())('semantic cache: the offline embedder, real Redis, the official openai client', { timeout: modelLoadMs }, () => {
  let fake: FakeUpstream
  let redis: RedisServer
  let embedder: LocalEmbedder
  const cleanups: Array<() => Promise<void>> = []

  beforeAll(async () => {
    fake = await startFakeUpstream()
    redis = await startRedisServer()
    embedder = createLocalEmbedder({ preload: true })
    await embedder.ready()
  }, modelLoadMs)
  afterEach(async () => {
    await Promise.all(cleanups.splice(0).map((cleanup) => cleanup()))
    fake.reset()
    const client = rawClient(redis.url)
    await client.flushall()
    client.disconnect()
  })
  afterAll(async () => {
    await embedder.close()
    await fake.close()
    await redis.stop()
  })

  async function instance(options: AiCacheOptions = {}, apiKey = 'sk-a') {
    const gateway = await startTestGateway({
      upstream: fake.url,
      redis: { redis: redis.url, timeoutMs: generousTimeoutMs },
      semantic: { embed: embedder, threshold: 0.9, embedTimeoutMs: 10_000 },
      ...options,
    })
    await gateway.cache.ready()
    cleanups.push(gateway.close)
    const client = (key = apiKey) => new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: key, maxRetries: 0 })
    const openai = client()
    const ask = async (body: ReturnType<typeof chat> | Record<string, unknown>, headers: Record<string, string> = {}, key = apiKey) => {
      const { data, response } = await client(key)
        .chat.completions.create(body as ReturnType<typeof chat>, { headers })
        .withResponse()
      return { data, status: response.headers.get('cache-status') ?? '', similarity: response.headers.get('x-aicache-similarity') }
    }
    return { ...gateway, openai, ask }
  }

  it('answers a paraphrase with the stored answer (detail=semantic, its similarity) and sends an unrelated question upstream', async () => {
    const { ask, cache } = await instance()
    const first = await ask(chat(asked))
    expect(first.status).toMatch(/fwd=uri-miss.*stored/)
    const second = await ask(chat(paraphrase))
    expect(second.status).toMatch(/^aicache; hit; ttl=\d+; detail=semantic$/)
    expect(Number(second.similarity)).toBeGreaterThanOrEqual(0.9)
    expect(second.data.choices[0]?.message.content).toBe(first.data.choices[0]?.message.content)
    const third = await ask(chat(unrelated))
    expect(third.status).toMatch(/fwd=uri-miss/)
    expect(third.similarity).toBeNull()
    expect(fake.callCount('/v1/chat/completions')).toBe(2)
    expect(cache.stats()).toMatchObject({ hits: { l1: 0, l2: 0, semantic: 1 }, misses: 2 })
    expect(cache.stats().semantic).toMatchObject({ lookups: 3, hits: 1, rejections: { no_neighbour: 1, threshold: 1 } })
  })

  it('answers a paraphrase in Anthropic Messages (the official SDK) only under the same anthropic-version and system prompt', async () => {
    const { url } = await instance()
    const anthropic = (version?: string) =>
      new Anthropic({ baseURL: url, apiKey: 'sk-ant-a', maxRetries: 0, ...(version === undefined ? {} : { defaultHeaders: { 'anthropic-version': version } }) })
    const ask = async (text: string, options: { version?: string; systemPrompt?: string } = {}) => {
      const { data, response } = await anthropic(options.version)
        .messages.create({ model: 'claude-sonnet-4-5', max_tokens: 64, system: options.systemPrompt ?? system, messages: [{ role: 'user', content: text }] })
        .withResponse()
      return { data, status: response.headers.get('cache-status') ?? '' }
    }
    const first = await ask(asked)
    expect(first.status).toMatch(/fwd=uri-miss.*stored/)
    const second = await ask(paraphrase)
    expect(second.status).toMatch(/detail=semantic/)
    expect(second.data.content).toEqual(first.data.content)
    expect((await ask(paraphrase, { version: '2023-01-01' })).status).toMatch(/fwd=uri-miss/)
    expect((await ask(paraphrase, { systemPrompt: 'You are a pirate.' })).status).toMatch(/fwd=uri-miss/)
  })

  it('never serves an answer made with another system prompt, model or sampling setting', async () => {
    const { ask } = await instance()
    await ask(chat(asked))
    expect((await ask(chat(paraphrase, 'You are a pirate. Answer in pirate speak.'))).status).toMatch(/fwd=uri-miss/)
    expect((await ask({ ...chat(paraphrase), model: 'gpt-4o' })).status).toMatch(/fwd=uri-miss/)
    expect((await ask({ ...chat(paraphrase), temperature: 1.5 })).status).toMatch(/fwd=uri-miss/)
    expect(fake.callCount('/v1/chat/completions')).toBe(4)
  })

  it('never answers "continue" or "hello" of one conversation with another conversation\'s answer', async () => {
    const { ask, cache } = await instance()
    const conversation = (topic: string, last: string) => ({
      model,
      messages: [
        { role: 'system' as const, content: system },
        { role: 'user' as const, content: `Tell me about ${topic}.` },
        { role: 'assistant' as const, content: `${topic} is a large city with a long history.` },
        { role: 'user' as const, content: last },
      ],
    })
    for (const last of ['continue', 'Continue.', 'hello', 'Hello!']) {
      await ask(conversation('Paris', last))
      const other = await ask(conversation('Rome', last))
      expect(other.status, last).toMatch(/fwd=uri-miss/)
    }
    // A greeting under another system prompt is another conversation too.
    await ask(chat('hello'))
    expect((await ask(chat('hello', 'You are a travel agent.'))).status).toMatch(/fwd=uri-miss/)
    expect(cache.stats().hits.semantic).toBe(0)
  })

  it('keeps tenants apart: a paraphrase with another credential is a miss', async () => {
    const { ask } = await instance()
    await ask(chat(asked), {}, 'sk-tenant-a')
    expect((await ask(chat(paraphrase), {}, 'sk-tenant-b')).status).toMatch(/fwd=uri-miss/)
    expect((await ask(chat(paraphrase), {}, 'sk-tenant-a')).status).toMatch(/detail=semantic/)
  })

  it('replays a recorded stream for a paraphrase, and serves it as JSON too', async () => {
    const { openai, ask } = await instance()
    const stream = async (text: string) => {
      const { data, response } = await openai.chat.completions.create({ ...chat(text), stream: true }).withResponse()
      let content = ''
      for await (const chunk of data) content += chunk.choices[0]?.delta.content ?? ''
      return { content, status: response.headers.get('cache-status') ?? '' }
    }
    const recorded = await stream(asked)
    expect(recorded.status).toMatch(/fwd=uri-miss/)
    const replayed = await stream(paraphrase)
    expect(replayed.status).toMatch(/detail=semantic/)
    expect(replayed.content).toBe(recorded.content)
    const asJson = await ask(chat('How could I reset my password?'))
    expect(asJson.status).toMatch(/detail=semantic/)
    expect(asJson.data.choices[0]?.message.content).toBe(recorded.content)
    expect(fake.callCount('/v1/chat/completions')).toBe(1)
  })

  it('shares stored questions through Redis: another instance answers a paraphrase of what one stored', async () => {
    const one = await instance()
    const two = await instance()
    // Two reads its (empty) context first, so the entry arrives after its first read.
    expect((await two.ask(chat('How do I close my account?'))).status).toMatch(/fwd=uri-miss/)
    const stored = await one.ask(chat(asked))
    const shared = await eventually(async () => {
      const answer = await two.ask(chat(paraphrase))
      return answer.status.includes('detail=semantic') ? answer : undefined
    })
    expect(shared?.data.choices[0]?.message.content).toBe(stored.data.choices[0]?.message.content)
    expect(fake.callCount('/v1/chat/completions')).toBe(2)
  })

  it('forgets an invalidated namespace on every instance, and a question whose entry is gone', async () => {
    const one = await instance()
    const two = await instance()
    await one.ask(chat(asked))
    expect((await two.ask(chat(paraphrase))).status).toMatch(/detail=semantic/)
    await one.cache.invalidate()
    // Two has seen the bump once the stored question is an exact miss there (asked without the semantic lookup, so not stored in the index).
    await eventually(async () => (await two.ask(chat(asked), { 'x-aicache-semantic': 'off' })).status.includes('fwd=uri-miss'))
    expect((await two.ask(chat(paraphrase))).status).toMatch(/fwd=uri-miss/)
    expect((await one.ask(chat('How can I reset my own password?'))).status).toMatch(/detail=semantic/)

    // The answer of a stored question expires or is evicted: the question is skipped, then forgotten.
    const client = rawClient(redis.url)
    const entries = await client.keys('aicache:{*}:entry')
    await client.del(...entries)
    client.disconnect()
    one.cache.clear()
    expect((await one.ask(chat('How can I reset my password, please?'))).status).toMatch(/fwd=uri-miss/)
    expect(one.cache.stats().semantic?.rejections['gone']).toBeGreaterThanOrEqual(1)
  })

  it('looks up by exact key only with x-aicache-semantic: off', async () => {
    const { ask } = await instance()
    await ask(chat(asked))
    expect((await ask(chat(paraphrase), { 'x-aicache-semantic': 'off' })).status).toMatch(/fwd=uri-miss/)
    expect((await ask(chat('How can I reset my password? '))).status).toMatch(/detail=semantic/)
  })

  it('is a miss, never an error, when the embedder fails or is too slow', async () => {
    const failing = await instance({ semantic: { embed: { id: 'broken', embed: () => Promise.reject(new Error('model crashed')) } } })
    await failing.ask(chat(asked))
    expect((await failing.ask(chat(paraphrase))).status).toMatch(/fwd=uri-miss/)
    expect(failing.cache.stats().semantic?.rejections).toMatchObject({ embed_error: 2 })
    const slow = await instance({ semantic: { embed: { id: 'slow', embed: () => new Promise(() => {}) }, embedTimeoutMs: 50 } })
    expect((await slow.ask(chat(unrelated))).status).toMatch(/fwd=uri-miss/)
    expect(slow.cache.stats().semantic?.rejections).toMatchObject({ embed_timeout: 1 })
  })
})
