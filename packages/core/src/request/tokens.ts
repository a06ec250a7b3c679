import type { TokenUsage } from '../exchange/types.js'

type CountTokens = (text: string) => number

let counter: Promise<CountTokens> | undefined

/**
 * Counts tokens with `gpt-tokenizer` (o200k, the encoding of current OpenAI
 * models). Loaded on first use: its tables are large and most answers carry
 * their own usage.
 */
export function tokenCounter(): Promise<CountTokens> {
  counter ??= import('gpt-tokenizer').then((module) => module.countTokens)
  return counter
}

/** The prompt text of a chat, completion or embeddings request body, parts joined by newlines. */
export function promptText(body: unknown): string {
  if (body === null || typeof body !== 'object') return ''
  const record = body as Record<string, unknown>
  const parts: string[] = []
  const add = (value: unknown) => {
    if (typeof value === 'string') parts.push(value)
    else if (Array.isArray(value)) for (const item of value) add(typeof item === 'object' && item ? (item as { text?: unknown }).text : item)
  }
  if (Array.isArray(record['messages'])) for (const message of record['messages']) add((message as { content?: unknown })?.content)
  add(record['prompt'])
  add(record['input'])
  return parts.join('\n')
}

/** Usage estimated from the prompt and answer text, for answers that did not report theirs. */
export async function estimateUsage(requestBody: unknown, answerText: string): Promise<TokenUsage> {
  const count = await tokenCounter()
  return { inputTokens: count(promptText(requestBody)), outputTokens: count(answerText) }
}
