import express from 'express'
import { afterEach, describe, expect, it } from 'vitest'
import { aiCache } from './index.js'
import { listen } from '../test/support/test-apps.js'

describe('express adapter: app-level and route-level wrap mode', () => {
  const closers: Array<() => Promise<void>> = []
  afterEach(async () => {
    await Promise.all(closers.splice(0).map((close) => close()))
  })

  async function serve(app: express.Express): Promise<string> {
    const running = await listen(app)
    closers.push(running.close)
    return running.url
  }

  const post = (url: string, path: string, body: unknown) =>
    fetch(`${url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })

  it('caches only unmistakable LLM calls when mounted for the whole app', async () => {
    const app = express()
    app.use(aiCache())
    const handled: string[] = []
    app.post('/todos', express.json(), (req, res) => {
      handled.push('todo')
      res.status(201).json({ created: req.body as unknown, number: handled.length })
    })
    app.post('/chat', express.json(), (req, res) => {
      handled.push('chat')
      res.json({ answer: `about ${(req.body as { messages: Array<{ content: string }> }).messages[0]?.content}` })
    })
    const url = await serve(app)
    await post(url, '/todos', { input: 'x' })
    const again = await post(url, '/todos', { input: 'x' })
    expect(again.headers.get('cache-status')).toBeNull()
    expect(await again.json()).toEqual({ created: { input: 'x' }, number: 2 })
    const chat = { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'caches' }] }
    await post(url, '/chat', chat)
    expect((await post(url, '/chat', chat)).headers.get('cache-status')).toMatch(/hit/)
    expect(handled).toEqual(['todo', 'todo', 'chat'])
  })

  it("caches a route's JSON POSTs whatever their shape when mounted on that route", async () => {
    const app = express()
    let calls = 0
    app.post('/summaries', aiCache(), express.json(), (req, res) => {
      calls++
      res.json({ summary: `of ${(req.body as { document: string }).document}`, call: calls })
    })
    const url = await serve(app)
    const first = await (await post(url, '/summaries', { document: 'the report' })).json()
    const second = await post(url, '/summaries', { document: 'the report' })
    expect(second.headers.get('cache-status')).toMatch(/hit/)
    expect(await second.json()).toEqual(first)
    expect(calls).toBe(1)
  })

  it('stays app-level after an earlier route called next()', async () => {
    const app = express()
    let calls = 0
    app.post('/todos', (_req, _res, next) => next())
    app.use(aiCache())
    app.post('/todos', express.json(), (_req, res) => res.json({ call: ++calls }))
    const url = await serve(app)
    await post(url, '/todos', { input: 'x' })
    await post(url, '/todos', { input: 'x' })
    expect(calls).toBe(2)
  })
})
