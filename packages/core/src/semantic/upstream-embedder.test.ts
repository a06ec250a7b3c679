import { type FakeUpstream, startFakeUpstream } from '@aicache/testkit'
import OpenAI from 'openai7'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { createAiCache } from '../index.js'
import { startTestGateway } from '../../test/support/test-gateway.js'
import { upstreamEmbedder } from './upstream-embedder.js'

const question = (text: string) => ({ model: 'gpt-4o-mini', messages: [{ role: 'user' as const, content: text }] })

describe('upstreamEmbedder: query embeddings through the engine', () => {
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

  it("embeds through the gateway's upstream with the caller's credential, and the engine caches each query's embedding", async () => {
    const gateway = await startTestGateway({ upstream: fake.url, semantic: { embed: upstreamEmbedder({ model: 'text-embedding-3-small' }), threshold: 0.99 } })
    cleanups.push(gateway.close)
    const openai = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: 'sk-caller', maxRetries: 0 })
    const ask = async (text: string) => (await openai.chat.completions.create(question(text)).withResponse()).response.headers
    expect((await ask('What is a cache?')).get('cache-status')).toMatch(/fwd=uri-miss/)
    // Another exact request, the same compared text (the turn is trimmed): the same vector, from the engine's cache.
    const second = await ask('What is a cache?  ')
    expect(second.get('cache-status')).toMatch(/detail=semantic/)
    expect(second.get('x-aicache-similarity')).toBe('1.0000')
    expect(fake.callCount('/v1/chat/completions')).toBe(1)
    const embeddingCalls = fake.calls.filter((call) => call.path === '/v1/embeddings')
    expect(embeddingCalls).toHaveLength(1)
    expect(embeddingCalls[0]?.headers['authorization']).toBe('Bearer sk-caller')
    expect(embeddingCalls[0]?.body).toMatchObject({ model: 'text-embedding-3-small', input: ['What is a cache?'], encoding_format: 'base64' })
    // The embedding calls are the engine's own requests: two embeddings requests, one of them a hit.
    expect(gateway.cache.stats()).toMatchObject({ requests: 4, misses: 2, hits: { l1: 1, semantic: 1 } })
  })

  it('sends upstreamApiKey instead when the engine has one', async () => {
    const gateway = await startTestGateway({
      upstream: fake.url,
      upstreamApiKey: 'sk-gateway',
      semantic: { embed: upstreamEmbedder({ model: 'text-embedding-3-small', dimensions: 8 }) },
    })
    cleanups.push(gateway.close)
    const openai = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: 'sk-caller', maxRetries: 0 })
    await openai.chat.completions.create(question('What is a tier?'))
    const [call] = fake.calls.filter((recorded) => recorded.path === '/v1/embeddings')
    expect(call?.headers['authorization']).toBe('Bearer sk-gateway')
    expect(call?.body).toMatchObject({ dimensions: 8 })
  })

  it('embeds in client mode through cache.fetch with a baseUrl', async () => {
    const cache = createAiCache({ semantic: { embed: upstreamEmbedder({ model: 'text-embedding-3-small', baseUrl: fake.url }), threshold: 0.99 } })
    cleanups.push(() => cache.close())
    const openai = new OpenAI({ baseURL: fake.url, apiKey: 'sk-caller', fetch: cache.fetch, maxRetries: 0 })
    await openai.chat.completions.create(question('What is a key?'))
    const second = await openai.chat.completions.create(question(' What is a key?')).withResponse()
    expect(second.response.headers.get('cache-status')).toMatch(/detail=semantic/)
    expect(fake.callCount('/v1/embeddings')).toBe(1)
  })

  it('is a semantic miss when the embeddings call fails', async () => {
    const gateway = await startTestGateway({ upstream: fake.url, semantic: { embed: upstreamEmbedder({ model: 'no-such-model' }) } })
    cleanups.push(gateway.close)
    fake.inject({ status: 400, match: (call) => call.path === '/v1/embeddings', times: 5 })
    const openai = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: 'sk-caller', maxRetries: 0 })
    const answer = await openai.chat.completions.create(question('What is a miss?')).withResponse()
    expect(answer.response.headers.get('cache-status')).toMatch(/fwd=uri-miss/)
    expect(gateway.cache.stats().semantic?.rejections).toMatchObject({ embed_error: 1 })
  })
})
