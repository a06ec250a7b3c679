import type { SseEvent } from '../stream/sse.js'
import { doneData } from './openai.js'

interface Completion {
  id?: string
  object?: string
  created?: number
  model?: string
  system_fingerprint?: string
  choices?: Array<{
    index?: number
    text?: string
    finish_reason?: string | null
    logprobs?: Record<string, unknown> | null
    message?: {
      role?: string
      content?: string | null
      refusal?: string | null
      tool_calls?: Array<{ id?: string; type?: string; function?: { name?: string; arguments?: string } }>
    }
  }>
  usage?: unknown
}

function event(data: unknown): SseEvent {
  return { data: JSON.stringify(data), offsetMs: 0 }
}

/** A choice's logprobs as non-null object, or `undefined`. */
function logprobsOf(choice: { logprobs?: Record<string, unknown> | null }): Record<string, unknown> | undefined {
  const logprobs = choice.logprobs
  return logprobs !== null && typeof logprobs === 'object' ? logprobs : undefined
}

/**
 * The stream an OpenAI API would have sent for a stored non-stream answer:
 * a role chunk, the content, tool calls (with their whole arguments in one
 * delta), a finish chunk per choice, the usage chunk when asked for, and
 * `[DONE]`. Logprobs travel with the text they score: the content chunk
 * carries `logprobs.content`, the refusal chunk `logprobs.refusal` (a text
 * completion's chunk its whole logprobs), so assembling the stream gives
 * them back. Returns `undefined` for a body that is not a completion.
 */
export function synthesizeStream(body: unknown, includeUsage: boolean): SseEvent[] | undefined {
  if (body === null || typeof body !== 'object') return undefined
  const completion = body as Completion
  if (!Array.isArray(completion.choices)) return undefined
  const textCompletion = completion.object === 'text_completion'
  const base = {
    id: completion.id,
    object: textCompletion ? 'text_completion' : 'chat.completion.chunk',
    created: completion.created,
    model: completion.model,
    ...(completion.system_fingerprint === undefined ? {} : { system_fingerprint: completion.system_fingerprint }),
  }
  const usageField = includeUsage ? { usage: null } : {}
  const chunk = (choice: Record<string, unknown>) => event({ ...base, choices: [choice], ...usageField })
  const events: SseEvent[] = []
  for (const [position, choice] of completion.choices.entries()) {
    const index = choice.index ?? position
    const logprobs = logprobsOf(choice)
    if (textCompletion) {
      events.push(chunk({ index, text: choice.text ?? '', logprobs: logprobs ?? null, finish_reason: null }))
      events.push(chunk({ index, text: '', logprobs: null, finish_reason: choice.finish_reason ?? 'stop' }))
      continue
    }
    const message = choice.message ?? {}
    events.push(chunk({ index, delta: { role: message.role ?? 'assistant', content: '' }, logprobs: null, finish_reason: null }))
    const contentLogprobs = logprobs && { content: logprobs['content'] ?? null, refusal: null }
    const refusalLogprobs = logprobs && { content: null, refusal: logprobs['refusal'] ?? null }
    if (message.content) events.push(chunk({ index, delta: { content: message.content }, logprobs: contentLogprobs ?? null, finish_reason: null }))
    if (message.refusal) events.push(chunk({ index, delta: { refusal: message.refusal }, logprobs: refusalLogprobs ?? null, finish_reason: null }))
    for (const [callIndex, call] of (message.tool_calls ?? []).entries()) {
      const delta = { tool_calls: [{ index: callIndex, id: call.id, type: call.type ?? 'function', function: call.function }] }
      events.push(chunk({ index, delta, logprobs: null, finish_reason: null }))
    }
    // Logprobs with no text to travel with still reach the assembled answer.
    const unplaced = logprobs !== undefined && !message.content && !message.refusal ? logprobs : null
    events.push(chunk({ index, delta: {}, logprobs: unplaced, finish_reason: choice.finish_reason ?? 'stop' }))
  }
  if (includeUsage && completion.usage !== undefined) events.push(event({ ...base, choices: [], usage: completion.usage }))
  events.push({ data: doneData, offsetMs: 0 })
  return events
}
