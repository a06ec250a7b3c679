import { type FakeUpstream, fakeChatAnswer, startFakeUpstream } from '@aicache/testkit'
import OpenAI from 'openai'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { createAiCache } from '../index.js'
import type { AiCacheOptions } from '../options.js'
import type { AiCache } from './engine.js'
import { startTestGateway } from '../../test/support/test-gateway.js'

const question = { model: 'gpt-4o-mini', messages: [{ role: 'user' as const, content: 'How do I activate my card?' }] }

describe('engine', () => {
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

  function clientMode(options: AiCacheOptions = {}, apiKey = 'sk-a') {
    const cache = createAiCache(options)
    return { cache, openai: new OpenAI({ baseURL: fake.url, apiKey, fetch: cache.fetch, maxRetries: 0 }) }
  }

  async function nodeGateway(options: AiCacheOptions): Promise<{ url: string; cache: AiCache }> {
    const gateway = await startTestGateway({ upstream: fake.url, ...options })
    cleanups.push(gateway.close)
    return gateway
  }

  it('client mode: the official client gets a miss, then the same answer as a hit', async () => {
    const { cache, openai } = clientMode()
    const first = await openai.chat.completions.create(question).withResponse()
    const second = await openai.chat.completions.create(question).withResponse()
    expect(first.response.headers.get('cache-status')).toMatch(/fwd=uri-miss.*stored/)
    expect(second.response.headers.get('cache-status')).toMatch(/hit; ttl=\d+; detail=l1/)
    expect(second.data).toEqual(first.data)
    expect(first.data.choices[0]?.message.content).toBe(fakeChatAnswer(question))
    expect(fake.callCount()).toBe(1)
    expect(cache.stats()).toMatchObject({
      requests: 2,
      misses: 1,
      hits: { l1: 1, l2: 0 },
      tokensSaved: { input: first.data.usage?.prompt_tokens, output: first.data.usage?.completion_tokens },
    })
  })

  it('finds the entry whatever the order of the JSON keys', async () => {
    const { cache } = clientMode()
    const ask = (body: string) => cache.fetch(`${fake.url}/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body })
    await ask('{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}],"temperature":0}')
    const reordered = await ask('{"temperature":0,"messages":[{"content":"hi","role":"user"}],"model":"gpt-4o-mini"}')
    expect(reordered.headers.get('cache-status')).toMatch(/hit/)
    expect(fake.callCount()).toBe(1)
  })

  it('invalidates one namespace in O(1) and leaves the others', async () => {
    const { cache, openai } = clientMode()
    const inOther = { headers: { 'x-aicache-namespace': 'other' } }
    await openai.chat.completions.create(question)
    await openai.chat.completions.create(question, inOther)
    await cache.invalidate({ namespace: 'default' })
    const afterDefault = await openai.chat.completions.create(question).withResponse()
    const afterOther = await openai.chat.completions.create(question, inOther).withResponse()
    expect(afterDefault.response.headers.get('cache-status')).toMatch(/fwd=uri-miss/)
    expect(afterOther.response.headers.get('cache-status')).toMatch(/hit/)
  })

  it('shares answers between prompts that differ in case and spacing only when asked to', async () => {
    const loud = { model: 'gpt-4o-mini', messages: [{ role: 'user' as const, content: '  HOW do I   activate my card? ' }] }
    const plain = clientMode()
    await plain.openai.chat.completions.create(question)
    await plain.openai.chat.completions.create(loud)
    expect(fake.callCount()).toBe(2)
    fake.reset()
    const normalised = clientMode({ normalize: { whitespace: true, case: true } })
    await normalised.openai.chat.completions.create({ ...question, messages: [{ role: 'user', content: 'how do i activate my card?' }] })
    const hit = await normalised.openai.chat.completions.create(loud).withResponse()
    expect(hit.response.headers.get('cache-status')).toMatch(/hit/)
  })

  it('scopes by a function of the request when given one', async () => {
    const scope = (request: { headers: Record<string, unknown> }) => String(request.headers['x-tenant'])
    const { openai } = clientMode({ scope })
    await openai.chat.completions.create(question, { headers: { 'x-tenant': 'acme' } })
    const sameTenant = await openai.chat.completions.create(question, { headers: { 'x-tenant': 'acme' } }).withResponse()
    const otherTenant = await openai.chat.completions.create(question, { headers: { 'x-tenant': 'globex' } }).withResponse()
    expect(sameTenant.response.headers.get('cache-status')).toMatch(/hit/)
    expect(otherTenant.response.headers.get('cache-status')).toMatch(/fwd=uri-miss/)
  })

  it('counts coalesced requests and bypasses', async () => {
    fake.setLatency(100)
    const { cache, openai } = clientMode()
    await Promise.all(Array.from({ length: 10 }, () => openai.chat.completions.create(question)))
    await openai.chat.completions.create(question, { headers: { 'cache-control': 'no-store' } })
    expect(cache.stats()).toMatchObject({ requests: 11, misses: 1, coalesced: 9, bypasses: 1 })
    expect(fake.callCount()).toBe(2)
  })

  it('sends the configured upstream key instead of the caller credential', async () => {
    const { url } = await nodeGateway({ upstreamApiKey: 'sk-upstream' })
    await new OpenAI({ baseURL: `${url}/v1`, apiKey: 'sk-caller', maxRetries: 0 }).chat.completions.create(question)
    expect(fake.calls[0]?.headers['authorization']).toBe('Bearer sk-upstream')
  })

  it('forwards the caller credential when no upstream key is configured', async () => {
    const { url } = await nodeGateway({})
    await new OpenAI({ baseURL: `${url}/v1`, apiKey: 'sk-caller', maxRetries: 0 }).chat.completions.create(question)
    expect(fake.calls[0]?.headers['authorization']).toBe('Bearer sk-caller')
  })

  it('keeps the memory tier within maxBytes under many distinct answers', async () => {
    const { cache, openai } = clientMode({ maxBytes: 20_000 })
    for (let index = 0; index < 60; index++) {
      await openai.chat.completions.create({ ...question, messages: [{ role: 'user', content: `question ${index}` }] })
    }
    const { memory } = cache.stats()
    expect(memory.bytes).toBeLessThanOrEqual(20_000)
    expect(memory.entries).toBeGreaterThan(0)
    expect(memory.entries).toBeLessThan(60)
  })

  it('refuses a bad option at creation, naming it', () => {
    expect(() => createAiCache({ ttlMs: -1 })).toThrow(/'ttlMs'/)
    expect(() => createAiCache({ upstream: 'ftp://example.com' })).toThrow(/'upstream'/)
  })
})
