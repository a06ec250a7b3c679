/**
 * aicache for Koa 3.
 *
 * @example
 * ```ts
 * import Koa from 'koa'
 * import { aiCache } from '@aicache/koa'
 *
 * const app = new Koa()
 * app.use(aiCache({ upstream: 'https://api.openai.com/v1' }))
 * ```
 */
import { Readable, Stream } from 'node:stream'
import type { ReadableStream as WebReadableStream } from 'node:stream/web'
import { AiCache, type AiCacheOptions, createAiCache, type ResponseMeta } from '@aicache/core'
import { nodeExchange, resolveRouteOptions, type ResponseHeaders, type RouteDirectives, tapStream, type WrapCapture } from '@aicache/core/adapter'
import type { Middleware, Next, ParameterizedContext } from 'koa'

export type { AiCacheOptions, AiCacheStats, RateLimitOptions, ResponseMeta } from '@aicache/core'

/** Settings of the routes one middleware is mounted on: namespace, TTL and rate limits of their own. */
export type AiCacheRouteOptions = RouteDirectives
export { AiCache, AiCacheError, createAiCache } from '@aicache/core'

/** The middleware, with the engine it uses (for `stats()` and `invalidate()`). */
export type AiCacheMiddleware = Middleware & { readonly engine: AiCache }

/**
 * Wrap mode: model and usage for the response the handler is about to send,
 * when its body does not carry an OpenAI `usage` itself. Kept in `ctx.state.aicache`.
 *
 * @example
 * ```ts
 * router.post('/chat', async (ctx) => {
 *   const answer = await callModel(ctx.request.body)
 *   setCacheMeta(ctx, { model: 'gpt-4o-mini', usage: { inputTokens: 12, outputTokens: 40 } })
 *   ctx.body = { answer: answer.text }
 * })
 * ```
 */
export function setCacheMeta(ctx: Pick<ParameterizedContext, 'state'>, meta: ResponseMeta): void {
  ctx.state['aicache'] = meta
}

// Once a parser (such as @koa/bodyparser) consumed the stream, the body can
// only come from `ctx.request.body`.
function parsedBody(ctx: ParameterizedContext): unknown {
  return ctx.req.readableEnded ? (ctx.request as { body?: unknown }).body : undefined
}

/** The text @koa/bodyparser keeps of a body it parsed (`ctx.request.rawBody`), as the bytes it came as. */
function rawBodyOf(ctx: ParameterizedContext): Buffer | undefined {
  const raw = ctx.req.readableEnded ? (ctx.request as { rawBody?: unknown }).rawBody : undefined
  return typeof raw === 'string' ? Buffer.from(raw) : Buffer.isBuffer(raw) ? raw : undefined
}

/** A @koa/router layer, as far as telling a route from `router.use` needs. */
interface RouterLayer {
  methods?: readonly string[]
  stack?: readonly unknown[]
}

/**
 * `'route'` when this middleware is in the stack of a @koa/router route that
 * matched (`router.post('/chat', aiCache(), handler)`): the router lists the
 * layers it runs in `ctx.matched`, and only a route's layer has methods
 * (`router.use` layers have none).
 */
function mountOf(ctx: ParameterizedContext, middleware: Middleware): 'app' | 'route' {
  const matched = (ctx as { matched?: readonly RouterLayer[] }).matched
  return matched?.some((layer) => (layer.methods?.length ?? 0) > 0 && layer.stack?.includes(middleware)) ? 'route' : 'app'
}

function setHeaders(ctx: ParameterizedContext, headers: ResponseHeaders | undefined): void {
  for (const [name, value] of Object.entries(headers ?? {})) {
    ctx.set(name, Array.isArray(value) ? value : String(value))
  }
}

/** A body Koa sends as a stream, as a Node stream; `undefined` for other bodies. */
function streamOf(body: unknown): Readable | undefined {
  if (body instanceof Stream) return body as Readable
  if (body instanceof ReadableStream) return Readable.fromWeb(body as WebReadableStream)
  return undefined
}

/** The bytes Koa sends for a string, Buffer or JSON body; `undefined` for none, Blob or Response. */
function bytesOf(body: unknown): Buffer | undefined {
  if (body === null || body === undefined || body instanceof Blob || body instanceof Response) return undefined
  if (Buffer.isBuffer(body)) return body
  return Buffer.from(typeof body === 'string' ? body : JSON.stringify(body))
}

/** Wrap-mode miss: runs the rest of the app and reports what the handler put in `ctx.body`. */
async function captureDownstream(ctx: ParameterizedContext, next: Next, capture: WrapCapture): Promise<void> {
  ctx.res.once('close', () => ctx.res.writableFinished || capture.abandon())
  try {
    await next()
  } catch (error) {
    capture.abandon()
    throw error
  }
  const response = { status: ctx.status, headers: ctx.response.headers }
  const complete = () => capture.complete({ ...response, meta: ctx.state['aicache'] as ResponseMeta | undefined })
  const stream = streamOf(ctx.body)
  if (stream !== undefined) {
    const length = ctx.response.get('content-length')
    ctx.body = tapStream(stream, capture, complete)
    if (length) ctx.set('content-length', length)
    return
  }
  const bytes = bytesOf(ctx.body)
  if (bytes === undefined) return capture.abandon()
  capture.write(bytes)
  complete()
}

/**
 * Koa middleware. Pass options to create an engine, or an engine from
 * `createAiCache()` to share one between several apps or adapters. Works
 * with or without `@koa/bodyparser` before it. Answers are set as
 * `ctx.status`, headers and `ctx.body`, so middleware around it (compression,
 * CORS) still applies. `route` gives the routes this middleware is mounted
 * on a namespace, TTL or rate limits of their own.
 *
 * @example
 * ```ts
 * const cache = createAiCache({ rateLimit: { requestsPerMinute: 60 } })
 * // The same cache; this route allows 10 requests a minute per caller.
 * router.post('/summarise', aiCache(cache, { rateLimit: { requestsPerMinute: 10 } }), summarise)
 * ```
 */
export function aiCache(options: AiCacheOptions | AiCache = {}, route?: AiCacheRouteOptions): AiCacheMiddleware {
  const engine = AiCache.isInstance(options) ? options : createAiCache(options)
  const routeOptions = resolveRouteOptions(route)
  const wrap = engine.options.mode === 'wrap'

  async function aiCacheMiddleware(ctx: ParameterizedContext, next: Next): Promise<void> {
    const exchange = nodeExchange(ctx.req, ctx.res, {
      path: ctx.path,
      url: ctx.url,
      parsedBody: parsedBody(ctx),
      rawBody: rawBodyOf(ctx),
      native: ctx,
      route: routeOptions,
      mount: wrap ? mountOf(ctx, aiCacheMiddleware) : undefined,
    })
    const answer = engine.respond(exchange)
    // A hit whose body a parser already read needs no await.
    const outcome = answer instanceof Promise ? await answer : answer
    if (outcome.type !== 'next') {
      ctx.status = outcome.status
      setHeaders(ctx, outcome.headers)
      ctx.body = outcome.type === 'respond' ? outcome.body : Readable.from(outcome.body)
      return
    }
    if (outcome.body !== undefined) (ctx.request as { body?: unknown }).body = outcome.body
    setHeaders(ctx, outcome.headers)
    if (outcome.capture) return captureDownstream(ctx, next, outcome.capture)
    await next()
  }
  return Object.assign(aiCacheMiddleware, { engine })
}
