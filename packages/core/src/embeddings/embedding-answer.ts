import type { Tier } from '../engine/cache-status.js'
import type { EmbeddingEncoding } from './embedding-request.js'
import type { FetchedVector } from './embedding-batcher.js'
import { base64Of, floatTextOf } from './stored-vector.js'

/**
 * The answer OpenAI gives for the whole request, made from one vector per
 * input in the request's order: `data[i].index` is `i`, each embedding in
 * the encoding asked for, and `usage` what this request's upstream call charged.
 */
export function embeddingAnswer(vectors: readonly FetchedVector[], encoding: EmbeddingEncoding, model: string | undefined, promptTokens: number): Buffer {
  let text = '{"object":"list","data":['
  for (let index = 0; index < vectors.length; index++) {
    const vector = vectors[index]!
    const embedding =
      encoding === 'base64' ? `"${base64Of(vector.bytes)}"` : vector.exact !== undefined ? JSON.stringify(vector.exact) : floatTextOf(vector.bytes)
    text += `${index > 0 ? ',' : ''}{"object":"embedding","index":${index},"embedding":${embedding}}`
  }
  text += `],"model":${JSON.stringify(model ?? '')},"usage":{"prompt_tokens":${promptTokens},"total_tokens":${promptTokens}}}`
  return Buffer.from(text)
}

/** How the inputs of one request were served, for `Cache-Status`, stats and the span. */
export interface InputCounts {
  /** From a stored vector. */
  cached: number
  /** Sent upstream by this request. */
  sent: number
  /** Waited on the same input fetched for another request. */
  collapsed: number
}

/**
 * `Cache-Status` (RFC 9211) of a per-input answer, with the counts as
 * extension parameters: `hit-inputs`, `fwd-inputs` and `collapsed-inputs`.
 * - every input stored: `aicache; hit; ttl=N; detail=l1; hit-inputs=100`
 * - some: `aicache; fwd=partial; fwd-status=200; stored; hit-inputs=90; fwd-inputs=10`
 * - none: `aicache; fwd=uri-miss; fwd-status=200; stored; fwd-inputs=100`
 */
export function perInputStatus(
  counts: InputCounts,
  options: { tier: Tier; ttlSeconds: number; forwardStatus?: number; stored: boolean; reason: string },
): string {
  let value: string
  if (counts.sent === 0 && counts.collapsed === 0) value = `aicache; hit; ttl=${options.ttlSeconds}; detail=${options.tier}`
  else {
    value = `aicache; fwd=${counts.cached > 0 ? 'partial' : options.reason}`
    if (options.forwardStatus !== undefined) value += `; fwd-status=${options.forwardStatus}`
    if (options.stored) value += '; stored'
    if (counts.sent === 0) value += '; collapsed'
  }
  if (counts.cached > 0) value += `; hit-inputs=${counts.cached}`
  if (counts.sent > 0) value += `; fwd-inputs=${counts.sent}`
  if (counts.collapsed > 0) value += `; collapsed-inputs=${counts.collapsed}`
  return value
}
