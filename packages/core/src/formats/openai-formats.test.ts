import { describe, expect, it } from 'vitest'
import type { SseEvent } from '../stream/sse.js'
import { chatCompletions } from './chat-completions.js'
import { completions } from './completions.js'
import { embeddings } from './embeddings.js'

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
