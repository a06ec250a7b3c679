import { anthropicError } from './anthropic-error.js'
import { composeAnswer, contentText, limitTokens, tokenCount } from './answers.js'
import { hashBytes } from './hash.js'
import { isJsonObject, type JsonObject } from './json.js'
import type { FakeMemory } from './memory.js'
import { jsonReply, sseReply, type Reply } from './reply.js'
import { namedFrame, type SseDialect } from './sse.js'
import { wordPieces } from './stream-chunks.js'
import type { RecordedCall } from './types.js'

/**
 * Anthropic's Messages API (`POST /v1/messages`, `POST /v1/messages/count_tokens`):
 * the same deterministic answers as the OpenAI routes, in Anthropic's content
 * blocks, stop reasons, usage, event stream and errors, with a prompt cache
 * that writes and reads the prefixes ending at `cache_control` breakpoints.
 */

const TOKENS_PER_MESSAGE = 3
const ARGUMENT_FRAGMENT_CHARACTERS = 8
const ECHO_CHARACTERS = 200

type ContentBlock = JsonObject & { type: 'text' | 'tool_use' | 'thinking' }
type StopReason = 'end_turn' | 'max_tokens' | 'tool_use' | 'stop_sequence'

interface MessageUsage {
  input_tokens: number
  cache_creation_input_tokens: number
  cache_read_input_tokens: number
  cache_creation: { ephemeral_5m_input_tokens: number; ephemeral_1h_input_tokens: number }
  output_tokens: number
  service_tier: 'standard'
}

interface PlannedMessage {
  id: string
  model: string
  content: ContentBlock[]
  stopReason: StopReason
  stopSequence: string | null
  usage: MessageUsage
}

function errorReply(status: number, message: string): Reply {
  return jsonReply(status, anthropicError(status, message))
}

/** The 401/400 answers the API gives before reading the body: a key and `anthropic-version` are required. */
function headerError(call: RecordedCall): Reply | undefined {
  const { headers } = call
  if (!headers['x-api-key'] && !/^Bearer \S/.test(headers['authorization'] ?? '')) return errorReply(401, 'x-api-key header is required')
  if (!headers['anthropic-version']) return errorReply(400, 'anthropic-version: header is required')
  return undefined
}

/** The 400 answer for a body the API would reject, or undefined. */
function bodyError(body: unknown, needsMaxTokens: boolean): Reply | undefined {
  if (!isJsonObject(body)) return errorReply(400, 'The request body is not valid JSON.')
  if (typeof body['model'] !== 'string' || body['model'] === '') return errorReply(400, 'model: Field required')
  if (!Array.isArray(body['messages'])) return errorReply(400, 'messages: Field required')
  if (needsMaxTokens && !(typeof body['max_tokens'] === 'number' && body['max_tokens'] >= 1)) return errorReply(400, 'max_tokens: Field required')
  return undefined
}

function messagesOf(body: JsonObject): JsonObject[] {
  return (body['messages'] as unknown[]).filter(isJsonObject)
}

function blocksOf(content: unknown): JsonObject[] {
  if (typeof content === 'string') return [{ type: 'text', text: content }]
  return Array.isArray(content) ? content.filter(isJsonObject) : []
}

/** A block without its cache breakpoint, so the prefix key and count depend only on the content. */
function withoutCacheControl(block: JsonObject): JsonObject {
  const { cache_control: _cacheControl, ...rest } = block
  return rest
}

/** One cacheable piece of the prompt, in the order the API caches them: tools, system, messages. */
interface PromptSegment {
  text: string
  tokens: number
  /** The `cache_control` of a breakpoint ending here, if any. */
  breakpoint: JsonObject | undefined
}

function segment(block: JsonObject, extraTokens = 0): PromptSegment {
  const plain = withoutCacheControl(block)
  const text = typeof plain['text'] === 'string' ? plain['text'] : JSON.stringify(plain)
  const cacheControl = block['cache_control']
  return { text, tokens: tokenCount(text) + extraTokens, breakpoint: isJsonObject(cacheControl) ? cacheControl : undefined }
}

function promptSegments(body: JsonObject): PromptSegment[] {
  const tools = Array.isArray(body['tools']) ? body['tools'].filter(isJsonObject) : []
  const segments = [...tools.map((tool) => segment(tool)), ...blocksOf(body['system']).map((block) => segment(block))]
  for (const message of messagesOf(body)) {
    blocksOf(message['content']).forEach((block, index) => segments.push(segment(block, index === 0 ? TOKENS_PER_MESSAGE : 0)))
  }
  // A top-level cache_control (automatic caching) places the breakpoint on the last block.
  const automatic = body['cache_control']
  const last = segments.at(-1)
  if (isJsonObject(automatic) && last !== undefined) last.breakpoint = automatic
  return segments
}

/** Input tokens of the prompt split into read from the cache, written to it, and not cached (the rest). */
interface PromptTokens {
  input: number
  cacheRead: number
  cacheCreation: number
  /** Whether the written part is held for an hour (`ttl: '1h'` on the last breakpoint). */
  longLived: boolean
}

/**
 * Splits the prompt's tokens as the prompt cache does: the longest prefix ending at a breakpoint that an
 * earlier call wrote is read; the rest up to the last breakpoint is written (and readable from then on).
 */
function cachePromptTokens(body: JsonObject, memory: FakeMemory): PromptTokens {
  const segments = promptSegments(body)
  const total = segments.reduce((sum, part) => sum + part.tokens, 0)
  const model = String(body['model'])
  let cumulative = 0
  let readTokens = 0
  let lastBreakpoint = { tokens: 0, ttl: undefined as unknown }
  const keys: string[] = []
  segments.forEach((part, index) => {
    cumulative += part.tokens
    if (part.breakpoint === undefined) return
    const key = hashBytes([model, segments.slice(0, index + 1).map((prefix) => prefix.text)], 16).toString('hex')
    if (memory.promptCache.has(key)) readTokens = cumulative
    lastBreakpoint = { tokens: cumulative, ttl: part.breakpoint['ttl'] }
    keys.push(key)
  })
  for (const key of keys) memory.promptCache.add(key)
  return {
    input: total - Math.max(lastBreakpoint.tokens, readTokens),
    cacheRead: readTokens,
    cacheCreation: Math.max(0, lastBreakpoint.tokens - readTokens),
    longLived: lastBreakpoint.ttl === '1h',
  }
}

function lastUserMessage(body: JsonObject): JsonObject | undefined {
  return messagesOf(body).findLast((message) => message['role'] === 'user')
}

/** The tool the request forces, else the first one; undefined when no tool call is due. */
function toolToCall(body: JsonObject): string | undefined {
  const tools = Array.isArray(body['tools']) ? body['tools'].filter(isJsonObject) : []
  const toolChoice = isJsonObject(body['tool_choice']) ? body['tool_choice'] : {}
  const answersToolResult = blocksOf(lastUserMessage(body)?.['content']).some((block) => block['type'] === 'tool_result')
  if (tools.length === 0 || toolChoice['type'] === 'none' || answersToolResult) return undefined
  const name = toolChoice['type'] === 'tool' ? toolChoice['name'] : tools[0]?.['name']
  return typeof name === 'string' ? name : 'tool'
}

function thinkingWanted(body: JsonObject): boolean {
  const thinking = body['thinking']
  return isJsonObject(thinking) && (thinking['type'] === 'enabled' || thinking['type'] === 'adaptive')
}

/** The answer text cut at the first stop sequence it contains, then at max_tokens. */
function answerText(body: JsonObject, question: string): { text: string; tokens: number; stopReason: StopReason; stopSequence: string | null } {
  let text = composeAnswer(question, body['messages'])
  let stopSequence: string | null = null
  const stopSequences = Array.isArray(body['stop_sequences'])
    ? body['stop_sequences'].filter((stop): stop is string => typeof stop === 'string' && stop !== '')
    : []
  for (const stop of stopSequences) {
    const at = text.indexOf(stop)
    if (at >= 0) {
      text = text.slice(0, at)
      stopSequence = stop
    }
  }
  const limited = limitTokens(text, body['max_tokens'] as number)
  if (limited.truncated) return { text: limited.text, tokens: limited.tokenCount, stopReason: 'max_tokens', stopSequence: null }
  return { text, tokens: limited.tokenCount, stopReason: stopSequence === null ? 'end_turn' : 'stop_sequence', stopSequence }
}

function planMessage(body: JsonObject, callNumber: number, memory: FakeMemory): PlannedMessage {
  const question = contentText(lastUserMessage(body)?.['content'])
  const content: ContentBlock[] = []
  let outputTokens = 0
  if (thinkingWanted(body)) {
    const thinking = `The user asks: ${question.slice(0, ECHO_CHARACTERS)}. The deterministic fake upstream answers it.`
    content.push({ type: 'thinking', thinking, signature: `sig_fake_${hashBytes(thinking, 24).toString('base64url')}` })
    outputTokens += tokenCount(thinking)
  }
  const toolName = toolToCall(body)
  let stopReason: StopReason = 'tool_use'
  let stopSequence: string | null = null
  if (toolName === undefined) {
    const answer = answerText(body, question)
    content.push({ type: 'text', text: answer.text })
    outputTokens += answer.tokens
    stopReason = answer.stopReason
    stopSequence = answer.stopSequence
  } else {
    const input = { query: question }
    content.push({ type: 'tool_use', id: `toolu_fake_${callNumber}`, name: toolName, input })
    outputTokens += tokenCount(JSON.stringify(input))
  }
  const prompt = cachePromptTokens(body, memory)
  const usage: MessageUsage = {
    input_tokens: prompt.input,
    cache_creation_input_tokens: prompt.cacheCreation,
    cache_read_input_tokens: prompt.cacheRead,
    cache_creation: {
      ephemeral_5m_input_tokens: prompt.longLived ? 0 : prompt.cacheCreation,
      ephemeral_1h_input_tokens: prompt.longLived ? prompt.cacheCreation : 0,
    },
    output_tokens: outputTokens,
    service_tier: 'standard',
  }
  return { id: `msg_fake_${callNumber}`, model: String(body['model']), content, stopReason, stopSequence, usage }
}

function messageBody(plan: PlannedMessage, content: ContentBlock[], stopReason: StopReason | null, usage: MessageUsage): JsonObject {
  const { id, model } = plan
  return {
    id,
    type: 'message',
    role: 'assistant',
    model,
    content,
    stop_reason: stopReason,
    stop_sequence: stopReason === null ? null : plan.stopSequence,
    usage,
  }
}

function fixedPieces(text: string, size: number): string[] {
  return Array.from({ length: Math.ceil(text.length / size) }, (_, index) => text.slice(index * size, (index + 1) * size))
}

/** One content block's events: start (with the block empty), deltas, stop. */
function blockEvents(block: ContentBlock, index: number): JsonObject[] {
  const stop = { type: 'content_block_stop', index }
  const delta = (payload: JsonObject): JsonObject => ({ type: 'content_block_delta', index, delta: payload })
  if (block.type === 'thinking') {
    return [
      { type: 'content_block_start', index, content_block: { type: 'thinking', thinking: '', signature: '' } },
      ...wordPieces(String(block['thinking'])).map((thinking) => delta({ type: 'thinking_delta', thinking })),
      delta({ type: 'signature_delta', signature: block['signature'] }),
      stop,
    ]
  }
  if (block.type === 'tool_use') {
    const json = JSON.stringify(block['input'])
    return [
      { type: 'content_block_start', index, content_block: { ...block, input: {} } },
      ...['', ...fixedPieces(json, ARGUMENT_FRAGMENT_CHARACTERS)].map((partial) => delta({ type: 'input_json_delta', partial_json: partial })),
      stop,
    ]
  }
  return [
    { type: 'content_block_start', index, content_block: { type: 'text', text: '' } },
    ...wordPieces(String(block['text'])).map((text) => delta({ type: 'text_delta', text })),
    stop,
  ]
}

/** message_start, the blocks (a ping after the first block starts), message_delta, message_stop. */
function streamEvents(plan: PlannedMessage): JsonObject[] {
  const startUsage = { ...plan.usage, output_tokens: 1 }
  const blocks = plan.content.flatMap((block, index) => blockEvents(block, index))
  const { service_tier: _tier, cache_creation: _creation, ...finalUsage } = plan.usage
  return [
    { type: 'message_start', message: messageBody(plan, [], null, startUsage) },
    ...blocks.slice(0, 1),
    { type: 'ping' },
    ...blocks.slice(1),
    { type: 'message_delta', delta: { stop_reason: plan.stopReason, stop_sequence: plan.stopSequence }, usage: finalUsage },
    { type: 'message_stop' },
  ]
}

/** Anthropic streams name every event and have no `[DONE]`; a failing stream ends with an `error` event (both fault kinds). */
export const ANTHROPIC_DIALECT: SseDialect = {
  frame: namedFrame,
  endsWithDone: false,
  failure: () => [namedFrame(anthropicError(529))],
}

/** `POST /v1/messages`: the message as JSON or as its event stream. */
export function createMessage(call: RecordedCall, callNumber: number, memory: FakeMemory): Reply {
  const rejected = headerError(call) ?? bodyError(call.body, true)
  if (rejected !== undefined) return rejected
  const body = call.body as JsonObject
  const plan = planMessage(body, callNumber, memory)
  if (body['stream'] === true) return sseReply(streamEvents(plan), ANTHROPIC_DIALECT)
  return jsonReply(200, messageBody(plan, plan.content, plan.stopReason, plan.usage))
}

/** `POST /v1/messages/count_tokens`: the prompt's input tokens, without touching the prompt cache. */
export function countMessageTokens(call: RecordedCall): Reply {
  const rejected = headerError(call) ?? bodyError(call.body, false)
  if (rejected !== undefined) return rejected
  const inputTokens = promptSegments(call.body as JsonObject).reduce((sum, part) => sum + part.tokens, 0)
  return jsonReply(200, { input_tokens: inputTokens })
}

/** The 404 of an unknown path under /v1/messages, in Anthropic's shape. */
export function messagesNotFound(call: RecordedCall): Reply {
  return errorReply(404, `${call.method} ${call.path} not found`)
}
