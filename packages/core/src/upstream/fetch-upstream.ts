import { AiCacheError } from '../errors.js'
import type { Upstream, UpstreamCall, UpstreamResponse } from './types.js'
import { forwardResponseHeaders } from './headers.js'

/** Options of {@link createFetchUpstream}. */
export interface FetchUpstreamOptions {
  fetch: typeof globalThis.fetch
  timeoutMs: number
}

async function* emptyBody(): AsyncGenerator<Uint8Array> {}

/** The client-mode upstream: the caller's own URL, through `fetch`. */
export function createFetchUpstream(options: FetchUpstreamOptions): Upstream {
  async function send(call: UpstreamCall): Promise<UpstreamResponse> {
    const timeout = AbortSignal.timeout(options.timeoutMs)
    let response: Response
    try {
      response = await options.fetch(call.url, {
        method: call.method,
        headers: call.headers,
        body: call.body instanceof Uint8Array ? call.body : undefined,
        signal: AbortSignal.any([call.signal, timeout]),
      })
    } catch (error) {
      if (call.signal.aborted) throw error
      if (timeout.aborted) {
        throw new AiCacheError('upstream_timeout', `The upstream did not answer within ${options.timeoutMs} ms.`)
      }
      throw new AiCacheError('upstream_unreachable', `The upstream could not be reached: ${String(error)}`, {
        cause: error,
      })
    }
    const headers: Record<string, string> = {}
    response.headers.forEach((value, name) => {
      // fetch has already decoded the body, so its encoding and length no longer apply.
      if (name !== 'content-encoding' && name !== 'content-length') headers[name] = value
    })
    return {
      status: response.status,
      headers: forwardResponseHeaders(headers),
      body: response.body ?? emptyBody(),
    }
  }
  return { send, close: () => {} }
}
