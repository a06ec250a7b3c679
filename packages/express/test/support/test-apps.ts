import express, { type Express } from 'express'
import express4 from 'express4'
import { listening } from '@aicache/testkit/conformance'
import type { ConformanceHarness, WrapHandler } from '@aicache/testkit/conformance'
import { type AiCacheOptions, aiCache } from '../../src/index.js'

/** Listens on a free loopback port and returns the app's origin and a closer. */
export function listen(app: Pick<Express, 'listen'>) {
  return listening(app.listen(0, '127.0.0.1'))
}

/** The parts of Express 4 and 5 the harness uses. */
type ExpressModule = typeof express

function wrapRoutes(framework: ExpressModule, app: Express, handler: WrapHandler): void {
  for (const route of ['/chat', '/other'] as const) {
    app.post(route, framework.json(), async (req, res, next) => {
      try {
        const answer = await handler(route, req.body)
        if (answer.events === undefined) return void res.status(answer.status).json(answer.body)
        res.status(answer.status).type('text/event-stream')
        for (const event of answer.events) res.write(`data: ${event}\n\n`)
        res.end()
      } catch (error) {
        next(error)
      }
    })
  }
}

/** The conformance harness for an Express module (4 or 5). */
export function expressHarness(framework: ExpressModule): ConformanceHarness {
  return {
    async proxy(options) {
      const app = framework()
      const middleware = aiCache(options as AiCacheOptions)
      app.use(middleware)
      const running = await listen(app)
      return { url: running.url, close: async () => (await running.close(), await middleware.engine.close()) }
    },
    async wrap(options, handler) {
      const app = framework()
      app.use(aiCache(options as AiCacheOptions))
      wrapRoutes(framework, app, handler)
      return listen(app)
    },
  }
}

/** Express 4, whose types differ from 5 only in ways the harness does not use. */
export const express4Module = express4 as unknown as ExpressModule
