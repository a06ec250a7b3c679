import { createAnthropic } from '@ai-sdk/anthropic'
import { createOpenAI } from '@ai-sdk/openai'
import { generateText, streamText, tool } from 'ai'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { z } from 'zod'
import { startFakeUpstream, type FakeUpstream } from './index.js'

let fake: FakeUpstream

beforeAll(async () => {
  fake = await startFakeUpstream()
})
afterAll(() => fake.close())
beforeEach(() => fake.reset())

const weather = tool({ description: 'Weather of a city', inputSchema: z.object({ query: z.string() }) })

describe('Vercel AI SDK, OpenAI provider (Responses API by default)', () => {
  const model = () => createOpenAI({ baseURL: fake.url, apiKey: 'sk-test' })('gpt-4o-mini')

  it('generateText goes to /v1/responses and reads text and usage', async () => {
    const result = await generateText({ model: model(), prompt: 'What is caching?', maxRetries: 0 })
    expect(fake.calls.map((call) => call.path)).toEqual(['/v1/responses'])
    expect(result.text).toMatch(/^Echo: What is caching\?\. /)
    expect(result.finishReason).toBe('stop')
    expect(result.usage.inputTokens).toBeGreaterThan(3)
    expect(result.usage.outputTokens).toBeGreaterThan(5)
    expect(result.response.id).toMatch(/^resp_/)
  })

  it('streamText streams the same text and finishes with usage', async () => {
    const json = await generateText({ model: model(), prompt: 'Stream this', maxRetries: 0 })
    const result = streamText({ model: model(), prompt: 'Stream this', maxRetries: 0 })
    const parts: string[] = []
    for await (const part of result.textStream) parts.push(part)
    expect(parts.length).toBeGreaterThan(2)
    expect(parts.join('')).toBe(json.text)
    expect(await result.finishReason).toBe('stop')
    expect((await result.usage).outputTokens).toBe(json.usage.outputTokens)
    expect(fake.calls.every((call) => call.path === '/v1/responses')).toBe(true)
  })

  it('reads a function call, streamed or not, and an incomplete answer as length', async () => {
    const called = await generateText({ model: model(), prompt: 'Weather in Paris?', tools: { get_weather: weather }, maxRetries: 0 })
    expect(called.finishReason).toBe('tool-calls')
    expect(called.toolCalls[0]).toMatchObject({ toolName: 'get_weather', input: { query: 'Weather in Paris?' } })
    const streamed = streamText({ model: model(), prompt: 'Weather in Paris?', tools: { get_weather: weather }, maxRetries: 0 })
    expect((await streamed.toolCalls)[0]).toMatchObject({ toolName: 'get_weather', input: { query: 'Weather in Paris?' } })
    const cut = await generateText({ model: model(), prompt: 'Tell me a long story', maxOutputTokens: 3, maxRetries: 0 })
    expect(cut.finishReason).toBe('length')
    expect(cut.text).toBe('Echo: Tell')
  })
})

describe('Vercel AI SDK, Anthropic provider', () => {
  const model = () => createAnthropic({ baseURL: `${fake.origin}/v1`, apiKey: 'sk-ant-test' })('claude-sonnet-4-5')

  it('generateText and streamText read the same message', async () => {
    const json = await generateText({ model: model(), prompt: 'What is caching?', maxRetries: 0 })
    expect(json.text).toMatch(/^Echo: What is caching\?\. /)
    expect(json.finishReason).toBe('stop')
    expect(json.usage.outputTokens).toBeGreaterThan(5)
    const call = fake.calls[0]
    expect(call?.path).toBe('/v1/messages')
    expect(call?.headers['anthropic-version']).toBeDefined()

    const streamed = streamText({ model: model(), prompt: 'What is caching?', maxRetries: 0 })
    let text = ''
    for await (const part of streamed.textStream) text += part
    expect(text).toBe(json.text)
    expect(await streamed.finishReason).toBe('stop')
  })

  it('reads tool use and cache usage', async () => {
    const called = await generateText({ model: model(), prompt: 'Weather in Oslo?', tools: { get_weather: weather }, maxRetries: 0 })
    expect(called.toolCalls[0]).toMatchObject({ toolName: 'get_weather', input: { query: 'Weather in Oslo?' } })
    const system = {
      role: 'system' as const,
      content: 'You are a caching assistant. '.repeat(40),
      providerOptions: { anthropic: { cacheControl: { type: 'ephemeral' } } },
    }
    const first = await generateText({ model: model(), messages: [system, { role: 'user', content: 'One' }], allowSystemInMessages: true, maxRetries: 0 })
    const second = await generateText({ model: model(), messages: [system, { role: 'user', content: 'Two' }], allowSystemInMessages: true, maxRetries: 0 })
    expect(first.providerMetadata?.['anthropic']?.['cacheCreationInputTokens']).toBeGreaterThan(100)
    expect(second.usage.inputTokenDetails.cacheReadTokens).toBeGreaterThan(100)
  })
})
