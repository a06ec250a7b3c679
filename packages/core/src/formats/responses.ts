import { AiCacheError } from '../errors.js'
import type { TokenUsage } from '../exchange/types.js'
import { checkField, requireField } from '../request/validate.js'
import { type SseEvent, streamErrorOf } from '../stream/sse.js'
import { genAiOperationName } from '../telemetry/names.js'
import { type AnswerDescription, type ApiFormat, parseJsonAnswer, type SemanticQuery, type StreamFormat } from './format.js'
import { lastUserTurn, textOfContent } from './last-user-turn.js'
import { addPromptText, modelOf, openAiProviderName, usageOf } from './openai.js'

/**
 * The OpenAI Responses API: `POST /v1/responses`, `input` (a string or a
 * list of items) in, a `response` object with `output` items out, streamed
 * as typed events (`event: response.output_text.delta`) that end with
 * `response.completed` and no `[DONE]`. Only finished answers are kept: a
 * `status` other than `completed` (`incomplete`, `failed`, `queued` for
 * `background: true`) is never stored, nor a stream that did not reach
 * `response.completed`.
 */

const completedEvent = 'response.completed'

/** Events that end a stream without a complete answer. */
const unfinishedEvents: ReadonlySet<string> = new Set(['response.failed', 'response.incomplete', 'error'])

type JsonRecord = Record<string, unknown>

function isRecord(value: unknown): value is JsonRecord {
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

/** An event's type: its `event:` name, else the `type` of its payload (servers that leave names out). */
function typeOf(event: SseEvent): string | undefined {
  if (event.event !== undefined) return event.event
  const type = parseEvent(event.data)?.['type']
  return typeof type === 'string' ? type : undefined
}

// ---- Requests ----

const inputItemKinds = ['object', 'string'] as const

function validateInput(input: unknown): void {
  requireField('input', input)
  checkField('input', input, ['string', 'array'])
  if (!Array.isArray(input)) return
  input.forEach((item, index) => {
    const param = `input[${index}]`
    checkField(param, item, [...inputItemKinds])
    if (!isRecord(item)) return
    checkField(`${param}.type`, item['type'], ['string'])
    checkField(`${param}.role`, item['role'], ['string'])
    if (item['role'] !== undefined) checkField(`${param}.content`, item['content'], ['string', 'array'])
    if (item['type'] === undefined && item['role'] === undefined) {
      throw new AiCacheError('invalid_value', `Invalid '${param}': an input item needs a 'type' or a 'role'.`, { param })
    }
  })
}

function validateTools(tools: unknown): void {
  if (!Array.isArray(tools)) return
  tools.forEach((tool, index) => {
    const param = `tools[${index}]`
    checkField(param, tool, ['object'])
    requireField(`${param}.type`, (tool as JsonRecord)['type'])
    checkField(`${param}.type`, (tool as JsonRecord)['type'], ['string'])
  })
}

function validateText(text: unknown): void {
  checkField('text', text, ['object', 'null'])
  if (!isRecord(text)) return
  const format = text['format']
  checkField('text.format', format, ['object', 'null'])
  if (isRecord(format)) {
    requireField('text.format.type', format['type'])
    checkField('text.format.type', format['type'], ['string'])
    if (format['type'] === 'json_schema') {
      requireField('text.format.name', format['name'])
      checkField('text.format.schema', format['schema'], ['object'])
    }
  }
}

function validateResponsesRequest(body: JsonRecord): void {
  validateInput(body['input'])
  checkField('instructions', body['instructions'], ['string', 'null'])
  validateTools(body['tools'])
  validateText(body['text'])
  checkField('reasoning', body['reasoning'], ['object', 'null'])
  checkField('previous_response_id', body['previous_response_id'], ['string', 'null'])
  checkField('conversation', body['conversation'], ['string', 'object', 'null'])
  checkField('max_output_tokens', body['max_output_tokens'], ['integer', 'null'])
  checkField('max_tool_calls', body['max_tool_calls'], ['integer', 'null'])
  checkField('parallel_tool_calls', body['parallel_tool_calls'], ['boolean', 'null'])
  checkField('background', body['background'], ['boolean', 'null'])
  checkField('store', body['store'], ['boolean', 'null'])
  checkField('include', body['include'], ['array', 'null'])
  checkField('metadata', body['metadata'], ['object', 'null'])
  checkField('truncation', body['truncation'], ['string', 'null'])
  checkField('top_logprobs', body['top_logprobs'], ['integer', 'null'])
}

/** The prompt's text: the instructions, then every input item's text (message content, tool outputs). */
function responsesPromptText(body: JsonRecord): string {
  const parts: string[] = []
  addPromptText(parts, body['instructions'])
  const input = body['input']
  if (typeof input === 'string') parts.push(input)
  else if (Array.isArray(input)) {
    for (const item of input) {
      if (typeof item === 'string') parts.push(item)
      else if (isRecord(item)) {
        addPromptText(parts, item['content'])
        addPromptText(parts, item['output'])
        addPromptText(parts, item['arguments'])
      }
    }
  }
  return parts.join('\n')
}

function positiveInteger(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isSafeInteger(value) && value > 0 ? value : undefined
}

// ---- Answers ----

type OutputItem = JsonRecord & { type?: unknown; id?: unknown }

function outputOf(answer: JsonRecord): OutputItem[] {
  const output = answer['output']
  return Array.isArray(output) ? (output.filter(isRecord) as OutputItem[]) : []
}

/** The text of a message item's `output_text` parts, joined. */
function messageText(item: OutputItem): string {
  const content = item['content']
  if (!Array.isArray(content)) return ''
  let text = ''
  for (const part of content) if (isRecord(part) && part['type'] === 'output_text' && typeof part['text'] === 'string') text += part['text']
  return text
}

/** Whether a parsed answer is a finished `response` (status `completed`): only those are kept. */
function isCompletedResponse(answer: JsonRecord): boolean {
  return answer['status'] === 'completed' && Array.isArray(answer['output'])
}

/** Usage of a `response` object, with its cached input and reasoning tokens. */
function responseUsage(answer: JsonRecord): TokenUsage | undefined {
  return usageOf(answer['usage'])
}

function describeResponse(answer: JsonRecord): AnswerDescription {
  const model = modelOf(answer)
  const usage = responseUsage(answer)
  const output = outputOf(answer)
  const text = output
    .filter((item) => item.type === 'message')
    .map(messageText)
    .join('')
  const status = answer['status']
  const incompleteReason = (answer['incomplete_details'] as { reason?: unknown } | null | undefined)?.reason
  // The closest the API has to a finish reason: why it stopped, else whether it called a tool.
  const finishReason =
    typeof incompleteReason === 'string'
      ? incompleteReason
      : status === 'completed'
        ? output.some((item) => item.type === 'function_call')
          ? 'tool_calls'
          : 'stop'
        : undefined
  return {
    ...(model === undefined ? {} : { model }),
    ...(usage === undefined ? {} : { usage }),
    ...(typeof answer['id'] === 'string' ? { responseId: answer['id'] } : {}),
    ...(finishReason === undefined ? {} : { finishReasons: [finishReason] }),
    ...(output.some((item) => item.type === 'message') ? { completionText: text } : {}),
  }
}

/** Everything the answer generated: message text, refusals, function call arguments, reasoning summaries. */
function responseOutputText(answer: JsonRecord): string {
  const parts: string[] = []
  for (const item of outputOf(answer)) {
    if (item.type === 'message' && Array.isArray(item['content'])) {
      for (const part of item['content']) if (isRecord(part)) addPromptText(parts, typeof part['text'] === 'string' ? part['text'] : part['refusal'])
    } else if (typeof item['arguments'] === 'string') parts.push(item['arguments'])
    else if (Array.isArray(item['summary'])) addPromptText(parts, item['summary'])
  }
  return parts.join('')
}

// ---- Streams ----

/** `response.completed`, by its name or (an unnamed event) its payload's type. */
function isCompleted(event: SseEvent): boolean {
  if (event.event !== undefined) return event.event === completedEvent
  return event.data.includes(completedEvent) && parseEvent(event.data)?.['type'] === completedEvent
}

/** The failure an event reports: `error`, `response.failed`, or `response.incomplete` (an answer cut short is not one to keep). */
function responsesErrorOf(event: SseEvent): { message: string } | undefined {
  const name = event.event
  if (name !== undefined && !unfinishedEvents.has(name)) return undefined
  if (name === undefined && !event.data.includes('"response.failed"') && !event.data.includes('"response.incomplete"') && !event.data.includes('"error"')) {
    return undefined
  }
  const payload = parseEvent(event.data)
  const type = name ?? payload?.['type']
  if (type === 'error') return streamErrorOf({ event: 'error', data: event.data })
  if (type !== 'response.failed' && type !== 'response.incomplete') return undefined
  const response = payload?.['response'] as JsonRecord | undefined
  const message = (response?.['error'] as { message?: unknown } | null | undefined)?.message
  if (typeof message === 'string') return { message }
  const reason = (response?.['incomplete_details'] as { reason?: unknown } | null | undefined)?.reason
  return { message: type === 'response.incomplete' ? `The response is incomplete${typeof reason === 'string' ? ` (${reason})` : ''}.` : 'The response failed.' }
}

/** The `response` object of the last terminal event (`response.completed`, `.incomplete`, `.failed`), or `undefined`. */
function assembleResponse(events: readonly SseEvent[]): JsonRecord | undefined {
  for (let index = events.length - 1; index >= 0; index--) {
    const event = events[index] as SseEvent
    const type = typeOf(event)
    if (type !== completedEvent && type !== 'response.incomplete' && type !== 'response.failed') continue
    const response = parseEvent(event.data)?.['response']
    return isRecord(response) ? response : undefined
  }
  return undefined
}

function streamUsage(events: readonly SseEvent[]): TokenUsage | undefined {
  const response = assembleResponse(events)
  return response === undefined ? undefined : responseUsage(response)
}

/** The events of one output item, from `response.output_item.added` to `response.output_item.done`. */
function itemEvents(item: OutputItem, outputIndex: number): JsonRecord[] {
  const at = { item_id: item.id, output_index: outputIndex }
  if (item.type === 'message' && Array.isArray(item['content'])) {
    const events: JsonRecord[] = [{ type: 'response.output_item.added', output_index: outputIndex, item: { ...item, status: 'in_progress', content: [] } }]
    item['content'].forEach((part: unknown, contentIndex) => {
      if (!isRecord(part)) return
      const inPart = { ...at, content_index: contentIndex }
      if (part['type'] === 'output_text') {
        const text = typeof part['text'] === 'string' ? part['text'] : ''
        events.push({ type: 'response.content_part.added', ...inPart, part: { ...part, annotations: [], text: '' } })
        if (text !== '') events.push({ type: 'response.output_text.delta', ...inPart, delta: text, logprobs: part['logprobs'] ?? [] })
        events.push({ type: 'response.output_text.done', ...inPart, text, logprobs: part['logprobs'] ?? [] })
      } else if (part['type'] === 'refusal') {
        const refusal = typeof part['refusal'] === 'string' ? part['refusal'] : ''
        events.push({ type: 'response.content_part.added', ...inPart, part: { ...part, refusal: '' } })
        if (refusal !== '') events.push({ type: 'response.refusal.delta', ...inPart, delta: refusal })
        events.push({ type: 'response.refusal.done', ...inPart, refusal })
      } else {
        events.push({ type: 'response.content_part.added', ...inPart, part })
      }
      events.push({ type: 'response.content_part.done', ...inPart, part })
    })
    events.push({ type: 'response.output_item.done', output_index: outputIndex, item })
    return events
  }
  if (item.type === 'function_call') {
    const argumentsJson = typeof item['arguments'] === 'string' ? item['arguments'] : ''
    return [
      { type: 'response.output_item.added', output_index: outputIndex, item: { ...item, status: 'in_progress', arguments: '' } },
      ...(argumentsJson === '' ? [] : [{ type: 'response.function_call_arguments.delta', ...at, delta: argumentsJson }]),
      { type: 'response.function_call_arguments.done', ...at, name: item['name'], arguments: argumentsJson },
      { type: 'response.output_item.done', output_index: outputIndex, item },
    ]
  }
  if (item.type === 'reasoning' && Array.isArray(item['summary'])) {
    const events: JsonRecord[] = [{ type: 'response.output_item.added', output_index: outputIndex, item: { ...item, summary: [] } }]
    item['summary'].forEach((part: unknown, summaryIndex) => {
      if (!isRecord(part)) return
      const text = typeof part['text'] === 'string' ? part['text'] : ''
      const summary = { ...at, summary_index: summaryIndex }
      events.push({ type: 'response.reasoning_summary_part.added', ...summary, part: { ...part, text: '' } })
      if (text !== '') events.push({ type: 'response.reasoning_summary_text.delta', ...summary, delta: text })
      events.push({ type: 'response.reasoning_summary_text.done', ...summary, text })
      events.push({ type: 'response.reasoning_summary_part.done', ...summary, part })
    })
    events.push({ type: 'response.output_item.done', output_index: outputIndex, item })
    return events
  }
  // Other items (built-in tool calls) arrive whole.
  return [
    { type: 'response.output_item.added', output_index: outputIndex, item },
    { type: 'response.output_item.done', output_index: outputIndex, item },
  ]
}

/**
 * The stream the API sends for a completed `response`: created, in
 * progress, each output item's events (text in one delta), then
 * `response.completed` with the answer; every event named by its type and
 * numbered by `sequence_number`. `undefined` for anything but a completed response.
 */
function synthesizeResponseStream(answer: unknown): SseEvent[] | undefined {
  if (!isRecord(answer) || answer['object'] !== 'response' || !isCompletedResponse(answer)) return undefined
  const pending = { ...answer, status: 'in_progress', completed_at: null, incomplete_details: null, output: [], usage: null }
  const payloads: JsonRecord[] = [
    { type: 'response.created', response: pending },
    { type: 'response.in_progress', response: pending },
    ...outputOf(answer).flatMap(itemEvents),
    { type: completedEvent, response: answer },
  ]
  return payloads.map(({ type, ...rest }, index) => ({ event: type as string, data: JSON.stringify({ type, sequence_number: index, ...rest }), offsetMs: 0 }))
}

/** Typed Responses streams: usage always arrives with `response.completed`, so nothing is filtered or requested. */
const responsesStream: StreamFormat = {
  isEnd: isCompleted,
  errorOf: responsesErrorOf,
  usageOf: streamUsage,
  assemble: assembleResponse,
  synthesize: (answer) => synthesizeResponseStream(answer),
}

/** OpenAI Responses: `POST /v1/responses`. The other `/v1/responses/{id}` routes are not this format, and pass through. */
const responsesTextParts: ReadonlySet<string> = new Set(['input_text'])

/** `input` as a string is one user turn; as items, the last one when it is a user message of text. */
function responsesSemanticQuery(body: JsonRecord): SemanticQuery | undefined {
  const input = body['input']
  if (typeof input === 'string') {
    const text = textOfContent(input, responsesTextParts)
    return text === undefined ? undefined : { text, context: { ...body, input: '' } }
  }
  return lastUserTurn(body, 'input', responsesTextParts, (item) => item['role'] === 'user' && (item['type'] === undefined || item['type'] === 'message'))
}

export const responses: ApiFormat<'responses'> = {
  id: 'responses',
  paths: ['/v1/responses'],
  urlSuffix: '/responses',
  genAiOperation: genAiOperationName.chat,
  requestSpanName: `aicache ${genAiOperationName.chat}`,
  providerName: openAiProviderName,
  // A body with `input` is an embeddings request to wrap mode; nothing tells a Responses body apart for sure.
  recognizes: () => false,
  validate: validateResponsesRequest,
  // A background request starts a job its client polls by id: each one upstream, never shared.
  uncached: (body) => body['background'] === true,
  // `store` is bookkeeping for chat, but a Responses id made with `store: false` cannot be
  // retrieved or continued: such answers are kept apart (docs/decisions/0048).
  keyNote: (body) => (body['store'] === false ? '\nstore=false' : ''),
  promptText: responsesPromptText,
  framingTokens: () => 0,
  maxOutputTokens: (body, defaultMaxTokens) => positiveInteger(body['max_output_tokens']) ?? defaultMaxTokens,
  parseAnswer: parseJsonAnswer,
  semanticQuery: responsesSemanticQuery,
  hasAnswerShape: isCompletedResponse,
  describeAnswer: describeResponse,
  outputText: responseOutputText,
  stream: responsesStream,
}
