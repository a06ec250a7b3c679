import type { TokenUsage } from '../exchange/types.js'
import type { SseEvent } from '../stream/sse.js'
import type { StreamFormat } from './format.js'

/**
 * Anthropic Messages streams: named events (`event: message_start`,
 * `content_block_start`, `content_block_delta`, `content_block_stop`,
 * `message_delta`, `message_stop`), `ping` keep-alives between them, and
 * `event: error` for a failure. No `[DONE]`: `message_stop` ends the answer.
 * A stream assembles into the message `POST /v1/messages` would have
 * answered, and a message synthesises into the stream the API would have sent.
 */

type JsonRecord = Record<string, unknown>

export function isRecord(value: unknown): value is JsonRecord {
  return value !== null && typeof value === 'object' && !Array.isArray(value)
}

function parseEvent(data: string): JsonRecord | undefined {
  try {
    const parsed: unknown = JSON.parse(data)
    return isRecord(parsed) ? parsed : undefined
  } catch {
    return undefined
  }
}

/** An event's type: its `event:` name, else the `type` of its payload. */
function typeOf(event: SseEvent, payload: JsonRecord | undefined): string | undefined {
  if (event.event !== undefined) return event.event
  const type = payload?.['type']
  return typeof type === 'string' ? type : undefined
}

function count(value: unknown): number {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0 ? value : 0
}

/**
 * Token usage of a Messages `usage` object. Anthropic's `input_tokens` are
 * only the tokens after the last prompt-cache breakpoint; the tokens read
 * from (`cache_read_input_tokens`) and written to
 * (`cache_creation_input_tokens`) its prompt cache come on top, and
 * `TokenUsage.inputTokens` counts them all.
 */
export function messageUsageOf(value: unknown): TokenUsage | undefined {
  if (!isRecord(value)) return undefined
  if (value['input_tokens'] === undefined && value['output_tokens'] === undefined) return undefined
  const cacheRead = value['cache_read_input_tokens']
  const cacheWrite = value['cache_creation_input_tokens']
  return {
    inputTokens: count(value['input_tokens']) + count(cacheRead) + count(cacheWrite),
    outputTokens: count(value['output_tokens']),
    ...(typeof cacheRead === 'number' ? { cacheReadTokens: count(cacheRead) } : {}),
    ...(typeof cacheWrite === 'number' ? { cacheWriteTokens: count(cacheWrite) } : {}),
  }
}

// ---- Reading a recorded stream ----

/** `message_stop`, by its name or (an unnamed event) its payload's type. */
function isMessageStop(event: SseEvent): boolean {
  if (event.event !== undefined) return event.event === 'message_stop'
  return event.data.includes('message_stop') && parseEvent(event.data)?.['type'] === 'message_stop'
}

/**
 * The failure an event reports: an `error` event (`overloaded_error` in the
 * middle of a stream), or a `message_delta` without a `stop_reason`, which
 * the API always sets: such a message is not one to keep.
 */
function messagesErrorOf(event: SseEvent): { message: string } | undefined {
  const name = event.event
  if (name !== undefined && name !== 'error' && name !== 'message_delta') return undefined
  if (name === undefined && !event.data.includes('"error"') && !event.data.includes('message_delta')) return undefined
  const payload = parseEvent(event.data)
  const type = typeOf(event, payload)
  if (type === 'error') {
    const message = isRecord(payload?.['error']) ? payload['error']['message'] : undefined
    return { message: typeof message === 'string' ? message : event.data }
  }
  if (type !== 'message_delta') return undefined
  const stopReason = isRecord(payload?.['delta']) ? payload['delta']['stop_reason'] : undefined
  return typeof stopReason === 'string' ? undefined : { message: 'The message ended without a stop reason.' }
}

/** A content block being assembled, with the JSON text of a tool's input as it arrives. */
interface OpenBlock {
  block: JsonRecord
  partialJson: string | undefined
}

/** Applies one `content_block_delta` to its block; false for a delta this code does not know (then nothing is assembled). */
function applyDelta(open: OpenBlock, delta: JsonRecord): boolean {
  const { block } = open
  switch (delta['type']) {
    case 'text_delta':
      block['text'] = String(block['text'] ?? '') + String(delta['text'] ?? '')
      return true
    case 'input_json_delta':
      open.partialJson = (open.partialJson ?? '') + String(delta['partial_json'] ?? '')
      return true
    case 'thinking_delta':
      block['thinking'] = String(block['thinking'] ?? '') + String(delta['thinking'] ?? '')
      return true
    case 'signature_delta':
      block['signature'] = delta['signature']
      return true
    case 'citations_delta':
      block['citations'] = [...(Array.isArray(block['citations']) ? block['citations'] : []), delta['citation']]
      return true
    default:
      return false
  }
}

/** A block's input from the JSON its deltas sent; `undefined` when that JSON does not parse. */
function closeBlock(open: OpenBlock): boolean {
  if (open.partialJson === undefined) return true
  const text = open.partialJson.trim()
  if (text === '') {
    open.block['input'] = {}
    return true
  }
  try {
    open.block['input'] = JSON.parse(text)
    return true
  } catch {
    return false
  }
}

/**
 * The message a recorded stream amounts to: `message_start`'s message with
 * the content blocks built from their deltas (text, tool input JSON,
 * thinking and its signature, citations), and `message_delta`'s stop reason
 * and usage laid over it. `undefined` when the events are not a complete
 * Messages stream, or carry a delta this code cannot rebuild faithfully.
 */
export function assembleMessage(events: readonly SseEvent[]): JsonRecord | undefined {
  let message: JsonRecord | undefined
  const blocks: OpenBlock[] = []
  let stopped = false
  for (const event of events) {
    const payload = parseEvent(event.data)
    if (payload === undefined) return undefined
    switch (typeOf(event, payload)) {
      case 'message_start': {
        const started = payload['message']
        if (!isRecord(started)) return undefined
        message = { ...started, content: [] }
        break
      }
      case 'content_block_start': {
        const index = payload['index']
        const block = payload['content_block']
        if (message === undefined || typeof index !== 'number' || !isRecord(block)) return undefined
        blocks[index] = { block: { ...block }, partialJson: undefined }
        break
      }
      case 'content_block_delta': {
        const open = typeof payload['index'] === 'number' ? blocks[payload['index']] : undefined
        if (open === undefined || !isRecord(payload['delta']) || !applyDelta(open, payload['delta'])) return undefined
        break
      }
      case 'content_block_stop': {
        const open = typeof payload['index'] === 'number' ? blocks[payload['index']] : undefined
        if (open === undefined || !closeBlock(open)) return undefined
        break
      }
      case 'message_delta': {
        if (message === undefined) return undefined
        if (isRecord(payload['delta'])) Object.assign(message, payload['delta'])
        if (isRecord(payload['usage'])) message['usage'] = { ...(isRecord(message['usage']) ? message['usage'] : {}), ...payload['usage'] }
        break
      }
      case 'message_stop':
        stopped = true
        break
      case 'ping':
        break
      default:
        // An `error` event, or one this code does not know.
        return undefined
    }
  }
  if (message === undefined || !stopped) return undefined
  message['content'] = blocks.filter((open) => open !== undefined).map((open) => open.block)
  return message
}

/**
 * The usage a stream reported: `message_start`'s (input and prompt-cache
 * tokens), with `message_delta`'s (the final output tokens, and on newer
 * API versions the input counts again) laid over it.
 */
function streamUsage(events: readonly SseEvent[]): TokenUsage | undefined {
  let usage: JsonRecord | undefined
  for (const event of events) {
    const name = event.event
    if (name !== undefined && name !== 'message_start' && name !== 'message_delta') continue
    const payload = parseEvent(event.data)
    const type = typeOf(event, payload)
    if (type === 'message_start') {
      const started = payload?.['message']
      if (isRecord(started) && isRecord(started['usage'])) usage = { ...started['usage'] }
    } else if (type === 'message_delta' && isRecord(payload?.['usage'])) {
      usage = { ...usage, ...payload['usage'] }
    }
  }
  return messageUsageOf(usage)
}

// ---- Synthesising a stream from a whole message ----

/** The events of one content block: its start with the block empty, one delta per part, its stop. */
function blockEvents(block: JsonRecord, index: number): JsonRecord[] {
  const delta = (payload: JsonRecord): JsonRecord => ({ type: 'content_block_delta', index, delta: payload })
  const events: JsonRecord[] = []
  switch (block['type']) {
    case 'text': {
      const citations = Array.isArray(block['citations']) ? block['citations'] : undefined
      const start: JsonRecord = { ...block, text: '' }
      if (citations !== undefined) start['citations'] = []
      events.push({ type: 'content_block_start', index, content_block: start })
      for (const citation of citations ?? []) events.push(delta({ type: 'citations_delta', citation }))
      const text = typeof block['text'] === 'string' ? block['text'] : ''
      if (text !== '') events.push(delta({ type: 'text_delta', text }))
      break
    }
    case 'tool_use':
    case 'server_tool_use':
    case 'mcp_tool_use': {
      events.push({ type: 'content_block_start', index, content_block: { ...block, input: {} } })
      events.push(delta({ type: 'input_json_delta', partial_json: JSON.stringify(block['input'] ?? {}) }))
      break
    }
    case 'thinking': {
      events.push({ type: 'content_block_start', index, content_block: { ...block, thinking: '', signature: '' } })
      const thinking = typeof block['thinking'] === 'string' ? block['thinking'] : ''
      if (thinking !== '') events.push(delta({ type: 'thinking_delta', thinking }))
      if (block['signature'] !== undefined) events.push(delta({ type: 'signature_delta', signature: block['signature'] }))
      break
    }
    default:
      // Redacted thinking and tool results arrive whole in their start event.
      events.push({ type: 'content_block_start', index, content_block: block })
  }
  events.push({ type: 'content_block_stop', index })
  return events
}

/** The counts `message_delta` repeats at the end of a stream. */
const finalUsageFields = ['input_tokens', 'cache_creation_input_tokens', 'cache_read_input_tokens', 'output_tokens', 'server_tool_use'] as const

/**
 * The stream the API sends for a whole message: `message_start` (the
 * message without content or stop reason), each block's events (its text,
 * tool input or thinking in one delta), `message_delta` with the stop
 * reason and the final counts, `message_stop`; every event named by its
 * type. `undefined` for anything but a finished message.
 */
export function synthesizeMessageStream(answer: unknown): SseEvent[] | undefined {
  if (!isRecord(answer) || answer['type'] !== 'message' || !Array.isArray(answer['content']) || typeof answer['stop_reason'] !== 'string') return undefined
  const usage = isRecord(answer['usage']) ? answer['usage'] : {}
  const finalUsage: JsonRecord = {}
  for (const field of finalUsageFields) if (usage[field] !== undefined) finalUsage[field] = usage[field]
  const { stop_reason: stopReason, stop_sequence: stopSequence, ...rest } = answer
  const started = { ...rest, content: [], stop_reason: null, stop_sequence: null, usage }
  const payloads: JsonRecord[] = [
    { type: 'message_start', message: started },
    ...answer['content'].flatMap((block: unknown, index) => (isRecord(block) ? blockEvents(block, index) : [])),
    { type: 'message_delta', delta: { stop_reason: stopReason, stop_sequence: stopSequence ?? null }, usage: finalUsage },
    { type: 'message_stop' },
  ]
  return payloads.map((payload) => ({ event: payload['type'] as string, data: JSON.stringify(payload), offsetMs: 0 }))
}

/** Messages streams: usage always comes with `message_start` and `message_delta`, so nothing is filtered or requested. */
export const messagesStream: StreamFormat = {
  isEnd: isMessageStop,
  errorOf: messagesErrorOf,
  usageOf: streamUsage,
  assemble: assembleMessage,
  synthesize: (answer) => synthesizeMessageStream(answer),
}
