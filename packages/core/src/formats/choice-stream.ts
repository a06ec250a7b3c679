import type { TokenUsage } from '../exchange/types.js'
import { type SseEvent, streamErrorOf } from '../stream/sse.js'
import { assembleCompletion } from './choice-stream-assemble.js'
import { synthesizeStream } from './choice-stream-synthesize.js'
import type { AnswerDescription, StreamFormat } from './format.js'
import { doneData, modelOf, usageOf } from './openai.js'

/**
 * What chat completions and completions share: answers made of `choices`,
 * streamed as chunks of choice deltas that end with `data: [DONE]`. The
 * two are told apart by the `object` of their chunks (`text_completion`),
 * so one assembler and one synthesiser serve both.
 */

/**
 * Whether an event is the usage-only chunk OpenAI sends last when
 * `stream_options.include_usage` is set (`choices: []` and a `usage`).
 */
export function isUsageChunk(event: SseEvent): boolean {
  if (!event.data.includes('"usage"') || !event.data.includes('"choices":[]')) return false
  try {
    const chunk = JSON.parse(event.data) as { choices?: unknown[]; usage?: unknown }
    return Array.isArray(chunk.choices) && chunk.choices.length === 0 && chunk.usage != null
  } catch {
    return false
  }
}

/** The usage of a choice stream: its usage chunk, which comes last, just before [DONE]. */
function streamUsageOf(events: readonly SseEvent[]): TokenUsage | undefined {
  const usageEvent = events.findLast(isUsageChunk)
  return usageEvent ? usageOf((JSON.parse(usageEvent.data) as { usage?: unknown }).usage) : undefined
}

/**
 * The body with `stream_options.include_usage`, so the recording knows what
 * the answer cost, whether or not the client asked (its own answer is then
 * sent without the usage chunk).
 */
function requestingUsage(body: Record<string, unknown>): Record<string, unknown> {
  const streamOptions = (body['stream_options'] as Record<string, unknown> | null | undefined) ?? {}
  return { ...body, stream_options: { ...streamOptions, include_usage: true } }
}

/** Streams of choice deltas, as chat completions and completions send them. */
export const choiceStream: StreamFormat = {
  isEnd: (event) => event.data === doneData,
  errorOf: streamErrorOf,
  isUsageOnly: isUsageChunk,
  usageOf: streamUsageOf,
  requestingUsage,
  assemble: assembleCompletion,
  synthesize: synthesizeStream,
}

/** Whether an answer has a non-empty `choices` array. */
export function hasChoices(answer: Record<string, unknown>): boolean {
  return Array.isArray(answer['choices']) && answer['choices'].length > 0
}

type Choice = { finish_reason?: unknown; text?: unknown; message?: { content?: unknown; tool_calls?: Array<{ function?: { arguments?: unknown } }> } }

function choicesOf(answer: Record<string, unknown>): Choice[] {
  return Array.isArray(answer['choices']) ? (answer['choices'] as Choice[]) : []
}

/** What a choices answer says of itself, for the entry and the GenAI span. */
export function describeChoices(answer: Record<string, unknown>): AnswerDescription {
  const choices = choicesOf(answer)
  const finishReasons = choices.map((choice) => choice?.finish_reason).filter((reason) => typeof reason === 'string')
  const first = choices[0]
  const text = first?.message?.content ?? first?.text
  const model = modelOf(answer)
  const usage = usageOf(answer['usage'])
  return {
    ...(model === undefined ? {} : { model }),
    ...(usage === undefined ? {} : { usage }),
    ...(typeof answer['id'] === 'string' ? { responseId: answer['id'] } : {}),
    ...(finishReasons.length > 0 ? { finishReasons: finishReasons as string[] } : {}),
    ...(typeof text === 'string' ? { completionText: text } : {}),
  }
}

/** The generated text of every choice: text, message content and tool call arguments. */
export function choicesText(answer: Record<string, unknown>): string {
  return choicesOf(answer)
    .map((choice) => {
      if (typeof choice?.text === 'string') return choice.text
      const message = choice?.message
      const content = typeof message?.content === 'string' ? message.content : ''
      return [content, ...(message?.tool_calls ?? []).map((call) => (typeof call.function?.arguments === 'string' ? call.function.arguments : ''))].join('')
    })
    .join('')
}
