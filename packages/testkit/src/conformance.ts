/**
 * The conformance suite: one set of behaviours every aicache adapter must
 * show, run against real framework servers with the official `openai` and
 * `@anthropic-ai/sdk` clients as callers and the fake upstream as the LLM.
 *
 * @example
 * ```ts
 * describeConformance('express', { proxy: startProxyApp, wrap: startWrapApp })
 * ```
 */
import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { Readable } from 'node:stream'
import Anthropic from '@anthropic-ai/sdk'
import OpenAI from 'openai'
import OpenAI7 from 'openai7'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { describeHandlerConformance } from './conformance-handlers.js'
import { describeSharingConformance } from './conformance-sharing.js'
import { startFakeUpstream } from './fake-upstream.js'
import { describeFramingAttacks } from './framing-attacks.js'
import { describePathAttacks } from './path-attacks.js'
import type { FakeUpstream } from './types.js'

export { type AttackedApp, attackMethods, type BodyForm, bodyForms, describeFramingAttacks, type FramingAttackOptions } from './framing-attacks.js'
export { describePathAttacks, escapingTargets, type PathAttackOptions, type StartKeyedApp } from './path-attacks.js'

/** aicache options, as the adapter under test accepts them. */
export type ConformanceOptions = Record<string, unknown>

/** A server the suite talks to. */
export interface RunningApp {
  /** Origin of the app, e.g. `http://127.0.0.1:4000`. */
  url: string
  close(): Promise<void>
}

/**
 * A server that was told to listen on a free loopback port, once it does:
 * its origin, and a closer that also ends kept-alive connections.
 */
export async function listening(server: Server): Promise<RunningApp & { server: Server }> {
  if (!server.listening) await new Promise<void>((resolve) => server.once('listening', resolve))
  const { port } = server.address() as AddressInfo
  return {
    server,
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}

/**
 * What a wrapped route answers. The harness sends `body` as JSON; or, when
 * `events` is set, each event as an SSE `data:` block written as the
 * framework streams (one write per event), then ends the response; or, when
 * `stream` is set, that stream as a JSON body the way the framework sends a
 * stream (destroying it if the client leaves). With `meta`, the handler
 * first calls the adapter's `setCacheMeta` with it. A handler that throws
 * hands its error to the framework's own error handling.
 */
export interface WrapAnswer {
  status: number
  body?: unknown
  events?: readonly string[]
  stream?: Readable
  meta?: ConformanceMeta
}

/** What a handler passes to the adapter's `setCacheMeta` (`ResponseMeta` of `@aicache/core`). */
export interface ConformanceMeta {
  model?: string
  usage?: { inputTokens: number; outputTokens: number }
}

/** The app's own handler logic for `POST /chat` and `POST /other`. */
export type WrapHandler = (route: '/chat' | '/other', body: unknown) => Promise<WrapAnswer>

/** The app's own handler logic for the `POST` routes of {@link ConformanceHarness.routes}. */
export type RouteHandler = (path: string, body: unknown) => Promise<WrapAnswer>

/** The counters of an engine the suite reads (`AiCacheStats` of `@aicache/core`). */
export interface ConformanceStats {
  requests: number
  misses: number
  hits: { l1: number }
  tokensSaved: { input: number; output: number }
}

/** An engine as `createAiCache()` makes it, as far as the suite uses it. */
export interface ConformanceEngine {
  /** Client mode: a drop-in `fetch` for `new OpenAI({ fetch })`. */
  readonly fetch: typeof globalThis.fetch
  stats(): ConformanceStats
  close(): Promise<void>
}

/** A wrap-mode app: its engine, and the errors the framework's error handling received. */
export interface WrappedApp extends RunningApp {
  engine: ConformanceEngine
  /** Every error that reached the framework's error handling (Express `next(error)`, Koa's `error` event, Fastify's `onError`). */
  errors: unknown[]
}

/** Settings of the routes one aicache is mounted on (`AiCacheRouteOptions`): namespace, TTL, rate limits. */
export type ConformanceRouteOptions = Record<string, unknown>

/**
 * The core's two module builds: engines and errors must be recognised
 * across them, since an app can load the core both ways.
 */
export interface ConformanceModuleBuilds {
  /** The CommonJS build of `@aicache/core`, loaded with `createRequire(import.meta.url)('@aicache/core')`. */
  commonJs: { createAiCache(options?: ConformanceOptions): ConformanceEngine }
  /** `AiCache` as the adapter exports it (from the ESM build the adapter imports). */
  AiCache: abstract new (...args: never[]) => unknown
  /** `AiCacheError` as the adapter exports it. */
  AiCacheError: (abstract new (...args: never[]) => unknown) & { isInstance(value: unknown): boolean }
}

/** How an adapter starts the apps the suite needs. */
export interface ConformanceHarness {
  /** aicache in proxy mode (`options.upstream` is set); other paths answer 404. */
  proxy(options: ConformanceOptions): Promise<RunningApp>
  /**
   * aicache in wrap mode in front of `POST /chat` and `POST /other`, each
   * answered by `handler` with the framework's own JSON response.
   */
  wrap(options: ConformanceOptions, handler: WrapHandler): Promise<WrappedApp>
  /** An engine from the adapter's `createAiCache`, to share between apps. */
  createEngine(options: ConformanceOptions): ConformanceEngine
  /** aicache in proxy mode on a shared `engine` (from {@link createEngine}), which closing the app leaves open. */
  proxyOn(engine: ConformanceEngine): Promise<RunningApp>
  /**
   * aicache mounted on single routes over a shared `engine`: each key of
   * `routes` is a `POST` path with aicache mounted on that route alone, with
   * its settings, before the framework's JSON parsing and `handler`.
   * Rejects, as the adapter throws, when a route's settings are refused.
   */
  routes(engine: ConformanceEngine, routes: Record<string, ConformanceRouteOptions>, handler: RouteHandler): Promise<RunningApp>
  /** The core's module builds, as the adapter's package sees them. */
  moduleBuilds: ConformanceModuleBuilds
  /** Request targets the framework refuses itself, before aicache (see {@link PathAttackOptions}). */
  refusedByFramework?: readonly string[]
}

/**
 * The official client's majors every adapter is tested with: openai 6 reads
 * a stream to the end of the body; openai 7 stops at `data: [DONE]` and
 * cancels the body.
 */
const clientMajors = [
  { major: 'openai 6', Client: OpenAI },
  { major: 'openai 7', Client: OpenAI7 as unknown as typeof OpenAI },
] as const

const chatBody = { model: 'gpt-4o-mini', messages: [{ role: 'user' as const, content: 'What is a cache?' }] }

async function post(url: string, body: string | object, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: 'Bearer sk-tenant-a', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  })
}

function expectOpenAiError(json: unknown): void {
  expect(json).toMatchObject({ error: { message: expect.any(String), type: expect.any(String) } })
}

/** Registers the suite for one adapter. */
export function describeConformance(name: string, harness: ConformanceHarness): void {
  // The methods and framings that smuggled requests before; the whole matrix runs against the gateway.
  describeFramingAttacks(name, (options) => harness.proxy(options), {
    methods: ['POST', 'DELETE', 'OPTIONS', 'TRACE'],
    forms: ['content-length', 'chunked', 'content-length larger than sent', 'content-length smaller than sent'],
  })
  describePathAttacks(name, (options) => harness.proxy(options), { refusedByFramework: harness.refusedByFramework })
  describeSharingConformance(name, harness)
  describeHandlerConformance(name, harness)
  describe(`${name} conformance`, () => {
    let fake: FakeUpstream
    const running: RunningApp[] = []
    beforeAll(async () => {
      fake = await startFakeUpstream()
    })
    afterEach(async () => {
      await Promise.all(running.splice(0).map((app) => app.close()))
      fake.reset()
      fake.setLatency(0)
      fake.setChunkDelay(0)
      fake.setDoneTail(10)
    })
    afterAll(async () => {
      await fake.close()
    })
    async function proxy(options: ConformanceOptions = {}): Promise<string> {
      const app = await harness.proxy({ upstream: fake.url, ...options })
      running.push(app)
      return app.url
    }
    function client(url: string, apiKey = 'sk-tenant-a'): OpenAI {
      return new OpenAI({ baseURL: `${url}/v1`, apiKey, maxRetries: 0 })
    }

    describe('proxy mode', () => {
      for (const { major, Client } of clientMajors) {
        describe(major, () => {
          const clientOf = (url: string) => new Client({ baseURL: `${url}/v1`, apiKey: 'sk-tenant-a', maxRetries: 0 })
          const readStream = async (openai: OpenAI, body: typeof chatBody = chatBody) => {
            const { data, response } = await openai.chat.completions.create({ ...body, stream: true }).withResponse()
            let text = ''
            for await (const chunk of data) text += chunk.choices[0]?.delta.content ?? ''
            return { text, status: response.headers.get('cache-status') }
          }

          it('answers a repeated chat call from the cache, with Cache-Status and Age', async () => {
            const openai = clientOf(await proxy())
            const first = await openai.chat.completions.create(chatBody).withResponse()
            const second = await openai.chat.completions.create(chatBody).withResponse()
            expect(first.response.headers.get('cache-status')).toMatch(/^aicache; fwd=uri-miss; fwd-status=200; stored/)
            expect(second.response.headers.get('cache-status')).toMatch(/^aicache; hit; ttl=\d+; detail=l1$/)
            expect(second.response.headers.get('age')).toMatch(/^\d+$/)
            expect(second.data).toEqual(first.data)
            expect(fake.callCount('/v1/chat/completions')).toBe(1)
          })

          it('records a streamed chat call and replays it to the official client', async () => {
            const openai = clientOf(await proxy())
            const miss = await readStream(openai)
            const hit = await readStream(openai)
            expect(miss.status).toMatch(/fwd=uri-miss/)
            expect(hit.status).toMatch(/hit/)
            expect(miss.text.length).toBeGreaterThan(0)
            expect(hit.text).toBe(miss.text)
            expect(fake.callCount()).toBe(1)
          })

          it('makes one upstream call for three identical streams when the upstream ends its body after [DONE]', async () => {
            // Paced like a provider: events a few ms apart, and the body ends well after [DONE].
            fake.setChunkDelay(2)
            fake.setDoneTail(25)
            const openai = clientOf(await proxy())
            const body = { ...chatBody, messages: [{ role: 'user' as const, content: 'Three times the same stream' }] }
            const reads = [await readStream(openai, body), await readStream(openai, body), await readStream(openai, body)]
            expect(reads[0]?.text.length).toBeGreaterThan(0)
            for (const read of reads) expect(read.text).toBe(reads[0]?.text)
            expect(reads[1]?.status).toMatch(/hit/)
            expect(fake.callCount('/v1/chat/completions')).toBe(1)
          })

          it('caches embeddings and completions too', async () => {
            const openai = clientOf(await proxy())
            const embedding = { model: 'text-embedding-3-small', input: ['a cache', 'a tier'] }
            const first = await openai.embeddings.create(embedding)
            const second = await openai.embeddings.create(embedding)
            expect(second.data).toEqual(first.data)
            const prompt = { model: 'gpt-3.5-turbo-instruct', prompt: 'Say hello' }
            await openai.completions.create(prompt)
            const again = await openai.completions.create(prompt).withResponse()
            expect(again.response.headers.get('cache-status')).toMatch(/hit/)
            expect(fake.callCount('/v1/embeddings')).toBe(1)
            expect(fake.callCount('/v1/completions')).toBe(1)
          })

          it('caches a Responses call, JSON and streamed, and passes the stored response routes through', async () => {
            const openai = clientOf(await proxy())
            const params = { model: 'gpt-4o-mini', input: 'What is a Responses cache?' }
            const first = await openai.responses.create(params).withResponse()
            const second = await openai.responses.create(params).withResponse()
            expect(first.response.headers.get('cache-status')).toMatch(/fwd=uri-miss.*stored/)
            expect(second.response.headers.get('cache-status')).toMatch(/hit/)
            expect(second.data).toEqual(first.data)
            const streamed = { ...params, input: 'Stream a Responses answer' }
            const read = async () => {
              const { data, response } = await openai.responses.create({ ...streamed, stream: true }).withResponse()
              const types: string[] = []
              for await (const event of data) types.push(event.type)
              return { types, status: response.headers.get('cache-status') }
            }
            const miss = await read()
            const hit = await read()
            expect(miss.types.at(-1)).toBe('response.completed')
            expect(hit.status).toMatch(/hit/)
            expect(hit.types).toEqual(miss.types)
            expect((await openai.responses.retrieve(first.data.id)).id).toBe(first.data.id)
            expect(fake.callCount('/v1/responses')).toBe(2)
            expect(fake.callCount(`/v1/responses/${first.data.id}`)).toBe(1)
          })
        })
      }

      it("caches an Anthropic Messages call, JSON and streamed, answers its errors in Anthropic's shape, and passes count_tokens through", async () => {
        const url = await proxy()
        const anthropic = new Anthropic({ baseURL: url, apiKey: 'sk-ant-tenant-a', maxRetries: 0 })
        const params = { model: 'claude-sonnet-4-5', max_tokens: 200, messages: [{ role: 'user' as const, content: 'What is a Messages cache?' }] }
        const first = await anthropic.messages.create(params).withResponse()
        const second = await anthropic.messages.create(params).withResponse()
        expect(first.response.headers.get('cache-status')).toMatch(/fwd=uri-miss.*stored/)
        expect(second.response.headers.get('cache-status')).toMatch(/hit/)
        expect(second.data).toEqual(first.data)
        const streamed = { ...params, messages: [{ role: 'user' as const, content: 'Stream a Messages answer' }] }
        const read = async () => {
          const { data, response } = await anthropic.messages.create({ ...streamed, stream: true }).withResponse()
          const events: unknown[] = []
          for await (const event of data) events.push(event)
          return { events, status: response.headers.get('cache-status') }
        }
        const miss = await read()
        const hit = await read()
        expect((miss.events.at(-1) as { type?: string }).type).toBe('message_stop')
        expect(hit.status).toMatch(/hit/)
        expect(hit.events).toEqual(miss.events)
        // The final message of a replayed stream is the JSON answer's.
        expect(JSON.stringify(await anthropic.messages.create(streamed))).toContain('Stream a Messages answer')
        const refused = await fetch(`${url}/v1/messages`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-api-key': 'sk-ant-tenant-a', 'anthropic-version': '2023-06-01' },
          body: JSON.stringify({ ...params, messages: {} }),
        })
        expect(refused.status).toBe(400)
        expect(await refused.json()).toMatchObject({ type: 'error', error: { type: 'invalid_request_error' } })
        expect((await anthropic.messages.countTokens({ model: params.model, messages: params.messages })).input_tokens).toBeGreaterThan(0)
        expect(fake.callCount('/v1/messages')).toBe(2)
        expect(fake.callCount('/v1/messages/count_tokens')).toBe(1)
      })

      it('reads a JSON body whatever the spelling of its Content-Type, and answers the repeat from the cache', async () => {
        const url = await proxy()
        const endpoint = `${url}/v1/chat/completions`
        const spellings = ['application/json; charset=utf-8', 'Application/JSON', 'application/json;charset=UTF-8']
        for (const [index, contentType] of spellings.entries()) {
          const response = await post(endpoint, chatBody, { 'content-type': contentType })
          expect(response.status, contentType).toBe(200)
          expect(response.headers.get('cache-status'), contentType).toMatch(index === 0 ? /fwd=uri-miss/ : /; hit;/)
          expect(((await response.json()) as { object: string }).object, contentType).toBe('chat.completion')
        }
        expect(fake.callCount('/v1/chat/completions')).toBe(1)
      })

      it('keeps tenants apart by credential, and shares with scope shared', async () => {
        const url = await proxy()
        await client(url, 'sk-tenant-a').chat.completions.create(chatBody)
        const other = await client(url, 'sk-tenant-b').chat.completions.create(chatBody).withResponse()
        expect(other.response.headers.get('cache-status')).toMatch(/fwd=uri-miss/)
        expect(fake.callCount()).toBe(2)
        fake.reset()
        const shared = await proxy({ scope: 'shared' })
        await client(shared, 'sk-tenant-a').chat.completions.create(chatBody)
        const hit = await client(shared, 'sk-tenant-b').chat.completions.create(chatBody).withResponse()
        expect(hit.response.headers.get('cache-status')).toMatch(/hit/)
        expect(fake.callCount()).toBe(1)
      })

      it('caches embeddings input by input: a batch with changed inputs sends only those, and concurrent misses share a call', async () => {
        // A wide window: the requests cross the framework one by one, on a machine that may be busy.
        const url = await proxy({ embeddings: { batchWindowMs: 150 } })
        const openai = client(url)
        const model = 'text-embedding-3-small'
        const input = ['card arrived', 'card not working', 'pin blocked', 'top up failed']
        const first = await openai.embeddings.create({ model, input })
        const changed = [input[0]!, 'card working again', input[2]!, input[3]!]
        const second = await openai.embeddings.create({ model, input: changed }).withResponse()
        expect(second.response.headers.get('cache-status')).toBe('aicache; fwd=partial; fwd-status=200; stored; hit-inputs=3; fwd-inputs=1')
        expect(second.data.data.map((item) => item.index)).toEqual([0, 1, 2, 3])
        expect(second.data.data[0]?.embedding).toEqual(first.data[0]?.embedding)
        const sent = fake.calls.map((call) => (call.body as { input: unknown }).input)
        expect(sent).toEqual([input, ['card working again']])
        const singles = ['exchange rate', 'refund', 'transfer pending', 'lost card']
        await Promise.all(singles.map((text) => openai.embeddings.create({ model, input: text })))
        expect(fake.callCount('/v1/embeddings') - 2).toBeLessThan(singles.length)
      })

      it('makes one upstream call for 100 concurrent identical misses', async () => {
        fake.setLatency(150)
        const url = await proxy()
        const answers = await Promise.all(Array.from({ length: 100 }, () => post(`${url}/v1/chat/completions`, chatBody).then((r) => r.json())))
        expect(fake.callCount()).toBe(1)
        for (const answer of answers) expect(answer).toEqual(answers[0])
      })

      it('passes upstream errors through unchanged and never caches them', async () => {
        const url = await proxy({ retry: false })
        fake.inject({ status: 500 })
        const failed = await post(`${url}/v1/chat/completions`, chatBody)
        expect(failed.status).toBe(500)
        expectOpenAiError(await failed.json())
        fake.inject({ status: 429, headers: { 'retry-after': '2' } })
        const limited = await post(`${url}/v1/chat/completions`, chatBody)
        expect(limited.status).toBe(429)
        expect(limited.headers.get('retry-after')).toBe('2')
        const next = await post(`${url}/v1/chat/completions`, chatBody)
        expect(next.status).toBe(200)
        expect(next.headers.get('cache-status')).toMatch(/fwd=uri-miss/)
        expect(fake.callCount()).toBe(3)
      })

      it('retries a transient upstream failure before answering', async () => {
        const url = await proxy({ retry: { maxAttempts: 3, baseDelayMs: 1 } })
        fake.inject({ status: 503, times: 2 })
        const answer = await client(url).chat.completions.create(chatBody).withResponse()
        expect(answer.data.choices[0]?.message.content).toBeTruthy()
        expect(answer.response.headers.get('cache-status')).toMatch(/fwd-status=200; stored/)
        expect(fake.callCount()).toBe(3)
      })

      it('limits requests per scope with OpenAI rate-limit headers', async () => {
        const url = await proxy({ rateLimit: { requestsPerMinute: 2 } })
        const first = await post(`${url}/v1/chat/completions`, chatBody)
        expect(first.headers.get('x-ratelimit-limit-requests')).toBe('2')
        expect(first.headers.get('x-ratelimit-remaining-requests')).toBe('1')
        await post(`${url}/v1/chat/completions`, chatBody)
        const refused = await post(`${url}/v1/chat/completions`, chatBody)
        expect(refused.status).toBe(429)
        expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0)
        expect(await refused.json()).toMatchObject({ error: { code: 'rate_limited', type: 'invalid_request_error' } })
        // Another credential has its own budget.
        expect((await post(`${url}/v1/chat/completions`, chatBody, { authorization: 'Bearer sk-tenant-b' })).status).toBe(200)
      })

      it('answers bad input with an OpenAI-style error and keeps serving', async () => {
        const url = await proxy({ maxBodyBytes: 1024 * 1024 })
        const endpoint = `${url}/v1/chat/completions`
        const cases: Array<[string, Promise<Response>, number, string | null]> = [
          ['malformed JSON', post(endpoint, '{"model": "gpt-4o-mini", "messages": ['), 400, null],
          ['messages not an array', post(endpoint, { model: 'gpt-4o-mini', messages: 'hi' }), 400, 'messages'],
          ['empty body', post(endpoint, ''), 400, null],
          ['2 MB over a 1 MB limit', post(endpoint, { ...chatBody, padding: 'x'.repeat(2 * 1024 * 1024) }), 413, null],
          ['non-JSON content type', post(endpoint, 'model=gpt-4o-mini', { 'content-type': 'text/plain' }), 415, null],
        ]
        for (const [label, pending, status, param] of cases) {
          const response = await pending
          expect(response.status, label).toBe(status)
          const json = (await response.json()) as { error: { param: string | null } }
          expectOpenAiError(json)
          if (param) expect(json.error.param, label).toBe(param)
          if (status === 413) {
            expect(json.error, label).toMatchObject({ code: 'body_too_large', message: expect.stringContaining(`${1024 * 1024} bytes`) })
            // Whichever layer enforced the limit (the engine, or the framework's own parser), the answer says it was aicache.
            expect(response.headers.get('cache-status'), label).toMatch(/detail=body_too_large/)
          }
        }
        expect(fake.callCount()).toBe(0)
        const fine = await client(url).chat.completions.create(chatBody)
        expect(fine.choices[0]?.message.content).toBeTruthy()
      })

      it('follows per-request Cache-Control, TTL and namespace', async () => {
        const url = await proxy()
        const endpoint = `${url}/v1/chat/completions`
        const status = async (headers: Record<string, string>) => (await post(endpoint, chatBody, headers)).headers.get('cache-status')
        expect(await status({ 'cache-control': 'no-store' })).toMatch(/fwd=request; detail=no-store/)
        expect(await status({ 'cache-control': 'only-if-cached' })).toMatch(/detail=not_cached/)
        expect(await status({})).toMatch(/fwd=uri-miss.*stored/)
        expect(await status({})).toMatch(/hit/)
        expect(await status({ 'cache-control': 'no-cache' })).toMatch(/fwd=request; fwd-status=200; stored/)
        expect(await status({ 'cache-control': 'max-age=100' })).toMatch(/hit/)
        expect(await status({ 'x-aicache-namespace': 'other' })).toMatch(/fwd=uri-miss/)
        expect(await status({ 'x-aicache-namespace': 'other' })).toMatch(/hit/)
        expect(await status({ 'x-aicache-namespace': 'short', 'x-aicache-ttl': '0' })).not.toMatch(/stored/)
        expect(await status({ 'x-aicache-namespace': 'short' })).toMatch(/fwd=uri-miss/)
        expect(fake.callCount()).toBe(6)
      })

      it('says 504 to only-if-cached when nothing is stored', async () => {
        const url = await proxy()
        const response = await post(`${url}/v1/chat/completions`, chatBody, { 'cache-control': 'only-if-cached' })
        expect(response.status).toBe(504)
        expectOpenAiError(await response.json())
        expect(fake.callCount()).toBe(0)
      })

      it('forwards other /v1 routes untouched and uncached', async () => {
        const openai = client(await proxy())
        const first = await openai.models.list()
        await openai.models.list()
        expect(first.data.length).toBeGreaterThan(0)
        expect(fake.callCount('/v1/models')).toBe(2)
      })

      it('stores nothing of a stream that reports an error before [DONE], in either form', async () => {
        const url = await proxy()
        const endpoint = `${url}/v1/chat/completions`
        for (const kind of ['data', 'event'] as const) {
          const body = { ...chatBody, messages: [{ role: 'user' as const, content: `A stream failing with an ${kind} error` }], stream: true }
          fake.inject({ streamError: kind })
          const failed = await post(endpoint, body)
          const text = await failed.text()
          expect(text, kind).toContain('"error"')
          expect(text, kind).toMatch(/data: \[DONE\]\n\n$/)
          expect(failed.headers.get('cache-status'), kind).not.toMatch(/stored/)
          const next = await post(endpoint, body)
          expect(next.headers.get('cache-status'), kind).toMatch(/fwd=uri-miss/)
          expect(await next.text(), kind).not.toContain('"error"')
        }
        expect(fake.callCount('/v1/chat/completions')).toBe(4)
      })

      it('answers 502 when the upstream cannot be reached', async () => {
        const url = await proxy({ upstream: 'http://127.0.0.1:9/v1' })
        const response = await post(`${url}/v1/chat/completions`, chatBody)
        expect(response.status).toBe(502)
        expect(await response.json()).toMatchObject({ error: { code: 'upstream_unreachable' } })
      })

      it('answers 504 when the upstream is too slow', async () => {
        fake.setLatency(500)
        const url = await proxy({ upstreamTimeoutMs: 100 })
        const response = await post(`${url}/v1/chat/completions`, chatBody)
        expect(response.status).toBe(504)
        expect(await response.json()).toMatchObject({ error: { code: 'upstream_timeout' } })
      })
    })

    describe('wrap mode', () => {
      async function wrap(options: ConformanceOptions = {}) {
        const handled = { '/chat': 0, '/other': 0 }
        const app = await harness.wrap(options, async (route, body) => {
          handled[route]++
          if (route === '/other') return { status: 200, body: { echoed: body, call: handled[route] } }
          const { prompt = '', stream = false, sse = false } = body as { prompt?: string; stream?: boolean; sse?: boolean }
          if (prompt === 'fail') return { status: 500, body: { error: 'model failed' } }
          // A generation failing mid-stream, ended the way vLLM ends one: an error event, then [DONE].
          if (prompt === 'fail mid-stream') {
            return { status: 200, events: [JSON.stringify({ word: 'half' }), JSON.stringify({ error: { message: 'model failed' } }), '[DONE]'] }
          }
          // `sse`: a route that always answers with its own event stream, whatever `stream` says.
          if (stream || sse) return { status: 200, events: [...prompt.split(' ').map((word) => JSON.stringify({ word })), '[DONE]'] }
          const openai = new OpenAI({ baseURL: fake.url, apiKey: 'sk-app', maxRetries: 0 })
          const completion = await openai.chat.completions.create({
            model: 'gpt-4o-mini',
            messages: [{ role: 'user', content: prompt }],
          })
          return { status: 200, body: { answer: completion.choices[0]?.message.content, usage: completion.usage } }
        })
        running.push(app)
        return { url: app.url, handled }
      }

      it("serves the app's own route from the cache on the second identical call", async () => {
        const { url, handled } = await wrap()
        const first = await post(`${url}/chat`, { model: 'gpt-4o-mini', prompt: 'Tell me about caches' })
        const firstJson = await first.json()
        expect(first.headers.get('cache-status')).toMatch(/fwd=uri-miss/)
        const second = await post(`${url}/chat`, { model: 'gpt-4o-mini', prompt: 'Tell me about caches' })
        expect(second.headers.get('cache-status')).toMatch(/hit/)
        expect(await second.json()).toEqual(firstJson)
        expect(handled['/chat']).toBe(1)
        await post(`${url}/chat`, { model: 'gpt-4o-mini', prompt: 'Something else' })
        expect(handled['/chat']).toBe(2)
      })

      it("records the app's own SSE stream and replays it", async () => {
        const { url, handled } = await wrap()
        const ask = () => post(`${url}/chat`, { model: 'gpt-4o-mini', prompt: 'one two three', stream: true })
        const first = await ask()
        expect(first.headers.get('content-type')).toMatch(/text\/event-stream/)
        const firstText = await first.text()
        expect(firstText).toBe('data: {"word":"one"}\n\ndata: {"word":"two"}\n\ndata: {"word":"three"}\n\ndata: [DONE]\n\n')
        const second = await ask()
        expect(second.headers.get('cache-status')).toMatch(/hit/)
        expect(second.headers.get('content-type')).toMatch(/text\/event-stream/)
        expect(await second.text()).toBe(firstText)
        expect(handled['/chat']).toBe(1)
      })

      it("replays a route's own SSE exactly as recorded to requests without stream: true", async () => {
        const { url, handled } = await wrap()
        const ask = () => post(`${url}/chat`, { model: 'gpt-4o-mini', prompt: 'alpha beta', sse: true })
        const expected = 'data: {"word":"alpha"}\n\ndata: {"word":"beta"}\n\ndata: [DONE]\n\n'
        // The first runs the route; the others follow it live, then the repeats are hits.
        const together = await Promise.all(Array.from({ length: 4 }, () => ask()))
        for (const response of together) {
          expect(response.headers.get('content-type')).toMatch(/text\/event-stream/)
          expect(await response.text()).toBe(expected)
        }
        for (let repeat = 0; repeat < 2; repeat++) {
          const hit = await ask()
          expect(hit.headers.get('cache-status')).toMatch(/hit/)
          expect(hit.headers.get('content-type')).toMatch(/text\/event-stream/)
          expect(await hit.text()).toBe(expected)
        }
        expect(handled['/chat']).toBe(1)
      })

      it("returns a route's own JSON as recorded to a request with stream: true", async () => {
        const { url, handled } = await wrap()
        const body = { model: 'gpt-4o-mini', prompt: 'An answer in the route shape' }
        const first = await post(`${url}/chat`, body)
        const firstJson = await first.json()
        const streamed = await post(`${url}/chat`, { ...body, stream: true })
        expect(streamed.headers.get('cache-status')).toMatch(/hit/)
        expect(streamed.headers.get('content-type')).toMatch(/json/)
        expect(await streamed.json()).toEqual(firstJson)
        expect(handled['/chat']).toBe(1)
      })

      it('does not cache a failed answer', async () => {
        const { url, handled } = await wrap()
        expect((await post(`${url}/chat`, { model: 'gpt-4o-mini', prompt: 'fail' })).status).toBe(500)
        expect((await post(`${url}/chat`, { model: 'gpt-4o-mini', prompt: 'fail' })).status).toBe(500)
        expect(handled['/chat']).toBe(2)
      })

      it('does not cache a stream of its own that reports an error before [DONE]', async () => {
        const { url, handled } = await wrap()
        const ask = () => post(`${url}/chat`, { model: 'gpt-4o-mini', prompt: 'fail mid-stream', stream: true })
        for (let attempt = 0; attempt < 2; attempt++) {
          const response = await ask()
          expect(response.headers.get('cache-status')).toMatch(/fwd=uri-miss/)
          expect(await response.text()).toContain('"error"')
        }
        expect(handled['/chat']).toBe(2)
      })

      it('leaves requests that are not LLM-shaped to the app, body intact', async () => {
        const { url, handled } = await wrap()
        const first = await (await post(`${url}/other`, { x: 1 })).json()
        const second = await (await post(`${url}/other`, { x: 1 })).json()
        expect(first).toEqual({ echoed: { x: 1 }, call: 1 })
        expect(second).toEqual({ echoed: { x: 1 }, call: 2 })
        expect(handled['/other']).toBe(2)
      })

      it('leaves a JSON POST that only looks like an LLM call (no model) to the app', async () => {
        const { url, handled } = await wrap()
        // A to-do app's own field named `input`: at app level only an unmistakable LLM call is cached.
        const first = await (await post(`${url}/other`, { input: 'x' })).json()
        const second = await post(`${url}/other`, { input: 'x' })
        expect(second.headers.get('cache-status')).toBeNull()
        expect(await second.json()).toEqual({ echoed: { input: 'x' }, call: 2 })
        expect(first).toEqual({ echoed: { input: 'x' }, call: 1 })
        expect(handled['/other']).toBe(2)
      })

      it('keeps tenants of a wrapped route apart', async () => {
        const { url, handled } = await wrap()
        await post(`${url}/chat`, { model: 'gpt-4o-mini', prompt: 'hello' }, { authorization: 'Bearer one' })
        await post(`${url}/chat`, { model: 'gpt-4o-mini', prompt: 'hello' }, { authorization: 'Bearer two' })
        expect(handled['/chat']).toBe(2)
      })

      it('runs the handler once for concurrent identical requests', async () => {
        fake.setLatency(150)
        const { url, handled } = await wrap()
        const answers = await Promise.all(
          Array.from({ length: 20 }, () => post(`${url}/chat`, { model: 'gpt-4o-mini', prompt: 'together' }).then((r) => r.json())),
        )
        expect(handled['/chat']).toBe(1)
        for (const answer of answers) expect(answer).toEqual(answers[0])
      })
    })
  })
}
