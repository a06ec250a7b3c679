import { Readable } from 'node:stream'
import { type AiCache, AiCacheError, type ResponseMeta } from '@aicache/core'
import { nodeExchange, resolveRouteOptions, type RouteDirectives, tapStream, type WrapCapture } from '@aicache/core/adapter'
import type { FastifyInstance, FastifyReply, FastifyRequest, RouteOptions } from 'fastify'
import { sendOutcome } from './gateway-routes.js'

/** Per-route settings, in a route's `config.aiCache`: namespace, TTL and rate limits of its own. */
export type AiCacheRouteOptions = RouteDirectives

const captures = new WeakMap<FastifyRequest, WrapCapture>()
/** Set by `setCacheMeta`. */
export const metas = new WeakMap<FastifyReply, ResponseMeta>()

/** Checks a route's `config.aiCache` when the route is declared, and keeps it resolved. */
function checkRouteOptions(route: RouteOptions): void {
  const options: unknown = route.config?.aiCache
  if (options === undefined || options === false) return
  // `true`: cached as a route-level mount, with the engine's own settings.
  if (options === true) return void (route.config = { ...route.config, aiCache: Object.freeze({}) })
  const where = `${String(route.method)} ${route.url}`
  let resolved: AiCacheRouteOptions | undefined
  try {
    if (typeof options !== 'object' || options === null) throw new TypeError('not an object')
    resolved = resolveRouteOptions(options as AiCacheRouteOptions, 'aiCache')
  } catch (cause) {
    const reason = AiCacheError.isInstance(cause) ? `: ${cause.message}` : ''
    const message = `Route config 'aiCache' of ${where} must be a boolean or { namespace?: string, ttlMs?: integer >= 0, rateLimit? }${reason}`
    throw new AiCacheError('invalid_option', message, { param: 'aiCache', cause })
  }
  // A copy: the config object may be shared with other routes.
  route.config = { ...route.config, aiCache: resolved }
}

/** Reports the payload a handler sent (as this hook sees it) to the capture of its request. */
function capturePayload(capture: WrapCapture, reply: FastifyReply, payload: unknown): unknown {
  const bytes = typeof payload === 'string' || Buffer.isBuffer(payload)
  // A plugin whose onSend ran before this one encoded the body: there is nothing to keep.
  if (reply.hasHeader('content-encoding') || !(bytes || payload instanceof Readable)) {
    capture.abandon()
    return payload
  }
  const response = { status: reply.statusCode, headers: reply.getHeaders() }
  const complete = () => capture.complete({ ...response, meta: metas.get(reply) })
  if (payload instanceof Readable) return tapStream(payload, capture, complete)
  capture.write(Buffer.from(payload as string | Buffer))
  complete()
  return payload
}

/**
 * Wrap mode: hooks on the routes of the context the plugin is registered in.
 * `preHandler` runs after Fastify parsed the body: a hit is answered there;
 * on a miss the handler runs and `onSend` records what it sent.
 */
export function wrapRoutes(fastify: FastifyInstance, engine: AiCache): void {
  fastify.addHook('onRoute', checkRouteOptions)
  fastify.addHook('preHandler', async (request, reply) => {
    const options = request.routeOptions.config.aiCache
    if (options === false) return
    const path = request.url.split('?', 1)[0]!
    // Settings on the route (resolved to an object when it was declared) make
    // it a route-level mount: its JSON POSTs are cached whatever their shape.
    const route = options === true ? undefined : options
    const exchange = nodeExchange(request.raw, reply.raw, {
      path,
      url: request.url,
      parsedBody: request.body,
      native: request,
      route,
      mount: options === undefined ? 'app' : 'route',
    })
    const outcome = await engine.handle(exchange)
    if (outcome.type !== 'next') return sendOutcome(reply, outcome)
    if (outcome.headers) reply.headers(outcome.headers)
    if (outcome.capture === undefined) return
    const capture = outcome.capture
    captures.set(request, capture)
    reply.raw.once('close', () => reply.raw.writableFinished || capture.abandon())
  })
  fastify.addHook('onError', async (request) => {
    captures.get(request)?.abandon()
    captures.delete(request)
  })
  fastify.addHook('onSend', async (request, reply, payload) => {
    const capture = captures.get(request)
    if (capture === undefined) return payload
    captures.delete(request)
    return capturePayload(capture, reply, payload)
  })
}
