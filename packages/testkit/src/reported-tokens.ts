import type { Usage } from './plans.js'

/** Header asking the fake to report this many prompt tokens as served from the provider's prompt cache. */
export const CACHED_TOKENS_HEADER = 'x-fake-cached-tokens'
/** Header asking the fake to report this many reasoning tokens. */
export const REASONING_TOKENS_HEADER = 'x-fake-reasoning-tokens'

/** Token details a call asked the fake to report (chat, completions, Responses). */
export interface ReportedTokens {
  /** Prompt tokens served from the prompt cache: at most the prompt's tokens. */
  cached: number
  /** Reasoning tokens, generated on top of the answer's own. */
  reasoning: number
}

function tokensHeader(headers: Readonly<Record<string, string>>, name: string): number {
  const value = Number(headers[name] ?? Number.NaN)
  return Number.isSafeInteger(value) && value > 0 ? value : 0
}

/** The `x-fake-cached-tokens` and `x-fake-reasoning-tokens` of a call (0 when absent or not a positive integer). */
export function reportedTokens(headers: Readonly<Record<string, string>>): ReportedTokens {
  return { cached: tokensHeader(headers, CACHED_TOKENS_HEADER), reasoning: tokensHeader(headers, REASONING_TOKENS_HEADER) }
}

/**
 * A chat or text completion's usage with the reported details: cached
 * tokens are part of `prompt_tokens`, reasoning tokens are added to
 * `completion_tokens`, as OpenAI counts them.
 */
export function withReportedTokens(usage: Usage, reported: ReportedTokens): Usage {
  if (reported.cached === 0 && reported.reasoning === 0) return usage
  const completionTokens = usage.completion_tokens + reported.reasoning
  return {
    prompt_tokens: usage.prompt_tokens,
    completion_tokens: completionTokens,
    total_tokens: usage.prompt_tokens + completionTokens,
    prompt_tokens_details: { cached_tokens: Math.min(usage.prompt_tokens, usage.prompt_tokens_details.cached_tokens + reported.cached) },
    completion_tokens_details: { reasoning_tokens: usage.completion_tokens_details.reasoning_tokens + reported.reasoning },
  }
}
