import { AiCacheError } from '../errors.js'
import type { ExchangeRequest } from '../exchange/types.js'

/** A passthrough request's body as it is sent upstream, with what frames it. */
export interface ForwardedBody {
  body: Uint8Array | AsyncIterable<Uint8Array> | undefined
  /** The length of a streamed body, from the client's own `Content-Length`; unset: sent chunked. */
  bodyLength?: number
}

// RFC 9110 sections 9.3.1 and 9.3.2: content in a GET or HEAD has no meaning,
// so it is never forwarded (a parser before aicache may have read it, which
// does not matter: the upstream gets no body).
const bodiless = new Set(['GET', 'HEAD'])

/** The methods a passthrough route forwards, for the `Allow` header of a 405. */
const allowedMethods = 'GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS'

/**
 * What to forward of a passthrough request's body, framed exactly as the
 * client framed it: bytes already read go with their length, a body the
 * client sent with `Content-Length` goes with that length, a chunked one
 * goes chunked, and a request without either has no body. Node's HTTP parser
 * has already checked the client's framing (one valid `Content-Length`,
 * never beside `Transfer-Encoding`).
 *
 * `TRACE` is refused (405): RFC 9110 section 9.3.8 forbids it a body, and an
 * upstream answering it echoes the request, with the gateway's own upstream
 * key in it, back to the caller.
 *
 * @param serialise turns a body a framework parser already parsed into bytes,
 *   when its original bytes are gone
 */
export function forwardedBody(request: ExchangeRequest, serialise: (parsed: unknown) => Buffer): ForwardedBody {
  const { method } = request
  if (method === 'TRACE') {
    throw new AiCacheError('method_not_allowed', 'TRACE is not forwarded: it would echo the request, credentials included.', {
      headers: { allow: allowedMethods },
    })
  }
  if (bodiless.has(method)) return { body: undefined }
  if (request.rawBody !== undefined) return { body: request.rawBody }
  if (request.parsedBody !== undefined) return { body: serialise(request.parsedBody) }
  const { headers } = request
  if (headers['transfer-encoding'] !== undefined) return { body: request.bodyStream() }
  const length = Number(headers['content-length'] ?? 0)
  return length > 0 ? { body: request.bodyStream(), bodyLength: length } : { body: undefined }
}
