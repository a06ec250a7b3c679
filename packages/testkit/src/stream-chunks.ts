import type { AnswerPlan, PlannedChoice } from './plans.js'
import { chatTokenLogprobs, completionLogprobs } from './logprobs.js'
import { envelopeOf, type AnswerIdentity } from './responses.js'

/** Log probabilities the request asked for (`top` alternatives per token), or none. */
export type LogprobsWanted = { top: number } | undefined

const ARGUMENT_FRAGMENT_CHARACTERS = 8

/** Word-sized pieces keeping all whitespace, so the concatenated deltas equal the non-stream text exactly. */
export function wordPieces(text: string): string[] {
  return text.match(/\S+\s*|\s+/g) ?? []
}

function fixedPieces(text: string, size: number): string[] {
  return Array.from({ length: Math.ceil(text.length / size) }, (_, index) => text.slice(index * size, (index + 1) * size))
}

/** Deltas like OpenAI's: the first carries the role (and the tool call header), the rest carry content. */
function chatDeltas(choice: PlannedChoice): Record<string, unknown>[] {
  if (choice.toolCall === null) {
    return [{ role: 'assistant', content: '' }, ...wordPieces(choice.text ?? '').map((content) => ({ content }))]
  }
  const { id, name, arguments: argumentsJson } = choice.toolCall
  const header = { index: 0, id, type: 'function', function: { name, arguments: '' } }
  const fragments = fixedPieces(argumentsJson, ARGUMENT_FRAGMENT_CHARACTERS).map((fragment) => ({
    tool_calls: [{ index: 0, function: { arguments: fragment } }],
  }))
  return [{ role: 'assistant', content: null, tool_calls: [header] }, ...fragments]
}

/** Stream chunks with usage: null on each when usage was requested, then one usage chunk with no choices. */
function withUsage(chunks: Record<string, unknown>[], plan: AnswerPlan, includeUsage: boolean): Record<string, unknown>[] {
  if (!includeUsage) return chunks
  const usageChunk = { ...chunks[0], choices: [], usage: plan.usage }
  return [...chunks.map((chunk) => ({ ...chunk, usage: null })), usageChunk]
}

/** The logprobs of one chat delta: its content's pieces, numbered on from those before it. */
function deltaLogprobs(delta: Record<string, unknown>, logprobs: LogprobsWanted, counter: { pieces: number }): unknown {
  if (logprobs === undefined || typeof delta['content'] !== 'string' || delta['content'] === '') return null
  const pieces = wordPieces(delta['content'])
  const content = chatTokenLogprobs(pieces, counter.pieces, logprobs.top)
  counter.pieces += pieces.length
  return { content, refusal: null }
}

/** All chat.completion.chunk events for a planned answer, one choice after another. */
export function chatChunks(plan: AnswerPlan, identity: AnswerIdentity, includeUsage: boolean, logprobs?: LogprobsWanted): Record<string, unknown>[] {
  const envelope = envelopeOf(identity, 'chat.completion.chunk')
  const chunks = plan.choices.flatMap((choice, index) => {
    const counter = { pieces: 0 }
    return [
      ...chatDeltas(choice).map((delta) => ({
        ...envelope,
        choices: [{ index, delta, logprobs: deltaLogprobs(delta, logprobs, counter), finish_reason: null }],
      })),
      { ...envelope, choices: [{ index, delta: {}, logprobs: null, finish_reason: choice.finishReason }] },
    ]
  })
  return withUsage(chunks, plan, includeUsage)
}

/** All text_completion stream events for a planned answer. */
export function completionChunks(plan: AnswerPlan, identity: AnswerIdentity, includeUsage: boolean, logprobs?: LogprobsWanted): Record<string, unknown>[] {
  const envelope = envelopeOf(identity, 'text_completion')
  const chunks = plan.choices.flatMap((choice, index) => {
    let offset = 0
    const pieces = wordPieces(choice.text ?? '').map((text, position) => {
      const pieceLogprobs = logprobs === undefined ? null : completionLogprobs([text], position, offset, logprobs.top)
      offset += text.length
      return { ...envelope, choices: [{ text, index, logprobs: pieceLogprobs, finish_reason: null }] }
    })
    return [...pieces, { ...envelope, choices: [{ text: '', index, logprobs: null, finish_reason: choice.finishReason }] }]
  })
  return withUsage(chunks, plan, includeUsage)
}
