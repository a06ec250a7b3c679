import { Readable, Transform, pipeline } from 'node:stream'
import {
  type AiCache,
  AiCacheError,
  type ExchangeRequest,
  nodeExchange,
  type RequestHeaders,
  type ResponseMeta,
  type WrapCapture,
} from '@aicache/core'
import type { FastifyInstance, FastifyReply, FastifyRequest, RouteOptions } from 'fastify'
import { sendOutcome } from './gateway-routes.js'

/** Per-route settings, in a route's `config.aiCache`. */
export interface AiCacheRouteOptions {
  /** Namespace of this route's entries, unless the request sends `x-aicache-namespace`. */
  namespace?: string
  /** Freshness of this route's entries, rounded up to whole seconds, unless the request sends `x-aicache-ttl`. */
  ttlMs?: number
}

const captures = new WeakMap<FastifyRequest, WrapCapture>()
/** Set by `setCacheMeta`. */
export const metas = new WeakMap<FastifyReply, ResponseMeta>()

/** A capture that reports at most one ending: whichever of complete and abandon comes first. */
function settleOnce(capture: WrapCapture): WrapCapture {
  let settled = false
  return {
    write: (chunk) => settled || capture.write(chunk),
    complete: (response) => settled || ((settled = true), capture.complete(response)),
    abandon: () => settled || ((settled = true), capture.abandon()),
  }
}

/** Forwards a streamed payload unchanged while reporting each chunk to `capture`. */
function tap(source: Readable, capture: WrapCapture, complete: () => void): Readable {
  const tapped = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      capture.write(chunk)
      callback(null, chunk)
    },
  })
  // An error, or the stream destroyed because the client left, means the answer is partial.
  pipeline(source, tapped, (error) => (error ? capture.abandon() : complete()))
  return tapped
}

function checkRouteOptions(route: RouteOptions): void {
  const options: unknown = route.config?.aiCache
  if (options === undefined || options === false) return
  const { namespace, ttlMs } = (options ?? {}) as AiCacheRouteOptions
  if (
    typeof options !== 'object' ||
    (namespace !== undefined && typeof namespace !== 'string') ||
    (ttlMs !== undefined && !(Number.isSafeInteger(ttlMs) && ttlMs >= 0))
  ) {
    const where = `${String(route.method)} ${route.url}`
    const message = `Route config 'aiCache' of ${where} must be false or { namespace?: string, ttlMs?: integer >= 0 }`
    throw new AiCacheError('invalid_option', message, { param: 'aiCache' })
  }
}

/** A route's namespace and TTL, as request directives unless the client sent its own. */
function withRouteOptions(exchange: ExchangeRequest, options: AiCacheRouteOptions | undefined): ExchangeRequest {
  if (options === undefined) return exchange
  const headers: RequestHeaders = { ...exchange.headers }
  if (options.namespace !== undefined) headers['x-aicache-namespace'] ??= options.namespace
  if (options.ttlMs !== undefined) headers['x-aicache-ttl'] ??= String(Math.ceil(options.ttlMs / 1000))
  exchange.headers = headers
  return exchange
}

function headersOf(reply: FastifyReply): RequestHeaders {
  const headers: RequestHeaders = {}
  for (const [name, value] of Object.entries(reply.getHeaders())) {
    if (value !== undefined) headers[name] = typeof value === 'number' ? String(value) : value
  }
  return headers
}

/** Reports the payload a handler sent (as this hook sees it) to the capture of its request. */
function capturePayload(capture: WrapCapture, reply: FastifyReply, payload: unknown): unknown {
  const bytes = typeof payload === 'string' || Buffer.isBuffer(payload)
  // A plugin whose onSend ran before this one encoded the body: there is nothing to keep.
  if (reply.hasHeader('content-encoding') || !(bytes || payload instanceof Readable)) {
    capture.abandon()
    return payload
  }
  const response = { status: reply.statusCode, headers: headersOf(reply) }
  const complete = () => capture.complete({ ...response, meta: metas.get(reply) })
  if (payload instanceof Readable) return tap(payload, capture, complete)
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
    const exchange = nodeExchange(request.raw, reply.raw, { path, url: request.url, parsedBody: request.body, native: request })
    const outcome = await engine.handle(withRouteOptions(exchange, options))
    if (outcome.type !== 'next') return sendOutcome(reply, outcome)
    if (outcome.headers) reply.headers(outcome.headers)
    if (outcome.capture === undefined) return
    const capture = settleOnce(outcome.capture)
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
