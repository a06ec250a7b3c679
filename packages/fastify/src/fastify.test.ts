import { createGunzip, gzipSync } from 'node:zlib'
import compress from '@fastify/compress'
import cors from '@fastify/cors'
import { type FakeUpstream, startFakeUpstream } from '@aicache/testkit'
import Fastify, { type FastifyInstance } from 'fastify'
import OpenAI from 'openai'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { aiCache, createAiCache } from './index.js'

const chatBody = { model: 'gpt-4o-mini', messages: [{ role: 'user' as const, content: 'Hello there' }] }
const prompt = { model: 'm', prompt: 'x' }

function ask(url: string, body: object = prompt, init: RequestInit = {}): Promise<Response> {
  return fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body), ...init })
}

describe('fastify plugin', () => {
  let fake: FakeUpstream
  const apps: FastifyInstance[] = []
  beforeAll(async () => {
    fake = await startFakeUpstream()
  })
  afterEach(async () => {
    await Promise.all(apps.splice(0).map((app) => app.close()))
    fake.reset()
  })
  afterAll(() => fake.close())

  /** A new app, closed after the test. */
  function create(): FastifyInstance {
    const app = Fastify()
    apps.push(app)
    return app
  }

  async function serve(app: FastifyInstance): Promise<string> {
    return app.listen({ port: 0, host: '127.0.0.1' })
  }

  /** A wrapped `POST /chat` that counts its calls. */
  async function chatApp(options = {}): Promise<{ app: FastifyInstance; calls: () => number }> {
    const app = create()
    await app.register(aiCache, options)
    let calls = 0
    app.post('/chat', async (request) => ({ answer: `echo ${(request.body as { prompt: string }).prompt}`, call: ++calls }))
    return { app, calls: () => calls }
  }

  const injectChat = (app: FastifyInstance, headers: Record<string, string> = {}) => app.inject({ method: 'POST', url: '/chat', payload: prompt, headers })

  it('answers a repeated wrapped call from the cache through inject()', async () => {
    const { app, calls } = await chatApp()
    const miss = await injectChat(app)
    expect(miss.headers['cache-status']).toMatch(/fwd=uri-miss/)
    const hit = await injectChat(app)
    expect(hit.headers['cache-status']).toMatch(/hit/)
    expect(hit.json()).toEqual(miss.json())
    expect(calls()).toBe(1)
    expect(app.aiCache.stats()).toMatchObject({ requests: 2, misses: 1, hits: { l1: 1 } })
  })

  it('answers proxy routes through inject() and leaves the app its own JSON parser', async () => {
    const app = create()
    await app.register(aiCache, { upstream: fake.url })
    app.post('/echo', async (request) => request.body)
    const call = () => app.inject({ method: 'POST', url: '/v1/chat/completions', payload: chatBody })
    expect((await call()).json()).toEqual((await call()).json())
    expect(fake.callCount()).toBe(1)
    expect((await app.inject({ method: 'POST', url: '/echo', payload: { a: 1 } })).json()).toEqual({ a: 1 })
    expect((await app.inject({ method: 'GET', url: '/elsewhere' })).statusCode).toBe(404)
  })

  it("applies the app's preParsing hooks (gzip-encoded requests) to the cached gateway routes", async () => {
    const app = create()
    // As Fastify documents a decompressing hook: the new stream reports the bytes received.
    app.addHook('preParsing', async (request, _reply, payload) => {
      if (request.headers['content-encoding'] !== 'gzip') return payload
      const gunzip = Object.assign(createGunzip(), { receivedEncodedLength: 0 })
      payload.on('data', (chunk: Buffer) => (gunzip.receivedEncodedLength += chunk.byteLength))
      return payload.pipe(gunzip)
    })
    await app.register(aiCache, { upstream: fake.url })
    const call = () =>
      app.inject({
        method: 'POST',
        url: '/v1/chat/completions',
        headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' },
        payload: gzipSync(JSON.stringify(chatBody)),
      })
    const miss = await call()
    expect(miss.statusCode, miss.body).toBe(200)
    expect((await call()).headers['cache-status']).toMatch(/hit/)
    // The same question sent plainly is the same entry.
    const plain = await app.inject({ method: 'POST', url: '/v1/chat/completions', payload: chatBody })
    expect(plain.headers['cache-status']).toMatch(/hit/)
    expect(plain.json()).toEqual(miss.json())
    expect(fake.callCount()).toBe(1)
  })

  it('leaves a route with config: { aiCache: false } uncached', async () => {
    const app = create()
    await app.register(aiCache)
    let calls = 0
    app.post('/chat', { config: { aiCache: false } }, async () => ({ answer: ++calls }))
    await injectChat(app)
    const second = await injectChat(app)
    expect(second.headers['cache-status']).toBeUndefined()
    expect(second.json()).toEqual({ answer: 2 })
  })

  it("applies a route's namespace and TTL unless the request sends its own", async () => {
    const app = create()
    await app.register(aiCache)
    let calls = 0
    app.post('/chat', { config: { aiCache: { namespace: 'support' } } }, async () => ({ answer: ++calls }))
    app.post('/fleeting', { config: { aiCache: { ttlMs: 0 } } }, async () => ({ answer: ++calls }))
    await injectChat(app)
    await app.aiCache.invalidate({ namespace: 'support' })
    expect((await injectChat(app)).headers['cache-status']).toMatch(/fwd=uri-miss/)
    expect((await injectChat(app)).headers['cache-status']).toMatch(/hit/)
    expect((await injectChat(app, { 'x-aicache-namespace': 'other' })).headers['cache-status']).toMatch(/fwd=uri-miss/)
    const fleeting = () => app.inject({ method: 'POST', url: '/fleeting', payload: prompt })
    await fleeting()
    expect((await fleeting()).headers['cache-status']).not.toMatch(/hit/)
    expect(calls).toBe(5)
  })

  it('refuses a malformed route config at start-up, naming the route', async () => {
    const app = create()
    await app.register(aiCache)
    expect(() => app.post('/chat', { config: { aiCache: { ttlMs: -1 } } }, async () => ({}))).toThrow(/POST \/chat/)
  })

  it("still runs other plugins' hooks on a hit: onSend headers, CORS and compression", async () => {
    const app = create()
    await app.register(cors, { origin: '*' })
    await app.register(aiCache)
    await app.register(compress, { threshold: 0 })
    app.addHook('onSend', async (_request, reply, payload) => {
      reply.header('x-served-by', 'app')
      return payload
    })
    let calls = 0
    app.post('/chat', async () => ({ answer: 'a long enough answer', call: ++calls }))
    const url = `${await serve(app)}/chat`
    const init = { headers: { 'content-type': 'application/json', 'accept-encoding': 'gzip', origin: 'http://a.test' } }
    const miss = await ask(url, prompt, init)
    const hit = await ask(url, prompt, init)
    expect(hit.headers.get('cache-status')).toMatch(/hit/)
    for (const response of [miss, hit]) {
      expect(response.headers.get('x-served-by')).toBe('app')
      expect(response.headers.get('access-control-allow-origin')).toBe('*')
      expect(response.headers.get('content-encoding')).toBe('gzip')
    }
    expect(await hit.json()).toEqual(await miss.json())
    expect(calls).toBe(1)
  })

  it('decorates the app with the engine it was given', async () => {
    const engine = createAiCache({ upstream: fake.url })
    const app = create()
    await app.register(aiCache, { engine })
    expect(app.aiCache).toBe(engine)
    await app.close()
    // Closing the app leaves a shared engine to its owner.
    expect(engine.stats().requests).toBe(0)
    await engine.close()
  })

  it('serves the gateway under a prefix and streams a stream: true call through', async () => {
    const app = create()
    await app.register(aiCache, { upstream: fake.url, prefix: '/llm' })
    const openai = new OpenAI({ baseURL: `${await serve(app)}/llm/v1`, apiKey: 'sk-a', maxRetries: 0 })
    const { data: stream, response } = await openai.chat.completions.create({ ...chatBody, stream: true }).withResponse()
    let text = ''
    for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? ''
    expect(text.length).toBeGreaterThan(0)
    expect(response.headers.get('content-type')).toMatch(/text\/event-stream/)
    expect((await openai.models.list()).data.length).toBeGreaterThan(0)
    expect(fake.calls.map((call) => call.path)).toEqual(['/v1/chat/completions', '/v1/models'])
  })

  it("forwards other /v1 bodies as they stream, past Fastify's body limit", async () => {
    const app = create()
    await app.register(aiCache, { upstream: fake.url })
    const upload = 'x'.repeat(3 * 1024 * 1024)
    const response = await fetch(`${await serve(app)}/v1/uploads`, {
      method: 'POST',
      headers: { 'content-type': 'application/octet-stream' },
      body: upload,
    })
    await response.arrayBuffer()
    expect(response.headers.get('cache-status')).toMatch(/fwd=bypass/)
    expect(fake.calls[0]?.rawBody.length).toBe(upload.length)
  })

  it("answers Fastify's own refusals on gateway routes in the OpenAI error shape", async () => {
    const app = create()
    await app.register(aiCache, { upstream: fake.url })
    const response = await app.inject({
      method: 'POST',
      url: '/v1/chat/completions',
      headers: { 'content-type': 'not a media type' },
      payload: '{}',
    })
    expect(response.statusCode).toBe(415)
    expect(response.json()).toMatchObject({ error: { type: 'invalid_request_error', code: expect.any(String) } })
  })

  it("counts a body over Fastify's limit with the engine's own refusals", async () => {
    const engine = createAiCache({ upstream: fake.url, maxBodyBytes: 1024 })
    const app = create()
    await app.register(aiCache, { engine })
    const response = await app.inject({
      method: 'POST',
      url: '/v1/chat/completions',
      headers: { 'content-type': 'application/json' },
      payload: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'x'.repeat(4096) }] }),
    })
    expect(response.statusCode).toBe(413)
    expect(response.json()).toMatchObject({ error: { code: 'body_too_large' } })
    expect(response.headers['cache-status']).toMatch(/detail=body_too_large/)
    expect(engine.stats().errors).toBe(1)
    expect(fake.callCount()).toBe(0)
  })
})
