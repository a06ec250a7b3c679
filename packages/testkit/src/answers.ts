import { decode, encode } from 'gpt-tokenizer'
import { hashBytes } from './hash.js'
import { isJsonObject, type JsonObject } from './json.js'
import { boundedTokenCount } from './token-count.js'

const ECHO_CHARACTERS = 200

const FILLER_SENTENCES = [
  'This answer comes from the deterministic fake upstream.',
  'Identical requests always receive exactly this text.',
  'The quick brown fox jumps over the lazy dog.',
  'No real model was involved in writing this.',
  'Tokens are counted with the o200k_base encoding.',
  'Faults can be injected to test retries and timeouts.',
  'The filler sentences are chosen by a hash of the request.',
  'Streaming splits this text into word-sized chunks.',
] as const

/** Text of a message content: a string, or an array of parts where only text parts count. */
export function contentText(content: unknown): string {
  if (typeof content === 'string') return content
  if (!Array.isArray(content)) return ''
  return content
    .map((part) => (isJsonObject(part) && typeof part['text'] === 'string' ? part['text'] : ''))
    .filter((text) => text !== '')
    .join('\n')
}

/** The request's messages, or none when the field is missing or malformed. */
export function messagesOf(body: unknown): JsonObject[] {
  const messages = isJsonObject(body) ? body['messages'] : undefined
  return Array.isArray(messages) ? messages.filter(isJsonObject) : []
}

/** Text of the last user message, which the fake echoes so answers visibly depend on the question. */
export function lastUserText(messages: readonly JsonObject[]): string {
  const lastUser = messages.findLast((message) => message['role'] === 'user')
  return contentText(lastUser?.['content'])
}

/** Echo of the prompt plus 1-3 filler sentences picked by a hash of `seed`, so different requests differ. */
export function composeAnswer(echo: string, seed: unknown): string {
  const bytes = hashBytes(seed, 2)
  const sentenceCount = 1 + (bytes.readUInt8(0) % 3)
  const firstSentence = bytes.readUInt8(1)
  const sentences = Array.from({ length: sentenceCount }, (_, offset) => FILLER_SENTENCES[(firstSentence + offset) % FILLER_SENTENCES.length])
  return `Echo: ${echo.slice(0, ECHO_CHARACTERS)}. ${sentences.join(' ')}`
}

/** The completion token limit a request asks for, preferring the newer field like OpenAI does. */
export function maxTokensOf(body: JsonObject): number | undefined {
  const limit = body['max_completion_tokens'] ?? body['max_tokens']
  return typeof limit === 'number' && limit >= 0 ? Math.floor(limit) : undefined
}

/** Text cut to a token limit, with the token count the usage block reports. */
export interface LimitedText {
  text: string
  tokenCount: number
  truncated: boolean
}

/** Cuts text to `limit` tokens the way a model stops at max_tokens. */
export function limitTokens(text: string, limit: number | undefined): LimitedText {
  const tokens = encode(text)
  if (limit === undefined || tokens.length <= limit) return { text, tokenCount: tokens.length, truncated: false }
  return { text: decode(tokens.slice(0, limit)), tokenCount: limit, truncated: true }
}

/**
 * Tokens of a text, so every count in the fake uses the same encoding; long
 * runs of one kind of character are counted by pieces, in linear time.
 */
export function tokenCount(text: string): number {
  return boundedTokenCount(text)
}

/**
 * Deterministic answer text for a chat request (choice 0, after max_tokens truncation),
 * exported so tests can assert content without calling the server. Requests that get a tool call
 * have no text; this still returns the text they would get without tools.
 */
export function fakeChatAnswer(body: unknown): string {
  const messages = messagesOf(body)
  const answer = composeAnswer(lastUserText(messages), messages)
  return limitTokens(answer, isJsonObject(body) ? maxTokensOf(body) : undefined).text
}
