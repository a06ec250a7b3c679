import { createRequire } from 'node:module'
import { PassThrough } from 'node:stream'
import type { ConformanceEngine, ConformanceHarness, RunningApp, WrapAnswer } from '@aicache/testkit/conformance'
import type { FastifyInstance, FastifyReply } from 'fastify'
import Fastify from 'fastify'
import { AiCache, AiCacheError, type AiCacheRouteOptions, type FastifyAiCacheOptions, aiCache, createAiCache, setCacheMeta } from '../../src/index.js'

/** Listens on a free loopback port; closing the app closes the engine it created. */
export async function listen(app: FastifyInstance): Promise<RunningApp> {
  const url = await app.listen({ port: 0, host: '127.0.0.1' })
  return { url, close: () => app.close() }
}

/** Sends what a conformance handler answered, as a Fastify handler would. */
function send(reply: FastifyReply, answer: WrapAnswer): FastifyReply {
  if (answer.meta !== undefined) setCacheMeta(reply, answer.meta)
  reply.code(answer.status)
  if (answer.stream !== undefined) return reply.type('application/json').send(answer.stream)
  if (answer.events === undefined) return reply.send(answer.body)
  const events = new PassThrough()
  reply.type('text/event-stream').send(events)
  for (const event of answer.events) events.write(`data: ${event}\n\n`)
  events.end()
  return reply
}

/** The conformance harness: the plugin, then plain Fastify routes answering with their own JSON. */
export const fastifyHarness: ConformanceHarness = {
  // Fastify's router answers these itself (its own 400 for a bad percent-encoding, 404 for an absolute-form target).
  refusedByFramework: ['/v1/models/%zz', 'http://{other}/v1/models'],
  async proxy(options) {
    const app = Fastify()
    await app.register(aiCache, options as FastifyAiCacheOptions)
    return listen(app)
  },
  async wrap(options, handler) {
    const app = Fastify()
    const errors: unknown[] = []
    app.addHook('onError', async (_request, _reply, error) => void errors.push(error))
    await app.register(aiCache, options as FastifyAiCacheOptions)
    for (const route of ['/chat', '/other'] as const) {
      app.post(route, async (request, reply) => send(reply, await handler(route, request.body)))
    }
    return { ...(await listen(app)), engine: app.aiCache, errors }
  },
  createEngine: (options) => createAiCache(options as FastifyAiCacheOptions),
  async proxyOn(engine) {
    const app = Fastify()
    await app.register(aiCache, { engine: engine as AiCache })
    return listen(app)
  },
  async routes(engine, routes, handler) {
    const app = Fastify()
    try {
      await app.register(aiCache, { engine: engine as AiCache })
      for (const [path, settings] of Object.entries(routes)) {
        app.post(path, { config: { aiCache: settings as AiCacheRouteOptions } }, async (request, reply) => send(reply, await handler(path, request.body)))
      }
      return await listen(app)
    } catch (error) {
      await app.close()
      throw error
    }
  },
  moduleBuilds: {
    // This file is ESM; `require` loads the CommonJS build of the core, as an app that mixes both module systems does.
    commonJs: createRequire(import.meta.url)('@aicache/core') as { createAiCache(options?: object): ConformanceEngine },
    AiCache,
    AiCacheError,
  },
}
