import Fastify, { type FastifyInstance } from 'fastify'
import { afterEach, describe, expect, it } from 'vitest'
import { aiCache } from './index.js'

describe('fastify plugin: app-level and route-level wrap mode', () => {
  const apps: FastifyInstance[] = []
  afterEach(async () => {
    await Promise.all(apps.splice(0).map((app) => app.close()))
  })

  async function serve(configure: (app: FastifyInstance) => void): Promise<string> {
    const app = Fastify()
    apps.push(app)
    await app.register(aiCache)
    configure(app)
    return app.listen({ port: 0, host: '127.0.0.1' })
  }

  const post = (url: string, path: string, body: unknown) =>
    fetch(`${url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })

  it('caches only unmistakable LLM calls on routes without the aiCache option', async () => {
    let todos = 0
    const url = await serve((app) => {
      app.post('/todos', async (request) => ({ created: request.body, number: ++todos }))
      app.post('/chat', async () => ({ answer: 'about caches' }))
    })
    await post(url, '/todos', { input: 'x' })
    const again = await post(url, '/todos', { input: 'x' })
    expect(again.headers.get('cache-status')).toBeNull()
    expect(await again.json()).toEqual({ created: { input: 'x' }, number: 2 })
    const chat = { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'caches' }] }
    await post(url, '/chat', chat)
    expect((await post(url, '/chat', chat)).headers.get('cache-status')).toMatch(/hit/)
  })

  it.each([true, { namespace: 'summaries' }])("caches a route's JSON POSTs whatever their shape with config.aiCache %j", async (option) => {
    let summaries = 0
    const url = await serve((app) => {
      app.post('/summaries', { config: { aiCache: option } }, async (request) => ({
        summary: `of ${(request.body as { document: string }).document}`,
        call: ++summaries,
      }))
    })
    const first = await (await post(url, '/summaries', { document: 'the report' })).json()
    const second = await post(url, '/summaries', { document: 'the report' })
    expect(second.headers.get('cache-status')).toMatch(/hit/)
    expect(await second.json()).toEqual(first)
    expect(summaries).toBe(1)
  })
})
