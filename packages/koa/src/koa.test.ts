import { bodyParser } from '@koa/bodyparser'
import Router from '@koa/router'
import { type FakeUpstream, startFakeUpstream } from '@aicache/testkit'
import Koa from 'koa'
import compress from 'koa-compress'
import OpenAI from 'openai'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { aiCache } from './index.js'
import { listen } from '../test/support/test-apps.js'

const chatBody = { model: 'gpt-4o-mini', messages: [{ role: 'user' as const, content: 'Hello there' }] }

function ask(url: string, body: object = { model: 'm', prompt: 'x' }, init: RequestInit = {}): Promise<Response> {
  return fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
    ...init,
  })
}

describe('koa adapter', () => {
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

  async function serve(app: Koa): Promise<string> {
    const running = await listen(app)
    closers.push(running.close)
    return running.url
  }

  it('works in proxy mode when @koa/bodyparser parsed the body first', async () => {
    const app = new Koa()
    app.use(bodyParser())
    app.use(aiCache({ upstream: fake.url }))
    const openai = new OpenAI({ baseURL: `${await serve(app)}/v1`, apiKey: 'sk-a', maxRetries: 0 })
    const first = await openai.chat.completions.create(chatBody)
    const second = await openai.chat.completions.create(chatBody).withResponse()
    expect(second.response.headers.get('cache-status')).toMatch(/hit/)
    expect(second.data).toEqual(first)
    expect(fake.callCount()).toBe(1)
  })

  it('wraps a route whose body @koa/bodyparser parsed before aicache', async () => {
    const app = new Koa()
    let calls = 0
    app.use(bodyParser())
    app.use(aiCache())
    app.use((ctx) => {
      calls++
      ctx.body = { answer: `echo ${(ctx.request.body as { prompt: string }).prompt}` }
    })
    const url = await serve(app)
    expect(await (await ask(url)).json()).toEqual({ answer: 'echo x' })
    const hit = await ask(url)
    expect(hit.headers.get('cache-status')).toMatch(/hit/)
    expect(await hit.json()).toEqual({ answer: 'echo x' })
    expect(calls).toBe(1)
  })

  it('forwards the bytes @koa/bodyparser kept when it parsed the body before aicache', async () => {
    const app = new Koa()
    app.use(bodyParser())
    app.use(aiCache({ upstream: fake.url }))
    const url = await serve(app)
    // A seed beyond 2^53: serialising the parsed body again would send 12345678901234567000.
    const body = '{"model":"gpt-4o-mini","seed":12345678901234567890,"messages":[{"role":"user","content":"hi"}]}'
    const response = await fetch(`${url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body })
    expect(response.status).toBe(200)
    expect(fake.calls.map((call) => call.rawBody)).toEqual([body])
  })

  it('hands the body it read to @koa/bodyparser after it, which then has nothing to do', async () => {
    const app = new Koa()
    let calls = 0
    app.use(aiCache())
    app.use(bodyParser())
    app.use((ctx) => {
      calls++
      ctx.body = { path: ctx.path, body: ctx.request.body, call: calls }
    })
    const url = await serve(app)
    expect(await (await ask(`${url}/other`, { x: 1 })).json()).toEqual({ path: '/other', body: { x: 1 }, call: 1 })
    const form = await fetch(`${url}/form`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'a=1',
    })
    expect(await form.json()).toEqual({ path: '/form', body: { a: '1' }, call: 2 })
    await ask(`${url}/chat`)
    expect((await ask(`${url}/chat`)).headers.get('cache-status')).toMatch(/hit/)
    expect(calls).toBe(3)
  })

  it('caches one @koa/router route and leaves the others alone', async () => {
    const app = new Koa<{ user?: string }>()
    const router = new Router()
    let calls = 0
    router.post('/chat', aiCache(), bodyParser(), (ctx) => {
      ctx.body = { answer: (ctx.request.body as { prompt: string }).prompt, call: ++calls }
    })
    router.post('/other', bodyParser(), (ctx) => {
      ctx.body = { other: ctx.request.body, call: ++calls }
    })
    app.use(router.routes())
    const url = await serve(app)
    await ask(`${url}/chat`)
    const hit = await ask(`${url}/chat`)
    expect(hit.headers.get('cache-status')).toMatch(/hit/)
    expect(await hit.json()).toEqual({ answer: 'x', call: 1 })
    await ask(`${url}/other`)
    const other = await ask(`${url}/other`)
    expect(other.headers.get('cache-status')).toBeNull()
    expect(await other.json()).toEqual({ other: { model: 'm', prompt: 'x' }, call: 3 })
  })

  it('lets an error middleware around it answer for a failing handler', async () => {
    const app = new Koa()
    app.use(async (ctx, next) => {
      try {
        await next()
      } catch (error) {
        ctx.status = 503
        ctx.body = { error: (error as Error).message }
      }
    })
    app.use(aiCache())
    let calls = 0
    app.use(() => {
      calls++
      throw new Error('model down')
    })
    const url = await serve(app)
    const first = await ask(url)
    expect(first.status).toBe(503)
    expect(await first.json()).toEqual({ error: 'model down' })
    expect((await ask(url)).status).toBe(503)
    expect(calls).toBe(2)
  })

  // A Node stream in ctx.body is in the conformance suite; a web stream is Koa's own.
  it('records a web ReadableStream in ctx.body as it is sent and replays it on a hit', async () => {
    const body = () => new Blob(['{"answer":', '"streamed"}']).stream()
    const app = new Koa()
    app.use(aiCache())
    let calls = 0
    app.use((ctx) => {
      calls++
      ctx.type = 'application/json'
      ctx.body = body()
    })
    const url = await serve(app)
    expect(await (await ask(url)).json()).toEqual({ answer: 'streamed' })
    const hit = await ask(url)
    expect(hit.headers.get('cache-status')).toMatch(/hit/)
    expect(await hit.json()).toEqual({ answer: 'streamed' })
    expect(calls).toBe(1)
  })

  it('leaves compression and CORS headers to the middleware around it, on misses and hits', async () => {
    const app = new Koa()
    app.use(async (ctx, next) => {
      ctx.set('access-control-allow-origin', '*')
      await next()
    })
    app.use(compress({ threshold: 0 }))
    app.use(aiCache({ upstream: fake.url }))
    const url = `${await serve(app)}/v1/chat/completions`
    const init = { headers: { 'content-type': 'application/json', 'accept-encoding': 'gzip' } }
    const miss = await ask(url, chatBody, init)
    const hit = await ask(url, chatBody, init)
    for (const response of [miss, hit]) {
      expect(response.headers.get('content-encoding')).toBe('gzip')
      expect(response.headers.get('access-control-allow-origin')).toBe('*')
    }
    expect(hit.headers.get('cache-status')).toMatch(/hit/)
    expect(await hit.json()).toEqual(await miss.json())
  })

  it('streams a stream: true call through', async () => {
    const app = new Koa()
    app.use(aiCache({ upstream: fake.url }))
    const openai = new OpenAI({ baseURL: `${await serve(app)}/v1`, apiKey: 'sk-a', maxRetries: 0 })
    const { data: stream, response } = await openai.chat.completions.create({ ...chatBody, stream: true }).withResponse()
    let text = ''
    for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? ''
    expect(text.length).toBeGreaterThan(0)
    expect(response.headers.get('content-type')).toMatch(/text\/event-stream/)
    expect(response.headers.get('cache-status')).toMatch(/^aicache; /)
  })
})
