import { createLocalEmbedder, type LocalEmbedder } from '@aicache/embeddings-local'
import { startFakeUpstream, type FakeUpstream } from '@aicache/testkit'
import express from 'express'
import OpenAI from 'openai'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { type AiCacheRouteOptions, aiCache, createAiCache } from './index.js'
import { listen } from '../test/support/test-apps.js'

// Loading the model and embedding take seconds on a loaded machine, far more than the default timeouts.
const modelLoadMs = 60_000

const ask = (content: string) => ({
  model: 'gpt-4o-mini',
  messages: [
    { role: 'system' as const, content: 'You are a help desk.' },
    { role: 'user' as const, content },
  ],
})

describe('express adapter: the semantic cache and its route options', { timeout: modelLoadMs }, () => {
  let fake: FakeUpstream
  let embedder: LocalEmbedder
  const closers: Array<() => Promise<void>> = []
  beforeAll(async () => {
    fake = await startFakeUpstream()
    embedder = createLocalEmbedder({ preload: true })
    await embedder.ready()
  }, modelLoadMs)
  afterEach(async () => {
    await Promise.all(closers.splice(0).map((close) => close()))
    fake.reset()
  })
  afterAll(async () => {
    await embedder.close()
    await fake.close()
  })

  it('serves a paraphrase where the route allows it, and never where a route turns it off or asks a higher threshold', async () => {
    const cache = createAiCache({ upstream: fake.url, semantic: { embed: embedder, threshold: 0.9, embedTimeoutMs: 10_000 } })
    closers.push(() => cache.close())
    const client = async (route?: AiCacheRouteOptions) => {
      const app = express()
      app.use(aiCache(cache, route))
      const running = await listen(app)
      closers.push(running.close)
      return new OpenAI({ baseURL: `${running.url}/v1`, apiKey: 'sk-a', maxRetries: 0 })
    }
    const status = async (openai: OpenAI, content: string) => (await openai.chat.completions.create(ask(content)).withResponse()).response.headers
    const open = await client()
    const off = await client({ semantic: false })
    const strict = await client({ semantic: { threshold: 0.999 } })

    expect((await status(open, 'How do I reset my password?')).get('cache-status')).toMatch(/fwd=uri-miss/)
    const hit = await status(open, 'How can I reset my password?')
    expect(hit.get('cache-status')).toMatch(/detail=semantic/)
    expect(Number(hit.get('x-aicache-similarity'))).toBeGreaterThanOrEqual(0.9)
    expect((await status(off, 'How could I reset my password?')).get('cache-status')).toMatch(/fwd=uri-miss/)
    expect((await status(strict, 'How would I reset my password?')).get('cache-status')).toMatch(/fwd=uri-miss/)
    expect(fake.callCount('/v1/chat/completions')).toBe(3)
    expect(cache.stats().hits.semantic).toBe(1)
  })
})
