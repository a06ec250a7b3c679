import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { createAiCache } from '@aicache/express'
import { type FakeUpstream, startFakeUpstream } from '@aicache/testkit'
import OpenAI from 'openai7'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { createGatewayApp } from './app.js'
import { loadConfig } from './config.js'
import { semanticOption } from './semantic.js'

// Loading the model and embedding take seconds on a loaded machine, far more than the default timeouts.
const modelLoadMs = 60_000

const ask = (content: string) => ({ model: 'gpt-4o-mini', messages: [{ role: 'user' as const, content }] })

describe('gateway: AICACHE_SEMANTIC', { timeout: modelLoadMs }, () => {
  let fake: FakeUpstream
  const cleanups: Array<() => Promise<void> | void> = []
  beforeAll(async () => {
    fake = await startFakeUpstream()
  })
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
    fake.reset()
  })
  afterAll(() => fake.close())

  /** The gateway as main.ts makes it, from environment variables. */
  async function start(environment: NodeJS.ProcessEnv): Promise<OpenAI> {
    const config = loadConfig({ AICACHE_UPSTREAM_URL: fake.url, ...environment })
    const semantic = await semanticOption(config.semantic)
    const engine = createAiCache({ ...config.cache, ...(semantic && { semantic: { ...semantic.option, embedTimeoutMs: 10_000 } }) })
    const server: Server = createGatewayApp(engine, undefined).listen(0, '127.0.0.1')
    await new Promise((resolve) => server.once('listening', resolve))
    cleanups.push(async () => {
      server.close()
      server.closeAllConnections()
      await engine.close()
      await semantic?.close()
    })
    return new OpenAI({ baseURL: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`, apiKey: 'sk-a', maxRetries: 0 })
  }

  it('reads the variables, and refuses a threshold or model without the mode', () => {
    expect(loadConfig({}).semantic).toBeUndefined()
    expect(loadConfig({ AICACHE_SEMANTIC: 'local', AICACHE_SEMANTIC_THRESHOLD: '0.92' }).semantic).toEqual({
      embedder: 'local',
      threshold: 0.92,
      model: 'text-embedding-3-small',
    })
    expect(loadConfig({ AICACHE_SEMANTIC: 'upstream', AICACHE_SEMANTIC_MODEL: 'text-embedding-3-large' }).semantic).toEqual({
      embedder: 'upstream',
      model: 'text-embedding-3-large',
    })
    expect(() => loadConfig({ AICACHE_SEMANTIC: 'yes' })).toThrow(/AICACHE_SEMANTIC must be/)
    expect(() => loadConfig({ AICACHE_SEMANTIC_THRESHOLD: '0.9' })).toThrow(/AICACHE_SEMANTIC_THRESHOLD needs AICACHE_SEMANTIC/)
    expect(() => loadConfig({ AICACHE_SEMANTIC: 'local', AICACHE_SEMANTIC_THRESHOLD: '90' })).toThrow(/AICACHE_SEMANTIC_THRESHOLD must be/)
    expect(() => loadConfig({ AICACHE_SEMANTIC: 'local', AICACHE_SEMANTIC_MODEL: 'x' })).toThrow(/AICACHE_SEMANTIC_MODEL is the model/)
  })

  it('AICACHE_SEMANTIC=local answers a paraphrase from the cache with the offline embedder', async () => {
    const openai = await start({ AICACHE_SEMANTIC: 'local', AICACHE_SEMANTIC_THRESHOLD: '0.9' })
    const first = await openai.chat.completions.create(ask('How do I reset my password?'))
    const second = await openai.chat.completions.create(ask('How can I reset my password?')).withResponse()
    expect(second.response.headers.get('cache-status')).toMatch(/detail=semantic/)
    expect(second.data.choices[0]?.message.content).toBe(first.choices[0]?.message.content)
    const unrelated = await openai.chat.completions.create(ask('What is the capital of France?')).withResponse()
    expect(unrelated.response.headers.get('cache-status')).toMatch(/fwd=uri-miss/)
    expect(fake.callCount('/v1/chat/completions')).toBe(2)
  })

  it('AICACHE_SEMANTIC=upstream embeds through the upstream, each query embedding cached by the gateway', async () => {
    const openai = await start({ AICACHE_SEMANTIC: 'upstream', AICACHE_SEMANTIC_THRESHOLD: '0.99' })
    await openai.chat.completions.create(ask('Why is my transfer pending?'))
    const second = await openai.chat.completions.create(ask('  Why is my transfer pending?')).withResponse()
    expect(second.response.headers.get('cache-status')).toMatch(/detail=semantic/)
    expect(fake.callCount('/v1/embeddings')).toBe(1)
    expect(fake.calls.find((call) => call.path === '/v1/embeddings')?.body).toMatchObject({ model: 'text-embedding-3-small' })
  })
})
