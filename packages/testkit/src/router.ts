import { isAnthropicPath } from './anthropic-error.js'
import { countMessageTokens, createMessage, messagesNotFound } from './anthropic-messages.js'
import { embeddingsBody } from './embeddings.js'
import { isJsonObject, type JsonObject } from './json.js'
import { chatLogprobsWanted, completionLogprobsWanted } from './logprobs.js'
import type { FakeMemory } from './memory.js'
import { openAIError } from './openai-error.js'
import { createResponse, storedResponseRoute } from './openai-responses.js'
import { planChat, planCompletion } from './plans.js'
import { jsonReply, sseReply, type Reply } from './reply.js'
import { chatCompletionBody, completionBody, modelBody, modelListBody, type AnswerIdentity } from './responses.js'
import { chatChunks, completionChunks } from './stream-chunks.js'
import { reportedTokens, withReportedTokens, type ReportedTokens } from './reported-tokens.js'
import type { RecordedCall } from './types.js'
import { validationError } from './validate.js'

type PostHandler = (body: JsonObject, callNumber: number, memory: FakeMemory, reported: ReportedTokens) => Reply

function identityOf(body: JsonObject, idPrefix: string, callNumber: number): AnswerIdentity {
  return { id: `${idPrefix}-${callNumber}`, created: Math.floor(Date.now() / 1000), model: String(body['model']) }
}

function includesUsage(body: JsonObject): boolean {
  const streamOptions = body['stream_options']
  return isJsonObject(streamOptions) && streamOptions['include_usage'] === true
}

const POST_HANDLERS: Record<string, PostHandler> = {
  '/v1/chat/completions': (body, callNumber, _memory, reported) => {
    const planned = planChat(body, callNumber)
    const plan = { ...planned, usage: withReportedTokens(planned.usage, reported) }
    const identity = identityOf(body, 'chatcmpl-fake', callNumber)
    const logprobs = chatLogprobsWanted(body)
    if (body['stream'] === true) return sseReply(chatChunks(plan, identity, includesUsage(body), logprobs))
    return jsonReply(200, chatCompletionBody(plan, identity, logprobs))
  },
  '/v1/completions': (body, callNumber, _memory, reported) => {
    const planned = planCompletion(body)
    const plan = { ...planned, usage: withReportedTokens(planned.usage, reported) }
    const identity = identityOf(body, 'cmpl-fake', callNumber)
    const logprobs = completionLogprobsWanted(body)
    if (body['stream'] === true) return sseReply(completionChunks(plan, identity, includesUsage(body), logprobs))
    return jsonReply(200, completionBody(plan, identity, logprobs))
  },
  '/v1/embeddings': (body) => jsonReply(200, embeddingsBody(body, String(body['model']))),
  '/v1/responses': (body, callNumber, memory, reported) => createResponse(body, callNumber, memory, reported),
}

/** Anthropic's routes, which check their own headers and answer in Anthropic's shapes. */
function anthropicRoute(call: RecordedCall, callNumber: number, memory: FakeMemory): Reply {
  if (call.method === 'POST' && call.path === '/v1/messages') return createMessage(call, callNumber, memory)
  if (call.method === 'POST' && call.path === '/v1/messages/count_tokens') return countMessageTokens(call)
  return messagesNotFound(call)
}

const MODEL_PATH = /^\/v1\/models\/([^/]+)$/

function modelIdOf(path: string): string | undefined {
  const encoded = MODEL_PATH.exec(path)?.[1]
  try {
    return encoded === undefined ? undefined : decodeURIComponent(encoded)
  } catch {
    return undefined
  }
}

function notFound(call: RecordedCall): Reply {
  return jsonReply(404, openAIError(404, `Invalid URL (${call.method} ${call.path})`))
}

/**
 * The normal (fault-free) answer to a call, numbered so ids are unique per call; `memory` holds what
 * later calls can see (stored responses, the Anthropic prompt cache).
 */
export function route(call: RecordedCall, callNumber: number, memory: FakeMemory): Reply {
  if (isAnthropicPath(call.path)) return anthropicRoute(call, callNumber, memory)
  const stored = storedResponseRoute(call.method, call.path, memory)
  if (stored !== undefined) return stored
  if (call.method === 'GET') {
    if (call.path === '/v1/models') return jsonReply(200, modelListBody())
    const modelId = modelIdOf(call.path)
    return modelId === undefined ? notFound(call) : jsonReply(200, modelBody(modelId))
  }
  const handler = POST_HANDLERS[call.path]
  if (call.method !== 'POST' || handler === undefined) return notFound(call)
  return validationError(call.path, call.body) ?? handler(call.body as JsonObject, callNumber, memory, reportedTokens(call.headers))
}
