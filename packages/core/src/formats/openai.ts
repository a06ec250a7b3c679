import type { TokenUsage } from '../exchange/types.js'

/** What OpenAI's formats share: the end of a stream, usage objects, provider names, prompt text. */

/** The payload that ends an OpenAI stream. */
export const doneData = '[DONE]'

function count(value: unknown): number {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0 ? value : 0
}

/** A count inside a `*_details` object (`prompt_tokens_details.cached_tokens`), `undefined` when not reported. */
function detail(details: unknown, name: string): number | undefined {
  if (details === null || typeof details !== 'object') return undefined
  const value = (details as Record<string, unknown>)[name]
  return typeof value === 'number' && Number.isFinite(value) && value >= 0 ? value : undefined
}

/**
 * Token usage from an OpenAI `usage` object (chat, completions, embeddings,
 * responses), with the prompt tokens the provider served from its own cache
 * (`prompt_tokens_details` / `input_tokens_details.cached_tokens`) and the
 * reasoning tokens (`completion_tokens_details` / `output_tokens_details.reasoning_tokens`),
 * each kept within the count it is part of.
 */
export function usageOf(value: unknown): TokenUsage | undefined {
  if (value === null || typeof value !== 'object') return undefined
  const usage = value as Record<string, unknown>
  const input = usage['prompt_tokens'] ?? usage['input_tokens']
  const output = usage['completion_tokens'] ?? usage['output_tokens']
  if (input === undefined && output === undefined) return undefined
  const tokens: TokenUsage = { inputTokens: count(input), outputTokens: count(output) }
  const cached = detail(usage['prompt_tokens_details'] ?? usage['input_tokens_details'], 'cached_tokens')
  if (cached !== undefined) tokens.cacheReadTokens = Math.min(cached, tokens.inputTokens)
  const reasoning = detail(usage['completion_tokens_details'] ?? usage['output_tokens_details'], 'reasoning_tokens')
  if (reasoning !== undefined) tokens.reasoningTokens = Math.min(reasoning, tokens.outputTokens)
  return tokens
}

/** `gen_ai.provider.name` of an OpenAI-compatible upstream: Azure's by its host name, else `openai`. */
export function openAiProviderName(upstream: URL): string {
  return upstream.hostname.endsWith('.openai.azure.com') ? 'azure.ai.openai' : 'openai'
}

/**
 * Appends the text of a prompt field to `parts`: a string, an array of
 * strings, or an array of content parts (`{ type: 'text', text }`).
 */
export function addPromptText(parts: string[], value: unknown): void {
  if (typeof value === 'string') parts.push(value)
  else if (Array.isArray(value)) for (const item of value) addPromptText(parts, typeof item === 'object' && item ? (item as { text?: unknown }).text : item)
}

/** A body's model, when it names one as a string. */
export function modelOf(record: Record<string, unknown>): string | undefined {
  return typeof record['model'] === 'string' ? record['model'] : undefined
}

function positiveInteger(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isSafeInteger(value) && value > 0 ? value : undefined
}

/**
 * The most a request may generate: `max_completion_tokens`, else
 * `max_tokens`, else `defaultMaxTokens`, times `n` choices.
 */
export function maxGeneratedTokens(body: Record<string, unknown>, defaultMaxTokens: number): number {
  const maxTokens = positiveInteger(body['max_completion_tokens']) ?? positiveInteger(body['max_tokens']) ?? defaultMaxTokens
  return maxTokens * (positiveInteger(body['n']) ?? 1)
}
