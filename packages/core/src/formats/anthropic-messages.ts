import type { AiCacheError, AiCacheErrorCode } from '../errors.js'
import { checkField, requireField } from '../request/validate.js'
import { genAiOperationName } from '../telemetry/names.js'
import { isRecord, messagesStream, messageUsageOf } from './anthropic-stream.js'
import { type AnswerDescription, type ApiFormat, type ErrorAnswer, parseJsonAnswer } from './format.js'
import { lastUserTurn } from './last-user-turn.js'
import { addPromptText, modelOf } from './openai.js'

/**
 * Anthropic's Messages API: `POST /v1/messages`, `system` and `messages`
 * in, a `message` with content blocks (`text`, `tool_use`, `thinking`) out,
 * streamed as named events that end with `message_stop`. Only finished
 * messages are kept: one with a `stop_reason`, or a stream that reached
 * `message_stop` without an `error` event. `anthropic-version` and
 * `anthropic-beta` change what the API answers, so they are part of the
 * key; errors aicache makes itself on this route are in Anthropic's shape.
 */

type JsonRecord = Record<string, unknown>

// Framing per message and for the reply, as for chat: an estimate for the rate limit, not a bill.
const tokensPerMessage = 3
const replyPrimingTokens = 3

// ---- Requests ----

function validateMessages(messages: unknown): void {
  requireField('messages', messages)
  checkField('messages', messages, ['array'])
  ;(messages as unknown[]).forEach((message, index) => {
    const param = `messages[${index}]`
    checkField(param, message, ['object'])
    const record = message as JsonRecord
    requireField(`${param}.role`, record['role'])
    checkField(`${param}.role`, record['role'], ['string'])
    requireField(`${param}.content`, record['content'])
    checkField(`${param}.content`, record['content'], ['string', 'array'])
  })
}

function validateMessagesRequest(body: JsonRecord): void {
  validateMessages(body['messages'])
  checkField('system', body['system'], ['string', 'array'])
  checkField('stop_sequences', body['stop_sequences'], ['array'])
  checkField('top_k', body['top_k'], ['integer'])
  checkField('thinking', body['thinking'], ['object'])
  checkField('metadata', body['metadata'], ['object'])
}

/** The text of content blocks: text, tool results (their own content) and tool inputs. */
function addBlocksText(parts: string[], content: unknown): void {
  if (typeof content === 'string') {
    parts.push(content)
    return
  }
  if (!Array.isArray(content)) return
  for (const block of content) {
    if (!isRecord(block)) continue
    if (typeof block['text'] === 'string') parts.push(block['text'])
    else if (block['type'] === 'tool_result') addPromptText(parts, block['content'])
    else if (block['type'] === 'tool_use' && block['input'] !== undefined) parts.push(JSON.stringify(block['input']))
  }
}

/** The prompt's text: the system prompt, then every message's. */
function messagesPromptText(body: JsonRecord): string {
  const parts: string[] = []
  addBlocksText(parts, body['system'])
  const messages = body['messages']
  if (Array.isArray(messages)) for (const message of messages) if (isRecord(message)) addBlocksText(parts, message['content'])
  return parts.join('\n')
}

function positiveInteger(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isSafeInteger(value) && value > 0 ? value : undefined
}

/** The request headers that change what the API answers: its version, and the beta features it turns on. */
const keyHeaders = ['anthropic-version', 'anthropic-beta'] as const
const anthropicTextBlocks: ReadonlySet<string> = new Set(['text'])

// ---- Answers ----

/** A finished message: `type: 'message'`, its content blocks and why it stopped. Only those are kept. */
function isFinishedMessage(answer: JsonRecord): boolean {
  return answer['type'] === 'message' && Array.isArray(answer['content']) && typeof answer['stop_reason'] === 'string'
}

function blocksOf(answer: JsonRecord): JsonRecord[] {
  const content = answer['content']
  return Array.isArray(content) ? content.filter(isRecord) : []
}

function describeMessage(answer: JsonRecord): AnswerDescription {
  const model = modelOf(answer)
  const usage = messageUsageOf(answer['usage'])
  const blocks = blocksOf(answer)
  const texts = blocks.filter((block) => block['type'] === 'text')
  const stopReason = answer['stop_reason']
  return {
    ...(model === undefined ? {} : { model }),
    ...(usage === undefined ? {} : { usage }),
    ...(typeof answer['id'] === 'string' ? { responseId: answer['id'] } : {}),
    ...(typeof stopReason === 'string' ? { finishReasons: [stopReason] } : {}),
    ...(texts.length > 0 ? { completionText: texts.map((block) => String(block['text'] ?? '')).join('') } : {}),
  }
}

/** Everything the message generated: text, thinking, tool inputs. */
function messageOutputText(answer: JsonRecord): string {
  const parts: string[] = []
  for (const block of blocksOf(answer)) {
    if (typeof block['text'] === 'string') parts.push(block['text'])
    else if (typeof block['thinking'] === 'string') parts.push(block['thinking'])
    else if (block['input'] !== undefined) parts.push(JSON.stringify(block['input']))
  }
  return parts.join('')
}

// ---- Errors ----

/**
 * Anthropic's error type and status for each of aicache's own errors
 * (https://docs.claude.com/en/api/errors): its clients read the type, and
 * retry 429, 5xx and 529 as they would the API's own.
 */
const anthropicErrors: Partial<Record<AiCacheErrorCode, { type: string; status: number }>> = {
  body_too_large: { type: 'request_too_large', status: 413 },
  rate_limited: { type: 'rate_limit_error', status: 429 },
  upstream_unreachable: { type: 'api_error', status: 500 },
  upstream_timeout: { type: 'timeout_error', status: 504 },
  upstream_overloaded: { type: 'overloaded_error', status: 529 },
  circuit_open: { type: 'overloaded_error', status: 529 },
  internal_error: { type: 'api_error', status: 500 },
}

/** An error aicache made, as the Messages API answers errors: `{ type: 'error', error: { type, message } }`. */
function anthropicErrorAnswer(error: AiCacheError): ErrorAnswer {
  const known = anthropicErrors[error.code]
  const status = known?.status ?? error.status
  const type = known?.type ?? (status >= 500 ? 'api_error' : 'invalid_request_error')
  return { status, body: { type: 'error', error: { type, message: error.message } } }
}

/** Anthropic Messages: `POST /v1/messages`. `/v1/messages/count_tokens` and the batch routes are not this format, and pass through. */
export const anthropicMessages: ApiFormat<'messages'> = {
  id: 'messages',
  paths: ['/v1/messages'],
  urlSuffix: '/messages',
  // OpenAI's Assistants API adds messages to a thread at `/threads/{id}/messages`.
  claimsUrlPath: (path) => !/\/threads\/[^/]+\/messages$/.test(path),
  upstream: 'anthropic',
  genAiOperation: genAiOperationName.chat,
  requestSpanName: `aicache ${genAiOperationName.chat}`,
  providerName: () => 'anthropic',
  // A body with `messages` is a chat request to wrap mode, which comes first; either reading counts the same text.
  recognizes: () => false,
  validate: validateMessagesRequest,
  keyHeaders,
  // The last `user` message of text blocks only: a `tool_result`, an image or a document makes it more than its words.
  semanticQuery: (body) => lastUserTurn(body, 'messages', anthropicTextBlocks, (message) => message['role'] === 'user'),
  promptText: messagesPromptText,
  framingTokens: (body) => (Array.isArray(body['messages']) ? body['messages'].length * tokensPerMessage + replyPrimingTokens : 0),
  maxOutputTokens: (body, defaultMaxTokens) => positiveInteger(body['max_tokens']) ?? defaultMaxTokens,
  parseAnswer: parseJsonAnswer,
  hasAnswerShape: isFinishedMessage,
  describeAnswer: describeMessage,
  outputText: messageOutputText,
  errorAnswer: anthropicErrorAnswer,
  stream: messagesStream,
}
