import type { SseEvent } from '../stream/sse.js'
import { doneData } from './openai.js'

interface ToolCallDelta {
  index?: number
  id?: string
  type?: string
  function?: { name?: string; arguments?: string }
}

interface ChoiceDelta {
  index?: number
  delta?: { role?: string; content?: string | null; refusal?: string | null; tool_calls?: ToolCallDelta[] }
  text?: string
  finish_reason?: string | null
  logprobs?: unknown
}

interface Chunk {
  id?: string
  object?: string
  created?: number
  model?: string
  system_fingerprint?: string
  service_tier?: string
  choices?: ChoiceDelta[]
  usage?: unknown
}

interface AssembledChoice {
  index: number
  role: string
  content: string | null
  refusal: string | null
  text: string
  toolCalls: Array<{ id: string; type: string; function: { name: string; arguments: string } }>
  finishReason: string | null
  /** Log probabilities, when the chunks carried any: each array field concatenated in order. */
  logprobs: Record<string, unknown[] | null> | null
}

function choiceAt(choices: Map<number, AssembledChoice>, index: number): AssembledChoice {
  let choice = choices.get(index)
  if (choice === undefined) {
    choice = { index, role: 'assistant', content: null, refusal: null, text: '', toolCalls: [], finishReason: null, logprobs: null }
    choices.set(index, choice)
  }
  return choice
}

// Chat: `content` and `refusal` (token entries); completions: `tokens`, `token_logprobs`, `top_logprobs`, `text_offset`.
const chatLogprobFields = ['content', 'refusal'] as const
const completionLogprobFields = ['tokens', 'token_logprobs', 'top_logprobs', 'text_offset'] as const

/** Appends a chunk's logprobs arrays to those of its choice (a stream splits them across chunks). */
function appendLogprobs(choice: AssembledChoice, logprobs: unknown, textCompletion: boolean): void {
  if (logprobs === null || typeof logprobs !== 'object') return
  const fields = textCompletion ? completionLogprobFields : chatLogprobFields
  const target = (choice.logprobs ??= Object.fromEntries(fields.map((field) => [field, null])))
  for (const field of fields) {
    const part = (logprobs as Record<string, unknown>)[field]
    if (Array.isArray(part)) target[field] = [...(target[field] ?? []), ...part]
  }
}

function applyDelta(choice: AssembledChoice, delta: ChoiceDelta, textCompletion: boolean): void {
  if (typeof delta.text === 'string') choice.text += delta.text
  if (delta.finish_reason) choice.finishReason = delta.finish_reason
  appendLogprobs(choice, delta.logprobs, textCompletion)
  const message = delta.delta
  if (message === undefined) return
  if (message.role) choice.role = message.role
  if (typeof message.content === 'string') choice.content = (choice.content ?? '') + message.content
  if (typeof message.refusal === 'string') choice.refusal = (choice.refusal ?? '') + message.refusal
  for (const call of message.tool_calls ?? []) {
    const position = call.index ?? choice.toolCalls.length
    const target = (choice.toolCalls[position] ??= { id: '', type: 'function', function: { name: '', arguments: '' } })
    if (call.id) target.id = call.id
    if (call.type) target.type = call.type
    if (call.function?.name) target.function.name += call.function.name
    if (call.function?.arguments) target.function.arguments += call.function.arguments
  }
}

/**
 * Rebuilds the non-stream answer from the chunks of a chat or text
 * completion stream: content, refusals, tool calls and logprobs concatenated
 * per choice, finish reasons, and the usage chunk. Returns `undefined` when
 * the events are not an OpenAI completion stream: an event that is not a
 * JSON object with a `choices` array (a wrapped route's own events, an
 * error event) means the stream cannot be shown as a completion.
 */
export function assembleCompletion(events: readonly SseEvent[]): Record<string, unknown> | undefined {
  let head: Chunk | undefined
  let usage: unknown
  const choices = new Map<number, AssembledChoice>()
  for (const event of events) {
    if (event.data === doneData) break
    let chunk: Chunk
    try {
      chunk = JSON.parse(event.data) as Chunk
    } catch {
      return undefined
    }
    if (chunk === null || typeof chunk !== 'object' || !Array.isArray(chunk.choices)) return undefined
    head ??= chunk
    if (chunk.usage != null) usage = chunk.usage
    const textCompletion = head.object === 'text_completion'
    for (const delta of chunk.choices) applyDelta(choiceAt(choices, delta.index ?? 0), delta, textCompletion)
  }
  if (head === undefined) return undefined
  const textCompletion = head.object === 'text_completion'
  const ordered = [...choices.values()].sort((a, b) => a.index - b.index)
  return {
    id: head.id,
    object: textCompletion ? 'text_completion' : 'chat.completion',
    created: head.created,
    model: head.model,
    ...(head.system_fingerprint === undefined ? {} : { system_fingerprint: head.system_fingerprint }),
    ...(head.service_tier === undefined ? {} : { service_tier: head.service_tier }),
    choices: ordered.map((choice) =>
      textCompletion
        ? { index: choice.index, text: choice.text, logprobs: choice.logprobs, finish_reason: choice.finishReason }
        : {
            index: choice.index,
            message: {
              role: choice.role,
              content: choice.content,
              refusal: choice.refusal,
              ...(choice.toolCalls.length > 0 ? { tool_calls: choice.toolCalls } : {}),
            },
            logprobs: choice.logprobs,
            finish_reason: choice.finishReason,
          },
    ),
    ...(usage === undefined ? {} : { usage }),
  }
}
