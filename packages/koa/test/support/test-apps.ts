import { PassThrough } from 'node:stream'
import { bodyParser } from '@koa/bodyparser'
import Router from '@koa/router'
import { listening } from '@aicache/testkit/conformance'
import type { ConformanceHarness } from '@aicache/testkit/conformance'
import Koa from 'koa'
import { type AiCacheOptions, aiCache } from '../../src/index.js'

/** Listens on a free loopback port and returns the app's origin and a closer. */
export function listen(app: Koa) {
  return listening(app.listen(0, '127.0.0.1'))
}

/** The conformance harness: aicache before @koa/router routes that parse with @koa/bodyparser. */
export const koaHarness: ConformanceHarness = {
  async proxy(options) {
    const app = new Koa()
    const middleware = aiCache(options as AiCacheOptions)
    app.use(middleware)
    const running = await listen(app)
    return { url: running.url, close: async () => (await running.close(), await middleware.engine.close()) }
  },
  async wrap(options, handler) {
    const app = new Koa()
    const router = new Router()
    for (const route of ['/chat', '/other'] as const) {
      router.post(route, bodyParser(), async (ctx) => {
        const answer = await handler(route, ctx.request.body)
        ctx.status = answer.status
        if (answer.events === undefined) return void (ctx.body = answer.body)
        ctx.type = 'text/event-stream'
        const events = new PassThrough()
        ctx.body = events
        for (const event of answer.events) events.write(`data: ${event}\n\n`)
        events.end()
      })
    }
    app.use(aiCache(options as AiCacheOptions))
    app.use(router.routes())
    return listen(app)
  },
}
