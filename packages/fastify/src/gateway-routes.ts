import { Readable } from 'node:stream'
import type { AiCache } from '@aicache/core'
import { bodyTooLargeError, gatewayPaths, nodeExchange, type Outcome } from '@aicache/core/adapter'
import type { FastifyError, FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify'

/** Sends an answer aicache made (a hit, an error, a proxied response) through Fastify, so onSend hooks apply. */
export function sendOutcome(reply: FastifyReply, outcome: Exclude<Outcome, { type: 'next' }>): FastifyReply {
  reply.code(outcome.status).headers(outcome.headers)
  return reply.send(outcome.type === 'respond' ? outcome.body : Readable.from(outcome.body))
}

function carryOut(reply: FastifyReply, outcome: Outcome): FastifyReply {
  if (outcome.type !== 'next') return sendOutcome(reply, outcome)
  reply.callNotFound()
  return reply
}

/**
 * Proxy mode: the gateway routes, registered as their own encapsulated
 * context so that their body handling and error handler stay out of the app.
 */
export function gatewayRoutes(engine: AiCache): FastifyPluginAsync {
  const maxBodyBytes = engine.options.maxBodyBytes
  return async (gateway) => {
    // Fastify's own refusals (a malformed Content-Type header, a body over the
    // limit) answer in the OpenAI error shape too (a body over the limit in its route's).
    gateway.setErrorHandler((error: FastifyError, request, reply) => {
      if (error.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
        return carryOut(reply, engine.refused(bodyTooLargeError(maxBodyBytes), request.url.slice(gateway.prefix.length).split('?', 1)[0]))
      }
      const status = error.statusCode ?? 500
      if (status >= 500) request.log.error({ err: error }, 'aicache gateway route failed')
      const body =
        status >= 500
          ? { message: 'The server had an error while processing your request.', type: 'api_error', code: null }
          : { message: error.message, type: 'invalid_request_error', code: error.code }
      return reply.code(status).send({ error: { ...body, param: null } })
    })
    // The engine sees paths relative to the prefix, as `/v1/...`.
    const prefixLength = gateway.prefix.length
    // Not async: a hit on a cached route (its body already read by Fastify)
    // is answered without a promise.
    function handle(request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> | undefined {
      const url = prefixLength === 0 ? request.url : request.url.slice(prefixLength)
      const query = url.indexOf('?')
      const path = query < 0 ? url : url.slice(0, query)
      const rawBody = Buffer.isBuffer(request.body) ? request.body : undefined
      const exchange = nodeExchange(request.raw, reply.raw, { path, url, native: request, rawBody })
      const outcome = engine.respond(exchange)
      if (outcome instanceof Promise) return outcome.then((settled) => carryOut(reply, settled))
      carryOut(reply, outcome)
      return undefined
    }
    // The cached routes: Fastify reads the bytes of any body (the engine checks
    // the Content-Type and parses the JSON itself, answering bad input), which
    // costs a hit less than reading the stream in the handler.
    await gateway.register(async (cached) => {
      cached.removeAllContentTypeParsers()
      const asBuffer = { parseAs: 'buffer', bodyLimit: maxBodyBytes } as const
      const keepBytes = (_request: FastifyRequest, body: Buffer, done: (error: null, body: Buffer) => void) => done(null, body)
      // JSON by name as well as the catch-all: Fastify remembers which parser a
      // Content-Type got only for parsers registered by name, and parses the
      // header anew on every request that falls through to '*'.
      cached.addContentTypeParser('application/json', asBuffer, keepBytes)
      cached.addContentTypeParser('*', asBuffer, keepBytes)
      for (const path of gatewayPaths) cached.post(path, handle)
    })
    // Every other /v1 route, any method, is forwarded untouched, its body unread.
    await gateway.register(async (forwarded) => {
      forwarded.removeAllContentTypeParsers()
      forwarded.addContentTypeParser('*', (_request, _payload, done) => done(null))
      forwarded.all('/v1/*', handle)
    })
  }
}
