import { bodyParser } from '@koa/bodyparser'
import Router from '@koa/router'
import Koa from 'koa'
import { afterEach, describe, expect, it } from 'vitest'
import { aiCache } from './index.js'
import { listen } from '../test/support/test-apps.js'

describe('koa adapter: app-level and route-level wrap mode', () => {
  const closers: Array<() => Promise<void>> = []
  afterEach(async () => {
    await Promise.all(closers.splice(0).map((close) => close()))
  })

  async function serve(app: Koa): Promise<string> {
    const running = await listen(app)
    closers.push(running.close)
    return running.url
  }

  const post = (url: string, path: string, body: unknown) =>
    fetch(`${url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })

  it('caches only unmistakable LLM calls when mounted for the whole app', async () => {
    const app = new Koa()
    const router = new Router()
    let todos = 0
    router.post('/todos', bodyParser(), (ctx) => {
      ctx.body = { created: ctx.request.body, number: ++todos }
    })
    router.post('/chat', bodyParser(), (ctx) => {
      ctx.body = { answer: 'about caches' }
    })
    app.use(aiCache())
    app.use(router.routes())
    const url = await serve(app)
    await post(url, '/todos', { input: 'x' })
    const again = await post(url, '/todos', { input: 'x' })
    expect(again.headers.get('cache-status')).toBeNull()
    expect(await again.json()).toEqual({ created: { input: 'x' }, number: 2 })
    const chat = { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'caches' }] }
    await post(url, '/chat', chat)
    expect((await post(url, '/chat', chat)).headers.get('cache-status')).toMatch(/hit/)
  })

  it("caches a router route's JSON POSTs whatever their shape when mounted on that route, not router.use", async () => {
    const app = new Koa()
    const router = new Router()
    let summaries = 0
    let todos = 0
    router.post('/summaries', aiCache(), bodyParser(), (ctx) => {
      ctx.body = { summary: `of ${(ctx.request.body as { document: string }).document}`, call: ++summaries }
    })
    const todoRouter = new Router()
    todoRouter.use(aiCache())
    todoRouter.post('/todos', bodyParser(), (ctx) => {
      ctx.body = { call: ++todos }
    })
    app.use(router.routes())
    app.use(todoRouter.routes())
    const url = await serve(app)
    const first = await (await post(url, '/summaries', { document: 'the report' })).json()
    const second = await post(url, '/summaries', { document: 'the report' })
    expect(second.headers.get('cache-status')).toMatch(/hit/)
    expect(await second.json()).toEqual(first)
    expect(summaries).toBe(1)
    // router.use runs for every route of the router: app-level rules.
    await post(url, '/todos', { input: 'x' })
    await post(url, '/todos', { input: 'x' })
    expect(todos).toBe(2)
  })
})
