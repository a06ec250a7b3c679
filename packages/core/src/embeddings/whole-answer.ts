import type { TieredCache } from '../tiers/tiered-cache.js'
import { apportion } from './embedding-batcher.js'
import type { EmbeddingRequestPlan } from './embedding-request.js'
import { vectorEntry, vectorFromBase64, vectorFromFloats } from './stored-vector.js'

/**
 * Keeps each vector of a whole embeddings answer (a wrapped handler's) as
 * its input's entry, unless that input was found stored already. An answer
 * that is not one vector per input, or vectors float32 bytes cannot hold,
 * are left out: nothing is stored for them.
 */
export function storeWholeAnswer(
  tiers: TieredCache,
  body: Buffer,
  plan: EmbeddingRequestPlan,
  keys: readonly string[],
  found: ReadonlyArray<unknown>,
  ttlMs: number,
): void {
  let answer: { data?: unknown; model?: unknown; usage?: { prompt_tokens?: unknown } }
  try {
    answer = JSON.parse(body.toString('utf8')) as typeof answer
  } catch {
    return
  }
  const data = answer?.data
  if (!Array.isArray(data) || data.length !== plan.inputs.length) return
  const model = typeof answer.model === 'string' ? answer.model : undefined
  const promptTokens = answer.usage?.prompt_tokens
  const shares = apportion(
    typeof promptTokens === 'number' && Number.isSafeInteger(promptTokens) && promptTokens >= 0 ? promptTokens : 0,
    plan.inputs.map((input) => input.maxTokens),
  )
  const createdAt = Date.now()
  for (const item of data as Array<{ index?: unknown; embedding?: unknown } | null>) {
    const index = item?.index
    if (typeof index !== 'number' || !Number.isInteger(index) || index < 0 || index >= keys.length || found[index] !== undefined) continue
    const embedding = item?.embedding
    const bytes = typeof embedding === 'string' ? vectorFromBase64(embedding) : Array.isArray(embedding) ? vectorFromFloats(embedding) : undefined
    if (bytes === undefined) continue
    void tiers.keep(keys[index]!, vectorEntry({ bytes, model, tokens: shares[index]! }, createdAt, ttlMs))
  }
}
