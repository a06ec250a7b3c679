import http from 'node:http'
import https from 'node:https'
import type { Socket } from 'node:net'
import { AiCacheError } from '../errors.js'
import { forwardResponseHeaders } from './headers.js'
import { sendBody } from './request-body.js'
import type { Upstream, UpstreamCall, UpstreamResponse } from './types.js'
import { bodyCutError, UpstreamBody } from './upstream-body.js'
import { upstreamPathOf } from './upstream-path.js'

/** Options of {@link createHttpUpstream}. */
export interface HttpUpstreamOptions {
  /** Base URL with the version path, e.g. `https://api.openai.com/v1`. */
  baseUrl: URL
  /** Idle time allowed while waiting for headers or between body bytes. */
  timeoutMs: number
}

/**
 * The framing headers of a call's body (RFC 9112 section 6): a body held in
 * memory or of known length gets `Content-Length`, any other streamed body
 * `Transfer-Encoding: chunked`, no body neither. Set on every call, whatever
 * the method: Node's client frames a body on its own only for methods it
 * expects one on, and sends the bytes of a DELETE, OPTIONS or TRACE body bare,
 * where the upstream reads them as the next request (docs/security.md).
 */
function framingOf(call: UpstreamCall): Record<string, string | number> {
  const { body } = call
  if (body === undefined) return {}
  if (body instanceof Uint8Array) return { 'content-length': body.byteLength }
  return call.bodyLength === undefined ? { 'transfer-encoding': 'chunked' } : { 'content-length': call.bodyLength }
}

function destroyIdle(this: Socket): void {
  this.destroy()
}

/** Whether the agent keeps the socket as free (it may have handed it straight to a waiting request). */
function isIdle(agent: http.Agent, socket: Socket): boolean {
  for (const sockets of Object.values(agent.freeSockets)) if (sockets?.includes(socket)) return true
  return false
}

/**
 * The proxy-mode upstream: Node's http(s) client over a keep-alive agent, so
 * misses reuse connections instead of paying a TCP and TLS handshake each.
 * Gateway paths `/v1/...` map onto the base URL's own path, always on the
 * base URL's host (see {@link upstreamPathOf}).
 */
export function createHttpUpstream(options: HttpUpstreamOptions): Upstream {
  const { baseUrl, timeoutMs } = options
  const client = baseUrl.protocol === 'https:' ? https : http
  const agent = new client.Agent({ keepAlive: true, maxSockets: 256, scheduling: 'lifo' })
  // Bytes on an idle connection belong to no request: the upstream sent more
  // than its last response declared, so where its next response starts is in
  // doubt. Node drops them, or reads them as the next request's response if
  // they come late; the connection is closed instead. The listener goes when
  // the connection is taken for a request.
  agent.on('free', (socket: Socket) => {
    if (isIdle(agent, socket)) socket.once('data', destroyIdle)
  })
  const endpoint = {
    protocol: baseUrl.protocol,
    // A URL keeps an IPv6 literal in brackets; Node's client wants it without.
    hostname: baseUrl.hostname.startsWith('[') ? baseUrl.hostname.slice(1, -1) : baseUrl.hostname,
    port: baseUrl.port,
    auth: baseUrl.username ? `${decodeURIComponent(baseUrl.username)}:${decodeURIComponent(baseUrl.password)}` : undefined,
  }

  function send(call: UpstreamCall): Promise<UpstreamResponse> {
    return new Promise((resolve, reject) => {
      const path = upstreamPathOf(baseUrl.pathname, call.url)
      const headers = { ...call.headers, ...framingOf(call) }
      const request = client.request({ ...endpoint, path, method: call.method, headers, agent, signal: call.signal })
      request.once('socket', (socket) => socket.removeListener('data', destroyIdle))
      let timedOut = false
      const timeoutError = () => new AiCacheError('upstream_timeout', `The upstream did not answer within ${timeoutMs} ms.`)
      // Idle time on the socket: before the headers, and between body bytes after them.
      request.setTimeout(timeoutMs, () => {
        timedOut = true
        request.destroy(timeoutError())
      })
      const bodyFailure = (cause: unknown) => (call.signal.aborted ? cause : timedOut ? timeoutError() : bodyCutError(cause))
      request.once('response', (response) => {
        resolve({
          status: response.statusCode ?? 502,
          headers: forwardResponseHeaders(response.headers),
          body: new UpstreamBody(response, bodyFailure),
        })
      })
      request.once('error', (error) => {
        if (AiCacheError.isInstance(error) || call.signal.aborted) reject(error)
        else reject(new AiCacheError('upstream_unreachable', `The upstream could not be reached: ${error.message}`, { cause: error }))
      })
      if (call.body === undefined) request.end()
      else if (call.body instanceof Uint8Array) request.end(call.body)
      else void sendBody(call.body, request, call.bodyLength)
    })
  }

  return { send, close: () => agent.destroy() }
}
