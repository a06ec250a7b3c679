import { createRequire } from 'node:module'
import { pipeline, type Readable } from 'node:stream'
import express, { type Express, type NextFunction, type Request, type Response } from 'express'
import express4 from 'express4'
import { listening } from '@aicache/testkit/conformance'
import type { ConformanceEngine, ConformanceHarness, RouteHandler, WrapAnswer } from '@aicache/testkit/conformance'
import { AiCache, AiCacheError, type AiCacheOptions, type AiCacheRouteOptions, aiCache, createAiCache, setCacheMeta } from '../../src/index.js'

/** Listens on a free loopback port and returns the app's origin and a closer. */
export function listen(app: Pick<Express, 'listen'>) {
  return listening(app.listen(0, '127.0.0.1'))
}

/** The parts of Express 4 and 5 the harness uses. */
type ExpressModule = typeof express

/** Sends what a conformance handler answered, as an Express handler would. */
function send(res: Response, answer: WrapAnswer): void {
  if (answer.meta !== undefined) setCacheMeta(res, answer.meta)
  res.status(answer.status)
  if (answer.stream !== undefined) return void pipeline(answer.stream as Readable, res.type('application/json'), () => {})
  if (answer.events === undefined) return void res.json(answer.body)
  res.type('text/event-stream')
  for (const event of answer.events) res.write(`data: ${event}\n\n`)
  res.end()
}

/** A `POST` route answered by `handler`, its errors handed to `next`. */
function answering(handler: RouteHandler) {
  return async (req: Request, res: Response, next: NextFunction) => {
    try {
      send(res, await handler(req.path, req.body))
    } catch (error) {
      next(error)
    }
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
      const middleware = aiCache(options as AiCacheOptions)
      app.use(middleware)
      for (const route of ['/chat', '/other'] as const)
        app.post(
          route,
          framework.json(),
          answering((_path, body) => handler(route, body)),
        )
      const errors: unknown[] = []
      app.use((error: unknown, _req: Request, _res: Response, next: NextFunction) => {
        errors.push(error)
        next(error)
      })
      const running = await listen(app)
      return { url: running.url, engine: middleware.engine, errors, close: async () => (await running.close(), await middleware.engine.close()) }
    },
    createEngine: (options) => createAiCache(options as AiCacheOptions),
    proxyOn: (engine) => listen(framework().use(aiCache(engine as AiCache))),
    async routes(engine, routes, handler) {
      const app = framework()
      for (const [path, settings] of Object.entries(routes)) {
        app.post(path, aiCache(engine as AiCache, settings as AiCacheRouteOptions), framework.json(), answering(handler))
      }
      return listen(app)
    },
    moduleBuilds: {
      // This file is ESM; `require` loads the CommonJS build of the core, as an app that mixes both module systems does.
      commonJs: createRequire(import.meta.url)('@aicache/core') as { createAiCache(options?: object): ConformanceEngine },
      AiCache,
      AiCacheError,
    },
  }
}

/** Express 4, whose types differ from 5 only in ways the harness does not use. */
export const express4Module = express4 as unknown as ExpressModule
