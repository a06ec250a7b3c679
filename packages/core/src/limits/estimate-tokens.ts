import { countTokens, promptText } from '../request/tokens.js'

/** Options of {@link estimateRequestTokens}. */
export interface EstimateTokensOptions {
  /** Completion tokens assumed when the request sets no `max_tokens`. @default 1024 */
  defaultMaxTokens?: number
}

// OpenAI's chat format wraps each message in a few tokens of its own, and
// primes the reply with 3 more (the openai-cookbook counting recipe).
const tokensPerMessage = 3
const replyPrimingTokens = 3

function positiveInteger(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isSafeInteger(value) && value > 0 ? value : undefined
}

/**
 * The tokens a request may spend, reserved before it is sent: its prompt
 * counted with the real tokenizer (o200k, in a worker thread), plus the most it
 * may generate: `max_completion_tokens`, else `max_tokens`, else
 * `defaultMaxTokens`, times `n` choices. Embeddings generate nothing.
 * Settling with the real usage afterwards corrects the estimate.
 *
 * @example
 * ```ts
 * await estimateRequestTokens({ model: 'gpt-4o', messages: [{ role: 'user', content: 'Hi' }], max_tokens: 100 })
 * // 1 prompt token + 6 of chat framing + 100 = 107
 * ```
 */
export async function estimateRequestTokens(body: unknown, { defaultMaxTokens = 1024 }: EstimateTokensOptions = {}): Promise<number> {
  let [prompt = 0] = await countTokens([promptText(body)])
  if (body === null || typeof body !== 'object') return prompt
  const record = body as Record<string, unknown>
  if (Array.isArray(record['messages'])) prompt += record['messages'].length * tokensPerMessage + replyPrimingTokens
  const generates = Array.isArray(record['messages']) || record['prompt'] !== undefined
  if (!generates) return prompt
  const maxTokens = positiveInteger(record['max_completion_tokens']) ?? positiveInteger(record['max_tokens']) ?? defaultMaxTokens
  return prompt + maxTokens * (positiveInteger(record['n']) ?? 1)
}
