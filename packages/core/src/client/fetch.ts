import { AiCacheError } from '../errors.js'
import type { ExchangeRequest, Outcome, RequestHeaders } from '../exchange/types.js'
import { formatOfUrlPath } from '../formats/registry.js'
import type { AiCache } from '../engine/engine.js'

async function* nothing(): AsyncGenerator<Uint8Array> {}

function headersOf(request: Request): RequestHeaders {
  const headers: RequestHeaders = {}
  request.headers.forEach((value, name) => {
    headers[name] = value
  })
  return headers
}

function exchangeOf(request: Request, url: URL): ExchangeRequest {
  return {
    method: request.method,
    path: url.pathname,
    url: request.url,
    headers: headersOf(request),
    async readBody(maxBytes) {
      const body = Buffer.from(await request.arrayBuffer())
      if (body.byteLength > maxBytes) {
        throw new AiCacheError('body_too_large', `The request body is larger than ${maxBytes} bytes.`)
      }
      return body
    },
    bodyStream: () => (request.body ?? nothing()) as AsyncIterable<Uint8Array>,
    signal: request.signal,
    native: request,
  }
}

type FetchInput = Parameters<typeof globalThis.fetch>[0]

function toResponse(outcome: Outcome): Response {
  if (outcome.type === 'next') throw new Error('A client-mode call cannot be handed on')
  const headers = new Headers()
  for (const [name, value] of Object.entries(outcome.headers)) {
    for (const item of Array.isArray(value) ? value : [value]) headers.append(name, String(item))
  }
  const body = outcome.type === 'respond' ? outcome.body : ReadableStream.from(outcome.body as AsyncIterable<Uint8Array>)
  return new Response(outcome.status === 204 ? null : body, { status: outcome.status, headers })
}

/**
 * A `fetch` that answers OpenAI-compatible calls from the cache and sends
 * everything else, and every miss, through `baseFetch`. Use it as
 * `new OpenAI({ fetch: cache.fetch })` or `createOpenAI({ fetch: cache.fetch })`.
 */
export function createCachingFetch(engine: AiCache, baseFetch?: typeof globalThis.fetch): typeof globalThis.fetch {
  const send = (input: FetchInput, init?: RequestInit) => (baseFetch ?? globalThis.fetch)(input, init)
  return async function cachingFetch(input: FetchInput, init?: RequestInit): Promise<Response> {
    const request = new Request(input, init)
    const url = new URL(request.url)
    const format = request.method === 'POST' ? formatOfUrlPath(url.pathname) : undefined
    if (format === undefined) return send(input, init)
    return toResponse(await engine.handleClientCall(exchangeOf(request, url), format, send))
  }
}
