/** One call to the LLM provider. */
export interface UpstreamCall {
  method: string
  /** Gateway path with query (proxy mode) or absolute URL (client mode). */
  url: string
  headers: Record<string, string>
  body: Uint8Array | AsyncIterable<Uint8Array> | undefined
  /**
   * Bytes a streamed `body` holds, when known (the client's `Content-Length`):
   * sent as `Content-Length`, and exactly that many bytes are sent or the
   * call is cut. Without it a streamed body is sent chunked.
   */
  bodyLength?: number
  signal: AbortSignal
  /** Told before each retry of this call (for its span). */
  onRetry?: (attempt: number, reason: string) => void
}

/** The provider's answer; the body is read by the caller. */
export interface UpstreamResponse {
  status: number
  /** Lower-case names, hop-by-hop headers already removed. */
  headers: Record<string, string | string[]>
  body: AsyncIterable<Uint8Array>
}

/** Sends calls to the provider. */
export interface Upstream {
  /**
   * Resolves once the response headers arrived. Rejects with an
   * `AiCacheError` of code `upstream_unreachable` or `upstream_timeout`.
   */
  send(call: UpstreamCall): Promise<UpstreamResponse>
  close(): void
}
