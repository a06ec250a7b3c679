import { contentText, lastUserText, tokenCount } from './answers.js'
import { hashBytes } from './hash.js'
import { isJsonObject, type JsonObject } from './json.js'
import type { FakeMemory, StoredResponse } from './memory.js'
import { openAIError } from './openai-error.js'
import { planChat, type PlannedChoice } from './plans.js'
import { jsonReply, sseReply, type Reply } from './reply.js'
import type { ReportedTokens } from './reported-tokens.js'
import { namedFrame, type SseDialect } from './sse.js'
import { wordPieces } from './stream-chunks.js'

/**
 * The OpenAI Responses API (`POST /v1/responses` and the stored-response
 * routes). Answers are planned by the chat planner (same text, same tool
 * decisions, same token counts), then rendered as a `response` object or as
 * the typed events of a Responses stream.
 */

const ARGUMENT_FRAGMENT_CHARACTERS = 8
const REASONING_TOKENS_PER_EFFORT: Record<string, number> = { minimal: 1, low: 2, medium: 4, high: 8, xhigh: 16 }
const STREAM_FAILURE = { code: 'server_error', message: 'The model failed while generating this answer.' }

type OutputItem = JsonObject & { type: 'message' | 'function_call' | 'reasoning'; id: string }

/** A Responses request read as a chat request, so the chat planner decides text, tool calls and counts. */
function chatBodyOf(body: JsonObject): JsonObject {
  const messages: JsonObject[] = []
  if (typeof body['instructions'] === 'string') messages.push({ role: 'system', content: body['instructions'] })
  const input = body['input']
  if (typeof input === 'string') messages.push({ role: 'user', content: input })
  for (const item of Array.isArray(input) ? input.filter(isJsonObject) : []) {
    if (item['type'] === 'function_call_output') messages.push({ role: 'tool', content: contentText(item['output']) })
    else if (item['type'] === 'function_call') messages.push({ role: 'assistant', content: '' })
    else if (typeof item['role'] === 'string') messages.push({ role: item['role'], content: item['content'] })
  }
  const functionTools = Array.isArray(body['tools']) ? body['tools'].filter((tool) => isJsonObject(tool) && tool['type'] === 'function') : []
  const toolChoice = body['tool_choice']
  return {
    messages,
    tools: functionTools.map((tool) => ({ type: 'function', function: { name: (tool as JsonObject)['name'] } })),
    tool_choice: isJsonObject(toolChoice) && toolChoice['type'] === 'function' ? { type: 'function', function: { name: toolChoice['name'] } } : toolChoice,
    max_tokens: body['max_output_tokens'],
  }
}

interface ReasoningPlan {
  effort: string
  text: string
  tokens: number
  summary: boolean
  encrypted: boolean
}

/** Reasoning when the request sets `reasoning.effort` (other than 'none'); a summary when it sets `reasoning.summary`. */
function planReasoning(body: JsonObject, question: string): ReasoningPlan | undefined {
  const reasoning = body['reasoning']
  if (!isJsonObject(reasoning) || typeof reasoning['effort'] !== 'string' || reasoning['effort'] === 'none') return undefined
  const effort = reasoning['effort']
  const text = `**Reading the question** The question is: ${question.slice(0, 200)}. The deterministic fake upstream answers it.`
  const include = Array.isArray(body['include']) ? body['include'] : []
  return {
    effort,
    text,
    tokens: tokenCount(text) * (REASONING_TOKENS_PER_EFFORT[effort] ?? 4),
    summary: typeof reasoning['summary'] === 'string' && reasoning['summary'] !== 'none',
    encrypted: include.includes('reasoning.encrypted_content'),
  }
}

function reasoningItem(id: string, plan: ReasoningPlan, withSummary: boolean): OutputItem {
  const item: OutputItem = { id, type: 'reasoning', summary: withSummary && plan.summary ? [{ type: 'summary_text', text: plan.text }] : [] }
  if (plan.encrypted) item['encrypted_content'] = `enc_fake_${hashBytes(plan.text, 24).toString('base64url')}`
  return item
}

function outputText(text: string): JsonObject {
  return { type: 'output_text', annotations: [], logprobs: [], text }
}

function messageItem(id: string, choice: PlannedChoice): OutputItem {
  const status = choice.finishReason === 'length' ? 'incomplete' : 'completed'
  return { id, type: 'message', status, content: [outputText(choice.text ?? '')], role: 'assistant' }
}

function functionCallItem(id: string, choice: PlannedChoice): OutputItem {
  const { id: callId, name, arguments: argumentsJson } = choice.toolCall ?? { id: '', name: '', arguments: '' }
  return { id, type: 'function_call', status: 'completed', arguments: argumentsJson, call_id: callId, name }
}

/** Function tools as the API echoes them, with its defaults filled in. */
function echoedTools(tools: unknown): unknown[] {
  if (!Array.isArray(tools)) return []
  return tools.map((tool) => (isJsonObject(tool) && tool['type'] === 'function' ? { description: null, ...tool, strict: tool['strict'] ?? true } : tool))
}

function orNull(value: unknown): unknown {
  return value === undefined ? null : value
}

/** The request fields a `response` object echoes, with the API's defaults for those not sent. */
function echoedFields(body: JsonObject, reasoning: ReasoningPlan | undefined): Record<string, unknown> {
  const requested = body['reasoning']
  const summary = isJsonObject(requested) ? orNull(requested['summary']) : null
  const text = isJsonObject(body['text'])
    ? { format: { type: 'text' }, verbosity: 'medium', ...body['text'] }
    : { format: { type: 'text' }, verbosity: 'medium' }
  const serviceTier = body['service_tier']
  return {
    background: body['background'] === true,
    instructions: orNull(body['instructions']),
    max_output_tokens: orNull(body['max_output_tokens']),
    max_tool_calls: orNull(body['max_tool_calls']),
    model: String(body['model']),
    parallel_tool_calls: body['parallel_tool_calls'] ?? true,
    previous_response_id: orNull(body['previous_response_id']),
    prompt_cache_key: orNull(body['prompt_cache_key']),
    reasoning: { effort: reasoning?.effort ?? null, summary },
    safety_identifier: orNull(body['safety_identifier']),
    service_tier: serviceTier === undefined || serviceTier === 'auto' ? 'default' : serviceTier,
    store: body['store'] ?? true,
    temperature: body['temperature'] ?? 1,
    text,
    tool_choice: body['tool_choice'] ?? 'auto',
    tools: echoedTools(body['tools']),
    top_logprobs: body['top_logprobs'] ?? 0,
    top_p: body['top_p'] ?? 1,
    truncation: body['truncation'] ?? 'disabled',
    user: orNull(body['user']),
    metadata: isJsonObject(body['metadata']) ? body['metadata'] : {},
  }
}

/** A `response` object in the API's field order. */
function responseObject(
  identity: { id: string; createdAt: number },
  state: { status: string; output: unknown[]; usage: unknown; incompleteDetails: unknown; error?: unknown },
  echoed: Record<string, unknown>,
): JsonObject {
  const { model, ...rest } = echoed
  const { background, instructions, max_output_tokens, max_tool_calls, ...after } = rest
  return {
    id: identity.id,
    object: 'response',
    created_at: identity.createdAt,
    status: state.status,
    background,
    completed_at: state.status === 'completed' ? Math.floor(Date.now() / 1000) : null,
    error: state.error ?? null,
    incomplete_details: state.incompleteDetails,
    instructions,
    max_output_tokens,
    max_tool_calls,
    model,
    output: state.output,
    ...after,
    usage: state.usage,
  }
}

/** Input items as `GET /v1/responses/{id}/input_items` lists them: each with an id, messages with typed parts. */
function inputItemsOf(body: JsonObject, id: string): JsonObject[] {
  const input = body['input']
  const items = typeof input === 'string' ? [{ role: 'user', content: input }] : Array.isArray(input) ? input.filter(isJsonObject) : []
  return items.map((item, index) => {
    const itemId = typeof item['id'] === 'string' ? item['id'] : `${id.replace(/^resp_/, 'msg_')}_in${index}`
    if (typeof item['role'] !== 'string') return { id: itemId, ...item, status: item['status'] ?? 'completed' }
    const partType = item['role'] === 'assistant' ? 'output_text' : 'input_text'
    const content = typeof item['content'] === 'string' ? [{ type: partType, text: item['content'] }] : item['content']
    return { id: itemId, type: 'message', role: item['role'], status: 'completed', content }
  })
}

/** Everything one Responses answer consists of, before it is rendered as JSON or as stream events. */
interface PlannedResponse {
  final: JsonObject
  output: OutputItem[]
  reasoning: ReasoningPlan | undefined
  inputItems: JsonObject[]
}

function planResponse(body: JsonObject, callNumber: number, priorTokens: number, reported: ReportedTokens): PlannedResponse {
  const chatBody = chatBodyOf(body)
  const plan = planChat(chatBody, callNumber)
  const choice = plan.choices[0] as PlannedChoice
  const id = `resp_fake_${callNumber}`
  const reasoning = planReasoning(body, lastUserText(chatBody['messages'] as JsonObject[]))
  const output: OutputItem[] = []
  if (reasoning !== undefined) output.push(reasoningItem(`rs_fake_${callNumber}`, reasoning, true))
  output.push(choice.toolCall === null ? messageItem(`msg_fake_${callNumber}`, choice) : functionCallItem(`fc_fake_${callNumber}`, choice))
  const inputTokens = plan.usage.prompt_tokens + priorTokens
  const reasoningTokens = (reasoning?.tokens ?? 0) + reported.reasoning
  const outputTokens = plan.usage.completion_tokens + reasoningTokens
  const usage = {
    input_tokens: inputTokens,
    input_tokens_details: { cached_tokens: priorTokens + Math.min(reported.cached, plan.usage.prompt_tokens) },
    output_tokens: outputTokens,
    output_tokens_details: { reasoning_tokens: reasoningTokens },
    total_tokens: inputTokens + outputTokens,
  }
  const incomplete = choice.finishReason === 'length'
  const final = responseObject(
    { id, createdAt: Math.floor(Date.now() / 1000) },
    { status: incomplete ? 'incomplete' : 'completed', output, usage, incompleteDetails: incomplete ? { reason: 'max_output_tokens' } : null },
    echoedFields(body, reasoning),
  )
  return { final, output, reasoning, inputItems: inputItemsOf(body, id) }
}

/** The typed events of one output item, from `response.output_item.added` to `response.output_item.done`. */
function itemEvents(item: OutputItem, outputIndex: number, reasoning: ReasoningPlan | undefined): JsonObject[] {
  const at = { item_id: item.id, output_index: outputIndex }
  if (item.type === 'reasoning') {
    const added = { type: 'response.output_item.added', output_index: outputIndex, item: { ...item, summary: [] } }
    const done = { type: 'response.output_item.done', output_index: outputIndex, item }
    if (reasoning === undefined || !reasoning.summary) return [added, done]
    const part = { type: 'summary_text', text: reasoning.text }
    const summary = { ...at, summary_index: 0 }
    return [
      added,
      { type: 'response.reasoning_summary_part.added', ...summary, part: { ...part, text: '' } },
      ...wordPieces(reasoning.text).map((delta) => ({ type: 'response.reasoning_summary_text.delta', ...summary, delta })),
      { type: 'response.reasoning_summary_text.done', ...summary, text: reasoning.text },
      { type: 'response.reasoning_summary_part.done', ...summary, part },
      done,
    ]
  }
  if (item.type === 'function_call') {
    const argumentsJson = String(item['arguments'])
    const fragments = argumentsJson.match(new RegExp(`[\\s\\S]{1,${ARGUMENT_FRAGMENT_CHARACTERS}}`, 'g')) ?? []
    return [
      { type: 'response.output_item.added', output_index: outputIndex, item: { ...item, status: 'in_progress', arguments: '' } },
      ...fragments.map((delta) => ({ type: 'response.function_call_arguments.delta', ...at, delta })),
      { type: 'response.function_call_arguments.done', ...at, name: item['name'], arguments: argumentsJson },
      { type: 'response.output_item.done', output_index: outputIndex, item },
    ]
  }
  const part = (item['content'] as JsonObject[])[0] as JsonObject
  const text = String(part['text'])
  const inPart = { ...at, content_index: 0 }
  return [
    { type: 'response.output_item.added', output_index: outputIndex, item: { ...item, status: 'in_progress', content: [] } },
    { type: 'response.content_part.added', ...inPart, part: outputText('') },
    ...wordPieces(text).map((delta) => ({ type: 'response.output_text.delta', ...inPart, delta, logprobs: [] })),
    { type: 'response.output_text.done', ...inPart, text, logprobs: [] },
    { type: 'response.content_part.done', ...inPart, part },
    { type: 'response.output_item.done', output_index: outputIndex, item },
  ]
}

/** Numbers events in order, `type` first and `sequence_number` second as the API writes them. */
function sequenced(events: readonly JsonObject[], first = 0): JsonObject[] {
  return events.map(({ type, ...rest }, index) => ({ type, sequence_number: first + index, ...rest }))
}

/** The whole stream of a planned response: created, in progress, each item's events, then completed (or incomplete). */
function streamEvents(planned: PlannedResponse): JsonObject[] {
  const { final } = planned
  const pending = { ...final, status: 'in_progress', completed_at: null, incomplete_details: null, output: [], usage: null }
  const terminal = final['status'] === 'incomplete' ? 'response.incomplete' : 'response.completed'
  return sequenced([
    { type: 'response.created', response: pending },
    { type: 'response.in_progress', response: pending },
    ...planned.output.flatMap((item, index) => itemEvents(item, index, planned.reasoning)),
    { type: terminal, response: final },
  ])
}

/**
 * Responses streams name every event and have no `[DONE]`. A failing stream ends as the API ends one:
 * 'data' with a `response.failed` event (the response with status 'failed' and its error), 'event' with
 * an `error` event.
 */
export const RESPONSES_DIALECT: SseDialect = {
  frame: namedFrame,
  endsWithDone: false,
  failure(kind, sent) {
    const sequenceNumber = sent.length
    if (kind === 'event') return [namedFrame({ type: 'error', sequence_number: sequenceNumber, ...STREAM_FAILURE, param: null })]
    const created = sent.find((event) => isJsonObject(event) && isJsonObject(event['response'])) as JsonObject | undefined
    const response = { ...(created?.['response'] as JsonObject | undefined), status: 'failed', error: STREAM_FAILURE }
    return [namedFrame({ type: 'response.failed', sequence_number: sequenceNumber, response })]
  },
}

function badRequest(message: string, param: string | null, code: string | null = null): Reply {
  const body = openAIError(400, message, param)
  body.error.code = code
  return jsonReply(400, body)
}

/** `POST /v1/responses`: the JSON `response`, its stream, or a queued background response. */
export function createResponse(body: JsonObject, callNumber: number, memory: FakeMemory, reported: ReportedTokens = { cached: 0, reasoning: 0 }): Reply {
  const previousId = body['previous_response_id']
  let priorTokens = 0
  if (typeof previousId === 'string') {
    const previous = memory.responses.get(previousId)
    if (previous === undefined) {
      return badRequest(`Previous response with id '${previousId}' not found.`, 'previous_response_id', 'previous_response_not_found')
    }
    // The conversation so far is part of the prompt, and the API serves it from its prompt cache.
    const usage = previous.response['usage'] as { total_tokens?: number } | null
    priorTokens = usage?.total_tokens ?? 0
  }
  const background = body['background'] === true
  if (background && body['store'] === false) return badRequest('Background mode requires store=true.', 'background')
  const planned = planResponse(body, callNumber, priorTokens, reported)
  const id = String(planned.final['id'])
  if (body['store'] !== false) {
    memory.responses.set(id, { response: planned.final, inputItems: planned.inputItems, background, pending: background ? 'queued' : undefined })
  }
  if (body['stream'] === true) return sseReply(streamEvents(planned), RESPONSES_DIALECT)
  if (background) return jsonReply(200, queuedView(planned.final, 'queued'))
  return jsonReply(200, planned.final)
}

function queuedView(response: JsonObject, status: 'queued' | 'cancelled'): JsonObject {
  return { ...response, status, completed_at: null, incomplete_details: null, output: [], usage: null }
}

const STORED_PATH = /^\/v1\/responses\/([^/]+)(\/cancel|\/input_items)?$/

function notFound(id: string): Reply {
  return jsonReply(404, openAIError(404, `Response with id '${id}' not found.`, null))
}

/** The stored response as a retrieval sees it: a background response is done once first retrieved. */
function retrieved(stored: StoredResponse): JsonObject {
  if (stored.pending === 'cancelled') return queuedView(stored.response, 'cancelled')
  stored.pending = undefined
  return stored.response
}

/**
 * The stored-response routes: `GET /v1/responses/{id}`, `DELETE /v1/responses/{id}`,
 * `POST /v1/responses/{id}/cancel` and `GET /v1/responses/{id}/input_items`; undefined for other paths.
 */
export function storedResponseRoute(method: string, path: string, memory: FakeMemory): Reply | undefined {
  const match = STORED_PATH.exec(path)
  if (match === null) return undefined
  const id = decodeURIComponent(match[1] ?? '')
  const action = `${method} ${match[2] ?? ''}`
  if (action !== 'GET ' && action !== 'DELETE ' && action !== 'POST /cancel' && action !== 'GET /input_items') return undefined
  const stored = memory.responses.get(id)
  if (stored === undefined) return notFound(id)
  if (action === 'GET ') return jsonReply(200, retrieved(stored))
  if (action === 'DELETE ') {
    memory.responses.delete(id)
    return jsonReply(200, { id, object: 'response', deleted: true })
  }
  if (action === 'POST /cancel') {
    if (!stored.background) return badRequest('Only responses created with background=true can be cancelled.', null)
    if (stored.pending === 'queued') stored.pending = 'cancelled'
    return jsonReply(200, retrieved(stored))
  }
  // Newest first, the API's default order.
  const data = [...stored.inputItems].reverse()
  return jsonReply(200, { object: 'list', data, first_id: data[0]?.['id'] ?? null, last_id: data.at(-1)?.['id'] ?? null, has_more: false })
}
