import type { CapturedHeaders, ResponseMeta, TokenUsage } from '../exchange/types.js'
import type { Operation } from '../request/operation.js'

/** What a cacheable answer said about itself. */
export interface AnswerFacts {
  model: string | undefined
  usage: TokenUsage | undefined
}

/** A header's value as one lower-case string ('' when absent). */
export function headerText(headers: CapturedHeaders, name: string): string {
  const value = headers[name]
  return (Array.isArray(value) ? value.join(',') : String(value ?? '')).toLowerCase()
}

function count(value: unknown): number {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0 ? value : 0
}

/** Token usage from an OpenAI `usage` object (chat, completions, embeddings, responses). */
export function usageOf(value: unknown): TokenUsage | undefined {
  if (value === null || typeof value !== 'object') return undefined
  const usage = value as Record<string, unknown>
  const input = usage['prompt_tokens'] ?? usage['input_tokens']
  const output = usage['completion_tokens'] ?? usage['output_tokens']
  if (input === undefined && output === undefined) return undefined
  return { inputTokens: count(input), outputTokens: count(output) }
}

function hasAnswerShape(operation: Operation | undefined, body: Record<string, unknown>): boolean {
  if (operation === 'embeddings') return Array.isArray(body['data'])
  if (operation === 'chat' || operation === 'completion') {
    return Array.isArray(body['choices']) && body['choices'].length > 0
  }
  return true
}

/**
 * Decides whether an answer may be stored: a 2xx JSON answer of the expected
 * shape, not marked `no-store` (RFC 9111 section 5.2.2.5). Returns what it
 * said of its model and usage, or `undefined` when it must not be stored.
 */
export function inspectAnswer(
  operation: Operation | undefined,
  status: number,
  headers: CapturedHeaders,
  body: Buffer,
  meta?: ResponseMeta,
): AnswerFacts | undefined {
  if (status < 200 || status > 299) return undefined
  if (!headerText(headers, 'content-type').includes('json')) return undefined
  if (headerText(headers, 'cache-control').includes('no-store')) return undefined
  let parsed: unknown
  try {
    parsed = JSON.parse(body.toString('utf8'))
  } catch {
    return undefined
  }
  if (parsed === null || typeof parsed !== 'object') return operation === undefined ? { model: meta?.model, usage: meta?.usage } : undefined
  const record = parsed as Record<string, unknown>
  if (!hasAnswerShape(operation, record)) return undefined
  return {
    model: meta?.model ?? (typeof record['model'] === 'string' ? record['model'] : undefined),
    usage: meta?.usage ?? usageOf(record['usage']),
  }
}
