import type { ApiFormat } from '../formats/format.js'
import { formatOfBody } from '../formats/registry.js'
import { countTokens } from '../request/tokens.js'

/** Options of {@link estimateRequestTokens}. */
export interface EstimateTokensOptions {
  /** Completion tokens assumed when the request sets no `max_tokens`. @default 1024 */
  defaultMaxTokens?: number
}

/**
 * The tokens a request may spend, reserved before it is sent: its prompt
 * counted with the real tokenizer (o200k, in a worker thread) plus the
 * format's framing (a chat's few tokens per message), plus the most it may
 * generate: `max_completion_tokens`, else `max_tokens`, else
 * `defaultMaxTokens`, times `n` choices. Embeddings generate nothing.
 * Settling with the real usage afterwards corrects the estimate. The
 * format is the one the body looks like (`messages`: chat, `prompt`:
 * completion, `input`: embeddings).
 *
 * @example
 * ```ts
 * await estimateRequestTokens({ model: 'gpt-4o', messages: [{ role: 'user', content: 'Hi' }], max_tokens: 100 })
 * // 1 prompt token + 6 of chat framing + 100 = 107
 * ```
 */
export function estimateRequestTokens(body: unknown, { defaultMaxTokens = 1024 }: EstimateTokensOptions = {}): Promise<number> {
  return estimateTokensOf(body, undefined, defaultMaxTokens)
}

/**
 * {@link estimateRequestTokens} of a request whose format is known (else
 * the one its body looks like).
 */
export async function estimateTokensOf(body: unknown, format: ApiFormat | undefined, defaultMaxTokens: number): Promise<number> {
  if (body === null || typeof body !== 'object') return 0
  const record = body as Record<string, unknown>
  const known = format ?? formatOfBody(record)
  // A body no format recognises has no prompt to count and generates nothing.
  if (known === undefined) return 0
  const [prompt = 0] = await countTokens([known.promptText(record)])
  return prompt + known.framingTokens(record) + known.maxOutputTokens(record, defaultMaxTokens)
}
