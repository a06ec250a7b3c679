import { describe, expect, it } from 'vitest'
import { AiCacheError } from '../errors.js'
import type { SseEvent } from '../stream/sse.js'
import { anthropicMessages } from './anthropic-messages.js'
import { assembleMessage, messagesStream, messageUsageOf, synthesizeMessageStream } from './anthropic-stream.js'

const usage = { input_tokens: 12, cache_creation_input_tokens: 100, cache_read_input_tokens: 2000, output_tokens: 40, service_tier: 'standard' }

const message = {
  id: 'msg_1',
  type: 'message',
  role: 'assistant',
  model: 'claude-sonnet-4-5',
  content: [
    { type: 'thinking', thinking: 'Let me think.', signature: 'sig_1' },
    { type: 'redacted_thinking', data: 'opaque' },
    { type: 'text', text: 'Here is the answer.' },
    { type: 'tool_use', id: 'toolu_1', name: 'lookup', input: { query: 'order 42', nested: { n: 1 } } },
  ],
  stop_reason: 'tool_use',
  stop_sequence: null,
  usage,
}

function named(type: string, payload: Record<string, unknown> = {}): SseEvent {
  return { event: type, data: JSON.stringify({ type, ...payload }), offsetMs: 0 }
}

describe('Anthropic Messages streams', () => {
  it('synthesises the stream the API sends for a message, which assembles back into the same message', () => {
    const events = synthesizeMessageStream(message)
    expect(events?.map((event) => event.event)).toEqual([
      'message_start',
      'content_block_start',
      'content_block_delta',
      'content_block_delta',
      'content_block_stop',
      'content_block_start',
      'content_block_stop',
      'content_block_start',
      'content_block_delta',
      'content_block_stop',
      'content_block_start',
      'content_block_delta',
      'content_block_stop',
      'message_delta',
      'message_stop',
    ])
    for (const event of events ?? []) expect(JSON.parse(event.data).type).toBe(event.event)
    expect(JSON.parse(events?.[0]?.data ?? '{}').message).toMatchObject({ content: [], stop_reason: null, usage })
    expect(assembleMessage(events ?? [])).toEqual(message)
    expect(messagesStream.isEnd(events!.at(-1)!)).toBe(true)
    expect(events?.some((event) => messagesStream.errorOf(event) !== undefined)).toBe(false)
  })

  it('assembles text deltas, tool input sent in JSON pieces, thinking and its signature, with ping events between', () => {
    const events = [
      named('message_start', { message: { ...message, content: [], stop_reason: null, usage: { ...usage, output_tokens: 1 } } }),
      named('content_block_start', { index: 0, content_block: { type: 'text', text: '' } }),
      named('ping'),
      named('content_block_delta', { index: 0, delta: { type: 'text_delta', text: 'Hello ' } }),
      named('content_block_delta', { index: 0, delta: { type: 'text_delta', text: 'there' } }),
      named('content_block_stop', { index: 0 }),
      named('content_block_start', { index: 1, content_block: { type: 'tool_use', id: 'toolu_1', name: 'lookup', input: {} } }),
      named('content_block_delta', { index: 1, delta: { type: 'input_json_delta', partial_json: '' } }),
      named('content_block_delta', { index: 1, delta: { type: 'input_json_delta', partial_json: '{"query": "ord' } }),
      named('content_block_delta', { index: 1, delta: { type: 'input_json_delta', partial_json: 'er 42"}' } }),
      named('content_block_stop', { index: 1 }),
      named('message_delta', { delta: { stop_reason: 'tool_use', stop_sequence: null }, usage: { output_tokens: 40 } }),
      named('message_stop'),
    ]
    expect(assembleMessage(events)).toEqual({
      ...message,
      content: [
        { type: 'text', text: 'Hello there' },
        { type: 'tool_use', id: 'toolu_1', name: 'lookup', input: { query: 'order 42' } },
      ],
    })
    // Input and prompt-cache tokens come with message_start, the output with message_delta.
    expect(messagesStream.usageOf(events)).toEqual({ inputTokens: 2112, outputTokens: 40, cacheReadTokens: 2000, cacheWriteTokens: 100 })
  })

  it('assembles nothing from a stream without message_stop, with an error event, or with a delta it does not know', () => {
    const start = named('message_start', { message: { ...message, content: [] } })
    const stop = named('message_stop')
    expect(assembleMessage([start])).toBeUndefined()
    expect(assembleMessage([start, named('error', { error: { type: 'overloaded_error', message: 'Overloaded' } }), stop])).toBeUndefined()
    const block = named('content_block_start', { index: 0, content_block: { type: 'text', text: '' } })
    expect(assembleMessage([start, block, named('content_block_delta', { index: 0, delta: { type: 'future_delta' } }), stop])).toBeUndefined()
  })

  it('reports an error event and a message_delta without a stop reason as failures, so neither is stored', () => {
    expect(messagesStream.errorOf(named('error', { error: { type: 'overloaded_error', message: 'Overloaded' } }))).toEqual({ message: 'Overloaded' })
    expect(messagesStream.errorOf(named('message_delta', { delta: { stop_reason: null }, usage: { output_tokens: 3 } }))).toBeDefined()
    expect(messagesStream.errorOf(named('message_delta', { delta: { stop_reason: 'end_turn' }, usage: { output_tokens: 3 } }))).toBeUndefined()
    expect(messagesStream.errorOf(named('ping'))).toBeUndefined()
    expect(messagesStream.isEnd(named('message_delta'))).toBe(false)
    // A server that leaves event names out: the payload's type decides.
    expect(messagesStream.isEnd({ data: '{"type":"message_stop"}', offsetMs: 0 })).toBe(true)
  })

  it('synthesises nothing for an answer that is not a finished message', () => {
    expect(synthesizeMessageStream({ ...message, stop_reason: null })).toBeUndefined()
    expect(synthesizeMessageStream({ type: 'error', error: { type: 'api_error', message: 'x' } })).toBeUndefined()
    expect(synthesizeMessageStream('text')).toBeUndefined()
  })
})

describe('Anthropic Messages answers and requests', () => {
  it("counts prompt-cache reads and writes in the input tokens, as TokenUsage does and Anthropic's input_tokens does not", () => {
    expect(messageUsageOf(usage)).toEqual({ inputTokens: 2112, outputTokens: 40, cacheReadTokens: 2000, cacheWriteTokens: 100 })
    expect(messageUsageOf({ input_tokens: 5, output_tokens: 7 })).toEqual({ inputTokens: 5, outputTokens: 7 })
    expect(messageUsageOf(null)).toBeUndefined()
    expect(anthropicMessages.describeAnswer(message)).toEqual({
      model: 'claude-sonnet-4-5',
      usage: { inputTokens: 2112, outputTokens: 40, cacheReadTokens: 2000, cacheWriteTokens: 100 },
      responseId: 'msg_1',
      finishReasons: ['tool_use'],
      completionText: 'Here is the answer.',
    })
  })

  it('keeps only finished messages', () => {
    expect(anthropicMessages.hasAnswerShape(message)).toBe(true)
    expect(anthropicMessages.hasAnswerShape({ ...message, stop_reason: null })).toBe(false)
    expect(anthropicMessages.hasAnswerShape({ type: 'error', error: {} })).toBe(false)
  })

  it('counts the system prompt and every message block for the rate limit, and reserves max_tokens', () => {
    const body = {
      model: 'claude-sonnet-4-5',
      max_tokens: 321,
      system: [{ type: 'text', text: 'Be brief.' }],
      messages: [
        { role: 'user', content: 'Where is order 42?' },
        { role: 'assistant', content: [{ type: 'tool_use', id: 't', name: 'lookup', input: { query: '42' } }] },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: 't', content: 'Shipped.' }] },
      ],
    }
    expect(anthropicMessages.promptText(body)).toBe('Be brief.\nWhere is order 42?\n{"query":"42"}\nShipped.')
    expect(anthropicMessages.maxOutputTokens(body, 4096)).toBe(321)
    expect(anthropicMessages.maxOutputTokens({ messages: [] }, 4096)).toBe(4096)
    expect(anthropicMessages.framingTokens(body)).toBe(12)
  })

  it("puts aicache's own errors in Anthropic's shape, with the statuses Anthropic uses", () => {
    const answer = (error: AiCacheError) => anthropicMessages.errorAnswer?.(error)
    expect(answer(new AiCacheError('invalid_type', "Invalid type for 'messages'"))).toEqual({
      status: 400,
      body: { type: 'error', error: { type: 'invalid_request_error', message: "Invalid type for 'messages'" } },
    })
    expect(answer(new AiCacheError('rate_limited', 'slow down'))).toMatchObject({ status: 429, body: { error: { type: 'rate_limit_error' } } })
    expect(answer(new AiCacheError('circuit_open', 'open'))).toMatchObject({ status: 529, body: { error: { type: 'overloaded_error' } } })
    expect(answer(new AiCacheError('upstream_overloaded', 'busy'))).toMatchObject({ status: 529, body: { error: { type: 'overloaded_error' } } })
    expect(answer(new AiCacheError('upstream_unreachable', 'gone'))).toMatchObject({ status: 500, body: { error: { type: 'api_error' } } })
    expect(answer(new AiCacheError('upstream_timeout', 'slow'))).toMatchObject({ status: 504, body: { error: { type: 'timeout_error' } } })
    expect(answer(new AiCacheError('internal_error', 'bug'))).toMatchObject({ status: 500, body: { error: { type: 'api_error' } } })
    expect(answer(new AiCacheError('body_too_large', 'big'))).toMatchObject({ status: 413, body: { error: { type: 'request_too_large' } } })
  })

  it('refuses a request whose messages are not a list of role and content', () => {
    const validate = (body: Record<string, unknown>) => () => anthropicMessages.validate(body)
    expect(validate({ messages: [{ role: 'user', content: 'hi' }] })).not.toThrow()
    expect(validate({})).toThrow(/'messages'/)
    expect(validate({ messages: [{ role: 'user' }] })).toThrow(/'messages\[0\]\.content'/)
    expect(validate({ messages: [{ role: 'user', content: 'hi' }], system: 3 })).toThrow(/'system'/)
  })
})
