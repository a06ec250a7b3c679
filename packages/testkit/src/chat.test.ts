import OpenAI from 'openai'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { fakeChatAnswer, startFakeUpstream, type FakeUpstream } from './index.js'

let fake: FakeUpstream
let client: OpenAI

beforeAll(async () => {
  fake = await startFakeUpstream()
  client = new OpenAI({ baseURL: fake.url, apiKey: 'sk-test', maxRetries: 0 })
})
afterAll(() => fake.close())
beforeEach(() => fake.reset())

const weatherTool = {
  type: 'function',
  function: { name: 'get_weather', parameters: { type: 'object', properties: { query: { type: 'string' } } } },
} as const

describe('chat completions', () => {
  it('answers deterministically with realistic fields and usage', async () => {
    const request = { model: 'gpt-4o-mini', messages: [{ role: 'user' as const, content: 'What is caching?' }] }
    const first = await client.chat.completions.create(request)
    const second = await client.chat.completions.create(request)
    const answer = fakeChatAnswer(request)
    expect(answer).toMatch(/^Echo: What is caching\?\. /)
    expect(first.choices[0]?.message.content).toBe(answer)
    expect(second.choices[0]?.message.content).toBe(answer)
    expect(first.id).toMatch(/^chatcmpl-fake-\d+$/)
    expect(second.id).not.toBe(first.id)
    expect(first).toMatchObject({ object: 'chat.completion', model: 'gpt-4o-mini', system_fingerprint: 'fp_fake' })
    expect(Math.abs(first.created - Date.now() / 1000)).toBeLessThan(5)
    expect(first.choices[0]?.finish_reason).toBe('stop')
    const usage = first.usage
    expect(usage?.prompt_tokens).toBeGreaterThan(6)
    expect(usage?.total_tokens).toBe((usage?.prompt_tokens ?? 0) + (usage?.completion_tokens ?? 0))
    expect(usage?.prompt_tokens_details?.cached_tokens).toBe(0)
  })

  it('varies with the conversation and reads content arrays', () => {
    const asArray = { messages: [{ role: 'user', content: [{ type: 'text', text: 'Hello there' }] }] }
    expect(fakeChatAnswer(asArray)).toMatch(/^Echo: Hello there\. /)
    const texts = new Set(['a', 'b', 'c', 'd', 'e', 'f'].map((text) => fakeChatAnswer({ messages: [{ role: 'user', content: text }] })))
    expect(texts.size).toBe(6)
  })

  it('truncates to max_tokens and returns n choices', async () => {
    const request = { model: 'gpt-4o', n: 2, max_tokens: 3, messages: [{ role: 'user' as const, content: 'Tell me a long story' }] }
    const completion = await client.chat.completions.create(request)
    expect(completion.choices.map((choice) => choice.finish_reason)).toEqual(['length', 'length'])
    expect(completion.choices[0]?.message.content).toBe(fakeChatAnswer(request))
    expect(completion.choices[1]?.message.content).toBe(`${fakeChatAnswer(request)} (1)`)
    expect(fakeChatAnswer(request)).toBe('Echo: Tell')
  })

  it('streams deltas that concatenate to the answer, then a usage chunk', async () => {
    const request = { model: 'gpt-4o-mini', messages: [{ role: 'user' as const, content: 'Stream please' }] }
    const stream = await client.chat.completions.create({ ...request, stream: true, stream_options: { include_usage: true } })
    const chunks = []
    for await (const chunk of stream) chunks.push(chunk)
    const text = chunks.map((chunk) => chunk.choices[0]?.delta.content ?? '').join('')
    expect(text).toBe(fakeChatAnswer(request))
    expect(chunks[0]?.choices[0]?.delta).toEqual({ role: 'assistant', content: '' })
    expect(new Set(chunks.map((chunk) => chunk.id)).size).toBe(1)
    expect(chunks.at(-2)?.choices[0]?.finish_reason).toBe('stop')
    expect(chunks.at(-1)?.choices).toEqual([])
    expect(chunks.at(-1)?.usage?.completion_tokens).toBeGreaterThan(0)
    expect(chunks.slice(0, -1).every((chunk) => chunk.usage === null)).toBe(true)
  })

  it('omits usage from chunks without include_usage and ends with [DONE]', async () => {
    const response = await fetch(`${fake.url}/chat/completions`, {
      method: 'POST',
      body: JSON.stringify({ model: 'gpt-4o-mini', stream: true, messages: [{ role: 'user', content: 'hi' }] }),
    })
    expect(response.headers.get('content-type')).toBe('text/event-stream')
    const text = await response.text()
    expect(text.endsWith('data: [DONE]\n\n')).toBe(true)
    expect(text).not.toContain('usage')
  })

  it('calls a tool, with stream fragments reassembling to the same arguments', async () => {
    const request = {
      model: 'gpt-4o-mini',
      tools: [weatherTool],
      messages: [{ role: 'user' as const, content: 'Weather in Paris?' }],
    }
    const completion = await client.chat.completions.create(request)
    const choice = completion.choices[0]
    const toolCall = choice?.message.tool_calls?.[0]
    expect(choice?.finish_reason).toBe('tool_calls')
    expect(choice?.message.content).toBeNull()
    expect(toolCall).toMatchObject({ type: 'function', function: { name: 'get_weather' } })
    expect(toolCall?.id).toMatch(/^call_fake_\d+$/)
    const argumentsJson = toolCall?.type === 'function' ? toolCall.function.arguments : ''
    expect(JSON.parse(argumentsJson)).toEqual({ query: 'Weather in Paris?' })

    const stream = await client.chat.completions.create({ ...request, stream: true })
    let streamedArguments = ''
    let streamedName = ''
    let finishReason: string | null = null
    for await (const chunk of stream) {
      const delta = chunk.choices[0]?.delta
      streamedName += delta?.tool_calls?.[0]?.function?.name ?? ''
      streamedArguments += delta?.tool_calls?.[0]?.function?.arguments ?? ''
      finishReason = chunk.choices[0]?.finish_reason ?? finishReason
    }
    expect(streamedName).toBe('get_weather')
    expect(streamedArguments).toBe(argumentsJson)
    expect(finishReason).toBe('tool_calls')
  })

  it('answers with text after a tool result or with tool_choice none', async () => {
    const afterTool = await client.chat.completions.create({
      model: 'gpt-4o-mini',
      tools: [weatherTool],
      messages: [
        { role: 'user', content: 'Weather?' },
        { role: 'assistant', content: null, tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{}' } }] },
        { role: 'tool', tool_call_id: 'call_1', content: 'Sunny' },
      ],
    })
    expect(afterTool.choices[0]?.finish_reason).toBe('stop')
    const none = await client.chat.completions.create({
      model: 'gpt-4o-mini',
      tools: [weatherTool],
      tool_choice: 'none',
      messages: [{ role: 'user', content: 'Weather?' }],
    })
    expect(none.choices[0]?.message.content).toMatch(/^Echo: Weather\?/)
  })
})
