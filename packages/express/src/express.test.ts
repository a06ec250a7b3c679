import { startFakeUpstream, type FakeUpstream } from '@aicache/testkit'
import express from 'express'
import OpenAI from 'openai'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { aiCache, createAiCache, setCacheMeta } from './index.js'
import { listen } from '../test/support/test-apps.js'

const chatBody = { model: 'gpt-4o-mini', messages: [{ role: 'user' as const, content: 'Hello there' }] }

describe('express adapter', () => {
  let fake: FakeUpstream
  const closers: Array<() => Promise<void>> = []
  beforeAll(async () => {
    fake = await startFakeUpstream()
  })
  afterEach(async () => {
    await Promise.all(closers.splice(0).map((close) => close()))
    fake.reset()
  })
  afterAll(() => fake.close())

  async function serve(app: express.Express): Promise<string> {
    const running = await listen(app)
    closers.push(running.close)
    return running.url
  }

  it('works when express.json() parsed the body first', async () => {
    const app = express()
    app.use(express.json())
    app.use(aiCache({ upstream: fake.url }))
    const openai = new OpenAI({ baseURL: `${await serve(app)}/v1`, apiKey: 'sk-a' })
    const first = await openai.chat.completions.create(chatBody)
    const second = await openai.chat.completions.create(chatBody).withResponse()
    expect(second.response.headers.get('cache-status')).toMatch(/hit/)
    expect(second.data).toEqual(first)
    expect(fake.callCount()).toBe(1)
  })

  it('shares one engine between two apps', async () => {
    const engine = createAiCache({ upstream: fake.url })
    closers.push(() => engine.close())
    const one = express().use(aiCache(engine))
    const two = express().use(aiCache(engine))
    await new OpenAI({ baseURL: `${await serve(one)}/v1`, apiKey: 'sk-a' }).chat.completions.create(chatBody)
    const hit = await new OpenAI({ baseURL: `${await serve(two)}/v1`, apiKey: 'sk-a' }).chat.completions
      .create(chatBody)
      .withResponse()
    expect(hit.response.headers.get('cache-status')).toMatch(/hit/)
    expect(engine.stats()).toMatchObject({ requests: 2, misses: 1, hits: { l1: 1 } })
  })

  it('serves under a mount path and leaves other routes to the app', async () => {
    const app = express()
    app.use('/llm', aiCache({ upstream: fake.url }))
    app.get('/health', (_req, res) => res.json({ ok: true }))
    const url = await serve(app)
    const openai = new OpenAI({ baseURL: `${url}/llm/v1`, apiKey: 'sk-a' })
    await openai.chat.completions.create(chatBody)
    expect(fake.calls[0]?.path).toBe('/v1/chat/completions')
    expect(await (await fetch(`${url}/health`)).json()).toEqual({ ok: true })
  })

  it('stores the usage a wrapped handler attaches, and counts it as saved on a hit', async () => {
    const app = express()
    const middleware = aiCache({ scope: 'shared' })
    app.use(middleware)
    app.post('/chat', express.json(), (req, res) => {
      setCacheMeta(res, { model: 'gpt-4o-mini', usage: { inputTokens: 11, outputTokens: 22 } })
      res.json({ answer: `about ${(req.body as { prompt: string }).prompt}` })
    })
    const url = await serve(app)
    const ask = () =>
      fetch(`${url}/chat`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"model":"m","prompt":"x"}' })
    await ask()
    const hit = await ask()
    expect(hit.headers.get('cache-status')).toMatch(/hit/)
    expect(middleware.engine.stats().tokensSaved).toEqual({ input: 11, output: 22 })
  })

  it('does not store a response the handler marked no-store', async () => {
    const app = express()
    app.use(aiCache())
    let calls = 0
    app.post('/chat', (_req, res) => {
      calls++
      res.set('cache-control', 'no-store').json({ answer: calls })
    })
    const url = await serve(app)
    const ask = () =>
      fetch(`${url}/chat`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"prompt":"x"}' })
    await ask()
    await ask()
    expect(calls).toBe(2)
  })
})

describe('express adapter on one route', () => {
  it('caches a single wrapped route mounted before express.json()', async () => {
    const app = express()
    let calls = 0
    app.post('/chat', aiCache(), express.json(), (req, res) => {
      calls++
      res.json({ answer: `echo ${(req.body as { prompt: string }).prompt}` })
    })
    app.post('/other', express.json(), (req, res) => res.json(req.body))
    const running = await listen(app)
    try {
      const ask = (path: string) =>
        fetch(`${running.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"prompt":"hi"}' })
      expect(await (await ask('/chat')).json()).toEqual({ answer: 'echo hi' })
      const hit = await ask('/chat')
      expect(hit.headers.get('cache-status')).toMatch(/hit/)
      expect(await hit.json()).toEqual({ answer: 'echo hi' })
      expect(calls).toBe(1)
      expect(await (await ask('/other')).json()).toEqual({ prompt: 'hi' })
    } finally {
      await running.close()
    }
  })
})

describe('express adapter, per-route settings', () => {
  it("gives a route its own rate limits on a shared engine, or none, and refuses bad ones at start-up", async () => {
    const engine = createAiCache({ rateLimit: { requestsPerMinute: 100 } })
    const app = express()
    const answer = (req: express.Request, res: express.Response) => res.json({ answer: (req.body as { prompt: string }).prompt })
    app.post('/chat', aiCache(engine), express.json(), answer)
    app.post('/strict', aiCache(engine, { rateLimit: { requestsPerMinute: 2 } }), express.json(), answer)
    app.post('/free', aiCache(engine, { rateLimit: false }), express.json(), answer)
    const running = await listen(app)
    try {
      const ask = (path: string, prompt: string) =>
        fetch(`${running.url}${path}`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: 'Bearer sk-a' },
          body: JSON.stringify({ prompt }),
        })
      const strict = [await ask('/strict', 'a'), await ask('/strict', 'b'), await ask('/strict', 'c')]
      expect(strict.map((response) => response.status)).toEqual([200, 200, 429])
      expect(strict[0]!.headers.get('x-ratelimit-limit-requests')).toBe('2')
      expect(await strict[2]!.json()).toMatchObject({ error: { code: 'rate_limited' } })
      // The route's budget is its own: the engine's limit still has room on other routes.
      const chat = await ask('/chat', 'a')
      expect(chat.status).toBe(200)
      expect(chat.headers.get('x-ratelimit-limit-requests')).toBe('100')
      expect(chat.headers.get('x-ratelimit-remaining-requests')).toBe('99')
      const free = await ask('/free', 'a')
      expect(free.status).toBe(200)
      expect(free.headers.get('x-ratelimit-limit-requests')).toBeNull()
    } finally {
      await running.close()
    }
    expect(() => aiCache(engine, { rateLimit: { requestsPerMinute: -1 } })).toThrow(/route\.rateLimit\.requestsPerMinute/)
    expect(() => aiCache(engine, { ttlMs: 1.5 })).toThrow(/route\.ttlMs/)
  })
})
