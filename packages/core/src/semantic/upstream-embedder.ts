import { credentialHeaderNames } from '../request/key.js'
import type { EmbedCaller, Embedder } from './types.js'

/** Options of {@link upstreamEmbedder}. */
export interface UpstreamEmbedderOptions {
  /** The embeddings model, e.g. `text-embedding-3-small`. */
  model: string
  /**
   * Base URL of the embeddings API with its version path
   * (`https://api.openai.com/v1`). @default the engine's `upstream` (required in client mode)
   */
  baseUrl?: string | URL
  /** `dimensions` of the request, for models that can shorten their vectors. @default the model's own */
  dimensions?: number
}

function decodeEmbedding(value: unknown): Float32Array {
  if (typeof value === 'string') {
    const bytes = Buffer.from(value, 'base64')
    const vector = new Float32Array(bytes.byteLength / 4)
    for (let i = 0; i < vector.length; i++) vector[i] = bytes.readFloatLE(i * 4)
    return vector
  }
  if (Array.isArray(value) && value.every((item) => typeof item === 'number')) return Float32Array.from(value)
  throw new TypeError('The embeddings answer holds no vector')
}

/**
 * An embedder that calls the upstream's `POST /v1/embeddings` through the
 * engine it is given to, as client mode's `cache.fetch` would: each query's
 * embedding is an ordinary embeddings request, cached like any other (a
 * question asked again costs no embedding call), counted in stats and
 * telemetry.
 *
 * Credentials: the call carries the credential headers of the request being
 * looked up (`Authorization`, `api-key`, `x-api-key`), so it is made, cached
 * and billed in that caller's scope; with `upstreamApiKey` set, the
 * upstream sees that key instead, as for every call.
 *
 * @example
 * ```ts
 * const cache = createAiCache({ upstream: 'https://api.openai.com/v1', semantic: { embed: upstreamEmbedder({ model: 'text-embedding-3-small' }) } })
 * ```
 */
export function upstreamEmbedder(options: UpstreamEmbedderOptions): Embedder {
  if (typeof options?.model !== 'string' || options.model === '') throw new TypeError("upstreamEmbedder: 'model' must be a non-empty string")
  return {
    id: `upstream:${options.model}${options.dimensions === undefined ? '' : `:${options.dimensions}`}`,
    async embed(texts: readonly string[], signal?: AbortSignal, caller?: EmbedCaller): Promise<Float32Array[]> {
      const base = options.baseUrl ?? caller?.upstream
      const fetch = caller?.fetch
      if (fetch === undefined || base === undefined) {
        throw new Error('upstreamEmbedder embeds for an engine (semantic.embed), with a baseUrl when the engine has no upstream (client mode)')
      }
      const headers: Record<string, string> = { 'content-type': 'application/json' }
      for (const name of credentialHeaderNames) {
        const value = caller?.headers[name]
        if (value !== undefined) headers[name] = Array.isArray(value) ? value[0]! : value
      }
      const body = {
        model: options.model,
        input: texts,
        encoding_format: 'base64',
        ...(options.dimensions === undefined ? {} : { dimensions: options.dimensions }),
      }
      const response = await fetch(`${String(base).replace(/\/+$/, '')}/embeddings`, {
        method: 'POST',
        headers,
        body: JSON.stringify(body),
        ...(signal === undefined ? {} : { signal }),
      })
      if (!response.ok) throw new Error(`The embeddings call answered ${response.status}`)
      const answer = (await response.json()) as { data?: Array<{ index?: number; embedding?: unknown }> }
      const data = [...(answer.data ?? [])].sort((a, b) => (a.index ?? 0) - (b.index ?? 0))
      if (data.length !== texts.length) throw new Error(`The embeddings call answered ${data.length} vectors for ${texts.length} texts`)
      return data.map((item) => decodeEmbedding(item.embedding))
    },
  }
}
