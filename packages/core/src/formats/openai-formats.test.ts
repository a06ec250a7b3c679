import { describe, expect, it } from 'vitest'
import type { SseEvent } from '../stream/sse.js'
import { chatCompletions } from './chat-completions.js'
import { completions } from './completions.js'
import { embeddings } from './embeddings.js'
import { responses } from './responses.js'

const chatAnswer = {
  id: 'chatcmpl-1',
  object: 'chat.completion',
  created: 1,
  model: 'gpt-4o-mini',
  choices: [{ index: 0, message: { role: 'assistant', content: 'Hello', refusal: null }, logprobs: null, finish_reason: 'stop' }],
  usage: { prompt_tokens: 3, completion_tokens: 1, total_tokens: 4 },
}

const textAnswer = {
  id: 'cmpl-1',
  object: 'text_completion',
  created: 1,
  model: 'gpt-3.5-turbo-instruct',
  choices: [{ index: 0, text: 'upon a time', logprobs: null, finish_reason: 'length' }],
  usage: { prompt_tokens: 4, completion_tokens: 3, total_tokens: 7 },
}

describe('chat completions and completions', () => {
  it.each([
    { format: chatCompletions, answer: chatAnswer },
    { format: completions, answer: textAnswer },
  ])('$format.id: a synthesised stream ends at [DONE], carries its usage chunk, and assembles back into the answer', ({ format, answer }) => {
    const stream = format.stream!
    const events = stream.synthesize(answer, true)!
    expect(stream.isEnd(events.at(-1)!)).toBe(true)
    expect(events.slice(0, -1).some((event) => stream.isEnd(event))).toBe(false)
    expect(events.filter((event) => stream.isUsageOnly!(event))).toHaveLength(1)
    expect(stream.usageOf(events)).toEqual({ inputTokens: answer.usage.prompt_tokens, outputTokens: answer.usage.completion_tokens })
    expect(stream.assemble(events)).toEqual(answer)
    // Without the usage chunk, nothing in the stream says what it cost.
    expect(stream.usageOf(stream.synthesize(answer, false)!)).toBeUndefined()
  })

  it('reads an answer: shape, model, usage, GenAI facts and the text counted when usage is missing', () => {
    expect(chatCompletions.hasAnswerShape(chatAnswer)).toBe(true)
    expect(chatCompletions.hasAnswerShape({ ...chatAnswer, choices: [] })).toBe(false)
    expect(chatCompletions.describeAnswer(chatAnswer)).toEqual({
      model: 'gpt-4o-mini',
      usage: { inputTokens: 3, outputTokens: 1 },
      responseId: 'chatcmpl-1',
      finishReasons: ['stop'],
      completionText: 'Hello',
    })
    const toolCall = { role: 'assistant', content: null, tool_calls: [{ id: 'c', type: 'function', function: { name: 'f', arguments: '{"a":1}' } }] }
    expect(chatCompletions.outputText({ choices: [{ message: toolCall }] })).toBe('{"a":1}')
    expect(completions.outputText(textAnswer)).toBe('upon a time')
  })

  it('reads the cached prompt tokens and reasoning tokens of a chat answer, JSON and its final usage chunk', () => {
    const usage = {
      prompt_tokens: 2006,
      completion_tokens: 300,
      total_tokens: 2306,
      prompt_tokens_details: { cached_tokens: 1920, audio_tokens: 0 },
      completion_tokens_details: { reasoning_tokens: 256, audio_tokens: 0, accepted_prediction_tokens: 0, rejected_prediction_tokens: 0 },
    }
    const expected = { inputTokens: 2006, outputTokens: 300, cacheReadTokens: 1920, reasoningTokens: 256 }
    const answer = { ...chatAnswer, usage }
    expect(chatCompletions.describeAnswer(answer).usage).toEqual(expected)
    expect(chatCompletions.stream!.usageOf(chatCompletions.stream!.synthesize(answer, true)!)).toEqual(expected)
    expect(completions.describeAnswer({ ...textAnswer, usage }).usage).toEqual(expected)
    // Details that are absent, malformed or larger than the count they are part of.
    expect(chatCompletions.describeAnswer(chatAnswer).usage).toEqual({ inputTokens: 3, outputTokens: 1 })
    const odd = { ...usage, prompt_tokens_details: { cached_tokens: 'many' }, completion_tokens_details: { reasoning_tokens: 9999 } }
    expect(chatCompletions.describeAnswer({ ...chatAnswer, usage: odd }).usage).toEqual({ inputTokens: 2006, outputTokens: 300, reasoningTokens: 300 })
  })

  it('asks the upstream for the usage chunk, keeping the other stream options', () => {
    const body = { model: 'm', messages: [], stream: true, stream_options: { other: 1 } }
    expect(chatCompletions.stream!.requestingUsage!(body)).toEqual({ ...body, stream_options: { other: 1, include_usage: true } })
    expect(body.stream_options).toEqual({ other: 1 })
  })

  it('finds an error event, named or in the payload', () => {
    const stream = chatCompletions.stream!
    expect(stream.errorOf({ event: 'error', data: '{"error":{"message":"overloaded"}}', offsetMs: 0 })).toEqual({ message: 'overloaded' })
    expect(stream.errorOf({ data: JSON.stringify({ choices: [] }), offsetMs: 0 })).toBeUndefined()
  })

  it('declines events that are not a choice stream', () => {
    const foreign: SseEvent[] = [{ data: '{"type":"message_start"}', event: 'message_start', offsetMs: 0 }]
    expect(chatCompletions.stream!.assemble(foreign)).toBeUndefined()
    expect(chatCompletions.stream!.synthesize({ data: [] }, false)).toBeUndefined()
  })

  it('reserves framing for chat messages and the most a request may generate', () => {
    const body = {
      messages: [
        { role: 'user', content: 'a' },
        { role: 'user', content: 'b' },
      ],
      max_tokens: 10,
      n: 2,
    }
    expect(chatCompletions.framingTokens(body)).toBe(2 * 3 + 3)
    expect(chatCompletions.maxOutputTokens(body, 1024)).toBe(20)
    expect(completions.maxOutputTokens({ prompt: 'x' }, 1024)).toBe(1024)
    expect(chatCompletions.promptText(body)).toBe('a\nb')
  })
})

describe('embeddings', () => {
  it('does not stream and generates nothing', () => {
    expect(embeddings.stream).toBeUndefined()
    expect(embeddings.maxOutputTokens({ input: 'x', max_tokens: 10 }, 1024)).toBe(0)
    expect(embeddings.outputText({ data: [] })).toBe('')
  })

  it('has data for an answer, and reads its model and usage', () => {
    const answer = { object: 'list', data: [{ embedding: [0.1] }], model: 'text-embedding-3-small', usage: { prompt_tokens: 2, total_tokens: 2 } }
    expect(embeddings.hasAnswerShape(answer)).toBe(true)
    expect(embeddings.hasAnswerShape({ object: 'list' })).toBe(false)
    expect(embeddings.describeAnswer(answer)).toEqual({ model: 'text-embedding-3-small', usage: { inputTokens: 2, outputTokens: 0 } })
    expect(embeddings.promptText({ input: ['alpha', 'beta'] })).toBe('alpha\nbeta')
  })
})

const completedResponse = {
  id: 'resp_1',
  object: 'response',
  created_at: 1,
  status: 'completed',
  model: 'gpt-4o-mini',
  output: [
    { id: 'rs_1', type: 'reasoning', summary: [{ type: 'summary_text', text: 'Thinking' }] },
    { id: 'msg_1', type: 'message', status: 'completed', role: 'assistant', content: [{ type: 'output_text', annotations: [], logprobs: [], text: 'Hello' }] },
    { id: 'fc_1', type: 'function_call', status: 'completed', call_id: 'call_1', name: 'f', arguments: '{"a":1}' },
  ],
  usage: { input_tokens: 5, input_tokens_details: { cached_tokens: 2 }, output_tokens: 7, output_tokens_details: { reasoning_tokens: 3 }, total_tokens: 12 },
}

describe('responses', () => {
  const stream = responses.stream!

  it('synthesises named, numbered events that end at response.completed and assemble back into the answer', () => {
    const events = stream.synthesize(completedResponse, false)!
    expect(events.every((event) => event.event === (JSON.parse(event.data) as { type: string }).type)).toBe(true)
    expect(events.map((event) => (JSON.parse(event.data) as { sequence_number: number }).sequence_number)).toEqual(events.map((_, index) => index))
    expect(stream.isEnd(events.at(-1)!)).toBe(true)
    expect(events.slice(0, -1).some((event) => stream.isEnd(event))).toBe(false)
    expect(events.some((event) => event.data === '[DONE]')).toBe(false)
    expect(events.some((event) => stream.errorOf(event) !== undefined)).toBe(false)
    expect(stream.assemble(events)).toEqual(completedResponse)
    expect(stream.usageOf(events)).toEqual({ inputTokens: 5, outputTokens: 7, cacheReadTokens: 2, reasoningTokens: 3 })
    expect(stream.requestingUsage).toBeUndefined()
    expect(stream.isUsageOnly).toBeUndefined()
  })

  it('synthesises nothing for an answer that is not a completed response', () => {
    expect(stream.synthesize({ ...completedResponse, status: 'incomplete' }, false)).toBeUndefined()
    expect(stream.synthesize(chatAnswer, false)).toBeUndefined()
  })

  it('keeps only completed answers', () => {
    expect(responses.hasAnswerShape(completedResponse)).toBe(true)
    for (const status of ['incomplete', 'failed', 'in_progress', 'queued']) expect(responses.hasAnswerShape({ ...completedResponse, status })).toBe(false)
    expect(responses.uncached!({ background: true })).toBe(true)
    expect(responses.uncached!({ background: false })).toBe(false)
  })

  it('reads failed, incomplete and error events as errors, and an unnamed response.completed as the end', () => {
    const failed = { event: 'response.failed', data: JSON.stringify({ type: 'response.failed', response: { error: { message: 'boom' } } }), offsetMs: 0 }
    const incomplete = {
      event: 'response.incomplete',
      data: JSON.stringify({ type: 'response.incomplete', response: { incomplete_details: { reason: 'max_output_tokens' } } }),
      offsetMs: 0,
    }
    const error = { event: 'error', data: JSON.stringify({ type: 'error', message: 'overloaded' }), offsetMs: 0 }
    expect(stream.errorOf(failed)).toEqual({ message: 'boom' })
    expect(stream.errorOf(incomplete)).toEqual({ message: 'The response is incomplete (max_output_tokens).' })
    expect(stream.errorOf(error)).toEqual({ message: 'overloaded' })
    expect(stream.errorOf({ data: failed.data, offsetMs: 0 })).toEqual({ message: 'boom' })
    expect(stream.isEnd({ data: JSON.stringify({ type: 'response.completed', response: {} }), offsetMs: 0 })).toBe(true)
    expect(stream.isEnd({ event: 'response.output_text.delta', data: '{"delta":"response.completed"}', offsetMs: 0 })).toBe(false)
  })

  it('describes an answer, and counts its prompt and output text', () => {
    expect(responses.describeAnswer(completedResponse)).toEqual({
      model: 'gpt-4o-mini',
      usage: { inputTokens: 5, outputTokens: 7, cacheReadTokens: 2, reasoningTokens: 3 },
      responseId: 'resp_1',
      finishReasons: ['tool_calls'],
      completionText: 'Hello',
    })
    expect(responses.outputText(completedResponse)).toBe('Thinking' + 'Hello' + '{"a":1}')
    const body = {
      instructions: 'Be brief.',
      input: [
        { role: 'user', content: [{ type: 'input_text', text: 'Hi' }] },
        { type: 'function_call_output', call_id: 'c', output: 'found' },
      ],
      max_output_tokens: 50,
    }
    expect(responses.promptText(body)).toBe('Be brief.\nHi\nfound')
    expect(responses.maxOutputTokens(body, 1024)).toBe(50)
    expect(responses.maxOutputTokens({ input: 'x' }, 1024)).toBe(1024)
  })

  it('refuses malformed fields, naming them', () => {
    const refused = (body: Record<string, unknown>) => {
      try {
        responses.validate(body)
      } catch (error) {
        return (error as { param?: string }).param
      }
      return undefined
    }
    expect(refused({})).toBe('input')
    expect(refused({ input: 1 })).toBe('input')
    expect(refused({ input: [{}] })).toBe('input[0]')
    expect(refused({ input: 'x', instructions: 1 })).toBe('instructions')
    expect(refused({ input: 'x', tools: [{}] })).toBe('tools[0].type')
    expect(refused({ input: 'x', text: { format: { type: 'json_schema' } } })).toBe('text.format.name')
    expect(refused({ input: 'x', reasoning: 'high' })).toBe('reasoning')
    expect(refused({ input: 'x', previous_response_id: 1 })).toBe('previous_response_id')
    expect(
      refused({
        input: [
          { role: 'user', content: 'Hi' },
          { type: 'function_call_output', call_id: 'c', output: 'x' },
        ],
      }),
    ).toBeUndefined()
  })
})
