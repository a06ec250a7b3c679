import { PassThrough } from 'node:stream'
import type { ConformanceHarness, RunningApp } from '@aicache/testkit/conformance'
import type { FastifyInstance } from 'fastify'
import Fastify from 'fastify'
import { type FastifyAiCacheOptions, aiCache } from '../../src/index.js'

/** Listens on a free loopback port; closing the app closes the engine it created. */
export async function listen(app: FastifyInstance): Promise<RunningApp> {
  const url = await app.listen({ port: 0, host: '127.0.0.1' })
  return { url, close: () => app.close() }
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
    await app.register(aiCache, options as FastifyAiCacheOptions)
    for (const route of ['/chat', '/other'] as const) {
      app.post(route, async (request, reply) => {
        const answer = await handler(route, request.body)
        reply.code(answer.status)
        if (answer.events === undefined) return reply.send(answer.body)
        const events = new PassThrough()
        reply.type('text/event-stream').send(events)
        for (const event of answer.events) events.write(`data: ${event}\n\n`)
        events.end()
        return reply
      })
    }
    return listen(app)
  },
}
