import http from 'node:http'
import https from 'node:https'
import { Readable } from 'node:stream'
import { AiCacheError } from '../errors.js'
import { forwardResponseHeaders } from './headers.js'
import type { Upstream, UpstreamCall, UpstreamResponse } from './types.js'

/** Options of {@link createHttpUpstream}. */
export interface HttpUpstreamOptions {
  /** Base URL with the version path, e.g. `https://api.openai.com/v1`. */
  baseUrl: URL
  /** Idle time allowed while waiting for headers or between body bytes. */
  timeoutMs: number
}

/**
 * The proxy-mode upstream: Node's http(s) client over a keep-alive agent, so
 * misses reuse connections instead of paying a TCP and TLS handshake each.
 * Gateway paths `/v1/...` map onto the base URL's own path.
 */
export function createHttpUpstream(options: HttpUpstreamOptions): Upstream {
  const { baseUrl, timeoutMs } = options
  const client = baseUrl.protocol === 'https:' ? https : http
  const agent = new client.Agent({ keepAlive: true, maxSockets: 256, scheduling: 'lifo' })

  function target(url: string): URL {
    const suffix = url.startsWith('/v1') ? url.slice(3) : url
    return new URL(baseUrl.pathname + suffix, baseUrl)
  }

  function send(call: UpstreamCall): Promise<UpstreamResponse> {
    return new Promise((resolve, reject) => {
      const url = target(call.url)
      const headers: Record<string, string | number> = { ...call.headers }
      if (call.body instanceof Uint8Array) headers['content-length'] = call.body.byteLength
      const request = client.request(url, { method: call.method, headers, agent, signal: call.signal })
      request.setTimeout(timeoutMs, () => {
        request.destroy(
          new AiCacheError('upstream_timeout', `The upstream did not answer within ${timeoutMs} ms.`),
        )
      })
      request.once('response', (response) => {
        resolve({
          status: response.statusCode ?? 502,
          headers: forwardResponseHeaders(response.headers),
          body: response,
        })
      })
      request.once('error', (error) => {
        if (AiCacheError.isInstance(error) || call.signal.aborted) reject(error)
        else reject(new AiCacheError('upstream_unreachable', `The upstream could not be reached: ${error.message}`, { cause: error }))
      })
      if (call.body === undefined) request.end()
      else if (call.body instanceof Uint8Array) request.end(call.body)
      else Readable.from(call.body).pipe(request)
    })
  }

  return { send, close: () => agent.destroy() }
}
