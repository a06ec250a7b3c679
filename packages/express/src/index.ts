/**
 * aicache for Express 4 and 5.
 *
 * @example
 * ```ts
 * import express from 'express'
 * import { aiCache } from '@aicache/express'
 *
 * const app = express()
 * app.use(aiCache({ upstream: 'https://api.openai.com/v1' }))
 * ```
 */
import { AiCache, type AiCacheOptions, createAiCache, type ResponseMeta } from '@aicache/core'
import { captureNodeResponse, nodeExchange, type Outcome, resolveRouteOptions, type RouteDirectives, sendNodeOutcome } from '@aicache/core/adapter'
import type { NextFunction, Request, RequestHandler, Response } from 'express'

export type { AiCacheOptions, AiCacheStats, RateLimitOptions, ResponseMeta } from '@aicache/core'

/** Settings of the routes one middleware is mounted on: namespace, TTL and rate limits of their own. */
export type AiCacheRouteOptions = RouteDirectives
export { AiCache, AiCacheError, createAiCache } from '@aicache/core'

/** The middleware, with the engine it uses (for `stats()` and `invalidate()`). */
export type AiCacheMiddleware = RequestHandler & { readonly engine: AiCache }

/**
 * Wrap mode: model and usage for the response the handler is about to send,
 * when its body does not carry an OpenAI `usage` itself.
 *
 * @example
 * ```ts
 * app.post('/chat', async (req, res) => {
 *   const answer = await callModel(req.body)
 *   setCacheMeta(res, { model: 'gpt-4o-mini', usage: { inputTokens: 12, outputTokens: 40 } })
 *   res.json({ answer: answer.text })
 * })
 * ```
 */
export function setCacheMeta(res: Response, meta: ResponseMeta): void {
  res.locals['aicache'] = meta
}

// Once a parser consumed the stream, the body can only come from `req.body`.
function parsedBody(req: Request): unknown {
  return req.readableEnded ? req.body : undefined
}

/**
 * The original bytes of a body a parser consumed, when its `verify` hook
 * kept them as `req.rawBody` (`express.json({ verify: (req, res, buffer) => { req.rawBody = buffer } })`).
 */
function rawBodyOf(req: Request): Buffer | undefined {
  const raw = req.readableEnded ? (req as Request & { rawBody?: unknown }).rawBody : undefined
  return Buffer.isBuffer(raw) ? raw : undefined
}

/**
 * `'route'` when this middleware is one of the handlers of the route that
 * matched (`app.post('/chat', aiCache(), handler)`): Express sets `req.route`
 * for route handlers only, and its stack says whether this middleware is one
 * of them (a route that matched earlier and called `next()` leaves
 * `req.route` set for later `app.use` middleware too).
 */
function mountOf(req: Request, middleware: RequestHandler): 'app' | 'route' {
  const stack = (req.route as { stack?: Array<{ handle?: unknown }> } | undefined)?.stack
  return stack?.some((layer) => layer.handle === middleware) ? 'route' : 'app'
}

/** Sends aicache's answer, or hands the request on to the app (with the body read, and wrap mode's capture). */
function carryOut(req: Request, res: Response, next: NextFunction, outcome: Outcome): void {
  if (outcome.type !== 'next') return void sendNodeOutcome(res, outcome)
  if (outcome.body !== undefined) {
    req.body = outcome.body
    // body-parser 1 (Express 4) skips a request marked as already parsed.
    ;(req as Request & { _body?: boolean })._body = true
  }
  if (outcome.headers) for (const [name, value] of Object.entries(outcome.headers)) res.setHeader(name, value)
  if (outcome.capture) {
    captureNodeResponse(res, outcome.capture, () => res.locals['aicache'] as ResponseMeta | undefined)
  }
  next()
}

/**
 * Express middleware. Pass options to create an engine, or an engine from
 * `createAiCache()` to share one between several apps or adapters. Works
 * with or without `express.json()` before it. `route` gives the routes this
 * middleware is mounted on a namespace, TTL or rate limits of their own.
 *
 * @example
 * ```ts
 * const cache = createAiCache({ rateLimit: { requestsPerMinute: 60 } })
 * app.post('/chat', aiCache(cache), chatHandler)
 * // The same cache; this route allows 10 requests a minute per caller.
 * app.post('/summarise', aiCache(cache, { rateLimit: { requestsPerMinute: 10 } }), summariseHandler)
 * ```
 */
export function aiCache(options: AiCacheOptions | AiCache = {}, route?: AiCacheRouteOptions): AiCacheMiddleware {
  const engine = AiCache.isInstance(options) ? options : createAiCache(options)
  const routeOptions = resolveRouteOptions(route)
  const wrap = engine.options.mode === 'wrap'

  function aiCacheMiddleware(req: Request, res: Response, next: NextFunction): void {
    const exchange = nodeExchange(req, res, {
      path: req.path,
      url: req.url,
      parsedBody: parsedBody(req),
      rawBody: rawBodyOf(req),
      native: req,
      route: routeOptions,
      mount: wrap ? mountOf(req, aiCacheMiddleware) : undefined,
    })
    let outcome: Outcome | Promise<Outcome>
    try {
      outcome = engine.respond(exchange)
    } catch (error) {
      return next(error)
    }
    // A hit whose body Express already parsed is answered without a promise.
    if (outcome instanceof Promise) outcome.then((settled) => carryOut(req, res, next, settled), next)
    else carryOut(req, res, next, outcome)
  }
  return Object.assign(aiCacheMiddleware, { engine })
}
