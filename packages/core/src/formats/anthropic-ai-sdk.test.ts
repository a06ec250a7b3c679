import { createAnthropic } from '@ai-sdk/anthropic'
import { type FakeUpstream, startFakeUpstream } from '@aicache/testkit'
import { generateText, streamText } from 'ai'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { startTestGateway } from '../../test/support/test-gateway.js'
import { createAiCache } from '../index.js'

/**
 * The Vercel AI SDK's Anthropic provider (`@ai-sdk/anthropic`) calls
 * `POST /v1/messages`: through the gateway and in client mode, a repeated
 * `generateText` or `streamText` is answered from the cache.
 */
describe('Vercel AI SDK, Anthropic provider', () => {
  let fake: FakeUpstream
  const cleanups: Array<() => Promise<void>> = []
  beforeAll(async () => {
    fake = await startFakeUpstream()
  })
  afterEach(async () => {
    await Promise.all(cleanups.splice(0).map((cleanup) => cleanup()))
    fake.reset()
  })
  afterAll(() => fake.close())

  const providers = [
    {
      mode: 'gateway',
      async provider() {
        const gateway = await startTestGateway({ upstream: { anthropic: fake.url } })
        cleanups.push(gateway.close)
        return createAnthropic({ baseURL: `${gateway.url}/v1`, apiKey: 'sk-ant-a' })
      },
    },
    {
      mode: 'client mode',
      async provider() {
        const cache = createAiCache()
        cleanups.push(() => cache.close())
        return createAnthropic({ baseURL: fake.url, apiKey: 'sk-ant-a', fetch: cache.fetch })
      },
    },
  ]

  it.each(providers)('$mode: generateText, then the same text from the cache', async ({ provider }) => {
    const model = (await provider())('claude-sonnet-4-5')
    const first = await generateText({ model, prompt: 'What is caching?', maxRetries: 0 })
    const second = await generateText({ model, prompt: 'What is caching?', maxRetries: 0 })
    expect(first.text.length).toBeGreaterThan(0)
    expect(second.text).toBe(first.text)
    expect(second.finishReason).toBe('stop')
    expect(second.usage).toEqual(first.usage)
    expect(second.response.id).toBe(first.response.id)
    expect(fake.callCount('/v1/messages')).toBe(1)
  })

  it.each(providers)('$mode: streamText, then the same stream from the cache', async ({ provider }) => {
    const model = (await provider())('claude-sonnet-4-5')
    const read = async () => {
      const result = streamText({ model, prompt: 'Stream this', maxRetries: 0 })
      const parts: string[] = []
      for await (const part of result.textStream) parts.push(part)
      return { parts, finishReason: await result.finishReason, usage: await result.usage }
    }
    const first = await read()
    const second = await read()
    expect(first.parts.length).toBeGreaterThan(2)
    expect(second).toEqual(first)
    expect(first.finishReason).toBe('stop')
    expect(fake.callCount('/v1/messages')).toBe(1)
  })
})
