import { createRequire } from 'node:module'
import { PassThrough } from 'node:stream'
import { bodyParser } from '@koa/bodyparser'
import Router from '@koa/router'
import { listening } from '@aicache/testkit/conformance'
import type { ConformanceEngine, ConformanceHarness, RouteHandler, WrapAnswer } from '@aicache/testkit/conformance'
import Koa from 'koa'
import { AiCache, AiCacheError, type AiCacheOptions, type AiCacheRouteOptions, aiCache, createAiCache, setCacheMeta } from '../../src/index.js'

/** Listens on a free loopback port and returns the app's origin and a closer. */
export function listen(app: Koa) {
  return listening(app.listen(0, '127.0.0.1'))
}

/** Sends what a conformance handler answered, as a Koa handler would. */
function send(ctx: Koa.Context, answer: WrapAnswer): void {
  if (answer.meta !== undefined) setCacheMeta(ctx, answer.meta)
  ctx.status = answer.status
  if (answer.stream !== undefined) {
    ctx.type = 'application/json'
    ctx.body = answer.stream
    return
  }
  if (answer.events === undefined) return void (ctx.body = answer.body)
  ctx.type = 'text/event-stream'
  const events = new PassThrough()
  ctx.body = events
  for (const event of answer.events) events.write(`data: ${event}\n\n`)
  events.end()
}

/** A @koa/router `POST` route, parsed by @koa/bodyparser and answered by `handler`. */
function route(router: Router, path: string, before: Koa.Middleware[], handler: RouteHandler): void {
  router.post(path, ...before, bodyParser(), async (ctx) => send(ctx, await handler(path, ctx.request.body)))
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
    const errors: unknown[] = []
    app.on('error', (error: unknown) => errors.push(error))
    const router = new Router()
    for (const path of ['/chat', '/other'] as const) route(router, path, [], (_path, body) => handler(path, body))
    const middleware = aiCache(options as AiCacheOptions)
    app.use(middleware)
    app.use(router.routes())
    const running = await listen(app)
    return { url: running.url, engine: middleware.engine, errors, close: async () => (await running.close(), await middleware.engine.close()) }
  },
  createEngine: (options) => createAiCache(options as AiCacheOptions),
  proxyOn: (engine) => listen(new Koa().use(aiCache(engine as AiCache))),
  async routes(engine, routes, handler) {
    const app = new Koa()
    const router = new Router()
    for (const [path, settings] of Object.entries(routes)) route(router, path, [aiCache(engine as AiCache, settings as AiCacheRouteOptions)], handler)
    app.use(router.routes())
    return listen(app)
  },
  moduleBuilds: {
    // This file is ESM; `require` loads the CommonJS build of the core, as an app that mixes both module systems does.
    commonJs: createRequire(import.meta.url)('@aicache/core') as { createAiCache(options?: object): ConformanceEngine },
    AiCache,
    AiCacheError,
  },
}
