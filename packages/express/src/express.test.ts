import { startFakeUpstream, type FakeUpstream } from '@aicache/testkit'
import express from 'express'
import OpenAI from 'openai'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { aiCache } from './index.js'
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

  it('does not store a response the handler marked no-store', async () => {
    const app = express()
    app.use(aiCache())
    let calls = 0
    app.post('/chat', (_req, res) => {
      calls++
      res.set('cache-control', 'no-store').json({ answer: calls })
    })
    const url = await serve(app)
    const ask = () => fetch(`${url}/chat`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"prompt":"x"}' })
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
      const ask = (path: string) => fetch(`${running.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"prompt":"hi"}' })
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
