import { chatLogprobs, completionLogprobs } from './logprobs.js'
import type { AnswerPlan, PlannedChoice } from './plans.js'
import { type LogprobsWanted, wordPieces } from './stream-chunks.js'

/** Fields shared by every body (and every stream chunk) of one call. */
export interface AnswerIdentity {
  id: string
  created: number
  model: string
}

// A stable fingerprint, so clients and caches see the field the real API sends.
const SYSTEM_FINGERPRINT = 'fp_fake'

/** Model ids listed by GET /v1/models; other ids are still accepted everywhere. */
export const MODEL_IDS = ['gpt-4o-mini', 'gpt-4o', 'gpt-4.1-mini', 'gpt-3.5-turbo-instruct', 'text-embedding-3-small'] as const

const MODEL_CREATED_SECONDS = 1_700_000_000

/** The leading fields of a body or chunk, in OpenAI's order so raw payloads look like the real ones. */
export function envelopeOf(identity: AnswerIdentity, object: string): Record<string, unknown> {
  const { id, created, model } = identity
  return { id, object, created, model, system_fingerprint: SYSTEM_FINGERPRINT }
}

function assistantMessage(choice: PlannedChoice): Record<string, unknown> {
  const message: Record<string, unknown> = { role: 'assistant', content: choice.text, refusal: null, annotations: [] }
  if (choice.toolCall !== null) {
    const { id, name, arguments: argumentsJson } = choice.toolCall
    message['tool_calls'] = [{ id, type: 'function', function: { name, arguments: argumentsJson } }]
  }
  return message
}

/** A non-streaming chat.completion body. */
export function chatCompletionBody(plan: AnswerPlan, identity: AnswerIdentity, logprobs?: LogprobsWanted): Record<string, unknown> {
  return {
    ...envelopeOf(identity, 'chat.completion'),
    choices: plan.choices.map((choice, index) => ({
      index,
      message: assistantMessage(choice),
      logprobs: logprobs === undefined || choice.text === null ? null : chatLogprobs(choice.text, logprobs.top),
      finish_reason: choice.finishReason,
    })),
    usage: plan.usage,
    service_tier: 'default',
  }
}

/** A non-streaming text_completion body. */
export function completionBody(plan: AnswerPlan, identity: AnswerIdentity, logprobs?: LogprobsWanted): Record<string, unknown> {
  return {
    ...envelopeOf(identity, 'text_completion'),
    choices: plan.choices.map((choice, index) => ({
      text: choice.text ?? '',
      index,
      logprobs: logprobs === undefined ? null : completionLogprobs(wordPieces(choice.text ?? ''), 0, 0, logprobs.top),
      finish_reason: choice.finishReason,
    })),
    usage: plan.usage,
  }
}

/** One entry of GET /v1/models. */
export function modelBody(id: string): Record<string, unknown> {
  return { id, object: 'model', created: MODEL_CREATED_SECONDS, owned_by: 'system' }
}

/** The GET /v1/models list. */
export function modelListBody(): Record<string, unknown> {
  return { object: 'list', data: MODEL_IDS.map(modelBody) }
}
