import type { RequestHeaders } from '../exchange/types.js'

// RFC 9110 section 7.6.1: connection-specific headers are not forwarded.
// Length and host are set for the new connection.
const notForwarded = new Set([
  'connection',
  'keep-alive',
  'proxy-authenticate',
  'proxy-authorization',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'host',
  'content-length',
  'expect',
])

/** The header an upstream takes its key in: OpenAI's `Authorization: Bearer`, or Anthropic's `x-api-key`. */
export type ApiKeyHeader = 'authorization' | 'x-api-key'

/**
 * Request headers to send upstream: hop-by-hop and aicache's own removed;
 * with `apiKey`, every credential the caller sent replaced by it, in the
 * header the upstream reads (`keyHeader`).
 */
export function forwardRequestHeaders(headers: RequestHeaders, apiKey: string | undefined, keyHeader: ApiKeyHeader = 'authorization'): Record<string, string> {
  const out: Record<string, string> = {}
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined || notForwarded.has(name) || name.startsWith('x-aicache-')) continue
    out[name] = Array.isArray(value) ? value.join(', ') : value
  }
  if (apiKey !== undefined) {
    delete out['api-key']
    delete out['x-api-key']
    delete out['authorization']
    if (keyHeader === 'x-api-key') out['x-api-key'] = apiKey
    else out['authorization'] = `Bearer ${apiKey}`
  }
  return out
}

/** Response headers to pass back: hop-by-hop removed. */
export function forwardResponseHeaders(headers: Record<string, string | string[] | undefined>): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {}
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined || notForwarded.has(name)) continue
    out[name] = value
  }
  return out
}

/** Reads a body completely. */
export async function readAll(body: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const chunks: Buffer[] = []
  for await (const chunk of body) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk))
  return chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks)
}
