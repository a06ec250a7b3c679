import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { PassThrough } from 'node:stream'
import { bodyParser } from '@koa/bodyparser'
import Router from '@koa/router'
import type { ConformanceHarness, RunningApp } from '@aicache/testkit/conformance'
import Koa from 'koa'
import { type AiCacheOptions, aiCache } from './index.js'

/** Listens on a free loopback port and returns the app's origin and a closer. */
export async function listen(app: Koa): Promise<RunningApp & { server: Server }> {
  const server = app.listen(0, '127.0.0.1')
  await new Promise<void>((resolve) => server.once('listening', resolve))
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
