/**
 * Conformance: one engine shared between apps, client mode and routes with
 * settings of their own, and engines and errors across the core's two
 * module builds.
 */
import OpenAI from 'openai'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import type { ConformanceEngine, ConformanceHarness, RouteHandler, RunningApp } from './conformance.js'
import { startFakeUpstream } from './fake-upstream.js'
import type { FakeUpstream } from './types.js'

const chatBody = { model: 'gpt-4o-mini', messages: [{ role: 'user' as const, content: 'Hello there' }] }

function post(url: string, body: object, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: 'Bearer sk-a', ...headers },
    body: JSON.stringify(body),
  })
}

/** Registers the engine-sharing part of the suite for one adapter. */
export function describeSharingConformance(name: string, harness: ConformanceHarness): void {
  describe(`${name} conformance: shared engines`, () => {
    let fake: FakeUpstream
    const running: RunningApp[] = []
    const engines: ConformanceEngine[] = []
    beforeAll(async () => {
      fake = await startFakeUpstream()
    })
    afterEach(async () => {
      // Apps first: a shared engine outlives the apps that use it.
      await Promise.all(running.splice(0).map((app) => app.close()))
      await Promise.all(engines.splice(0).map((engine) => engine.close()))
      fake.reset()
    })
    afterAll(() => fake.close())

    function engineOf(options: Record<string, unknown>): ConformanceEngine {
      const engine = harness.createEngine(options)
      engines.push(engine)
      return engine
    }
    async function started<App extends RunningApp>(starting: Promise<App>): Promise<App> {
      const app = await starting
      running.push(app)
      return app
    }
    const client = (baseURL: string, fetch?: typeof globalThis.fetch) => new OpenAI({ baseURL, apiKey: 'sk-a', maxRetries: 0, fetch })

    it('shares one engine between two apps and client mode: one upstream call, then hits', async () => {
      const engine = engineOf({ upstream: fake.url })
      const one = await started(harness.proxyOn(engine))
      const two = await started(harness.proxyOn(engine))
      await client(`${one.url}/v1`).chat.completions.create(chatBody)
      const hit = await client(`${two.url}/v1`).chat.completions.create(chatBody).withResponse()
      expect(hit.response.headers.get('cache-status')).toMatch(/hit/)
      // Client mode: the same engine as the official client's fetch, straight to the upstream.
      const direct = await client(fake.url, engine.fetch).chat.completions.create(chatBody).withResponse()
      expect(direct.response.headers.get('cache-status')).toMatch(/hit/)
      expect(direct.data).toEqual(hit.data)
      expect(engine.stats()).toMatchObject({ requests: 3, misses: 1, hits: { l1: 2 } })
      expect(fake.callCount()).toBe(1)
    })

    // 60 s: the first rate-limited request of a process starts its tokenizer worker, seconds on a loaded machine.
    it('gives a route its own rate limits on a shared engine, or none, and refuses bad ones at start-up', async () => {
      const engine = engineOf({ rateLimit: { requestsPerMinute: 100 } })
      const answer: RouteHandler = async (_path, body) => ({ status: 200, body: { answer: (body as { prompt: string }).prompt } })
      const app = await started(
        harness.routes(engine, { '/chat': {}, '/strict': { rateLimit: { requestsPerMinute: 2 } }, '/free': { rateLimit: false } }, answer),
      )
      const ask = (path: string, prompt: string) => post(`${app.url}${path}`, { model: 'm', prompt })
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
      const refused: Array<[Record<string, unknown>, RegExp]> = [
        [{ rateLimit: { requestsPerMinute: -1 } }, /rateLimit\.requestsPerMinute/],
        [{ rateLimit: { tokensPerMinute: 0 } }, /rateLimit\.tokensPerMinute/],
        [{ ttlMs: 1.5 }, /ttlMs/],
      ]
      for (const [settings, named] of refused) await expect(harness.routes(engine, { '/bad': settings }, answer)).rejects.toThrow(named)
    }, 60_000)

    describe('an engine made by the CommonJS build of the core', () => {
      const { commonJs, AiCache, AiCacheError } = harness.moduleBuilds

      it('is used by the adapter, not taken for options', async () => {
        const engine = commonJs.createAiCache({ upstream: fake.url })
        engines.push(engine)
        // The two builds really are two classes here.
        expect(engine instanceof AiCache).toBe(false)
        const app = await started(harness.proxyOn(engine))
        const send = () => post(`${app.url}/v1/chat/completions`, chatBody)
        expect((await send()).status).toBe(200)
        const second = await send()
        expect(second.status).toBe(200)
        expect(second.headers.get('cache-status')).toMatch(/hit/)
        expect(engine.stats()).toMatchObject({ requests: 2, misses: 1, hits: { l1: 1 } })
        expect(fake.callCount()).toBe(1)
      })

      it('throws errors that AiCacheError.isInstance recognises', () => {
        const thrown = (() => {
          try {
            commonJs.createAiCache({ ttlMs: -1 })
          } catch (error) {
            return error
          }
        })()
        expect(thrown instanceof AiCacheError).toBe(false)
        expect(AiCacheError.isInstance(thrown)).toBe(true)
        expect(AiCacheError.isInstance(new Error('not ours'))).toBe(false)
      })
    })
  })
}
