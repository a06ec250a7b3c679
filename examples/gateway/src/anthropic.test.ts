import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import Anthropic from '@anthropic-ai/sdk'
import { createAnthropic } from '@ai-sdk/anthropic'
import { createAiCache } from '@aicache/express'
import { type FakeUpstream, startFakeUpstream } from '@aicache/testkit'
import { generateText } from 'ai'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createGatewayApp } from './app.js'
import { loadConfig } from './config.js'

/** The Anthropic SDK and the AI SDK's Anthropic provider pointed at the gateway, configured as `AICACHE_ANTHROPIC_URL` configures it. */
describe('Anthropic clients against the gateway', () => {
  let fake: FakeUpstream
  let server: Server
  let origin: string
  beforeAll(async () => {
    fake = await startFakeUpstream()
    const config = loadConfig({ AICACHE_UPSTREAM_URL: fake.url, AICACHE_ANTHROPIC_URL: fake.url })
    server = createGatewayApp(createAiCache(config.cache), undefined).listen(0, '127.0.0.1')
    await new Promise((resolve) => server.once('listening', resolve))
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  })
  afterAll(async () => {
    server.closeAllConnections()
    server.close()
    await fake.close()
  })

  it('new Anthropic({ baseURL: gateway }) gets the same message on a miss and on a hit, and its stream replayed', async () => {
    const anthropic = new Anthropic({ baseURL: origin, apiKey: 'sk-ant-gateway', maxRetries: 0 })
    const params = { model: 'claude-haiku-4-5', max_tokens: 300, messages: [{ role: 'user' as const, content: 'My card was declined, why?' }] }
    const miss = await anthropic.messages.create(params).withResponse()
    const hit = await anthropic.messages.create(params).withResponse()
    expect(hit.response.headers.get('cache-status')).toMatch(/hit/)
    expect(hit.data).toEqual(miss.data)
    const streamed = await anthropic.messages.stream(params).finalMessage()
    expect(streamed.content).toEqual(miss.data.content)
    expect(fake.callCount('/v1/messages')).toBe(1)
  })

  it('generateText with @ai-sdk/anthropic is answered from the cache the second time', async () => {
    const model = createAnthropic({ baseURL: `${origin}/v1`, apiKey: 'sk-ant-gateway' })('claude-haiku-4-5')
    const before = fake.callCount('/v1/messages')
    const first = await generateText({ model, prompt: 'What is a gateway cache?', maxRetries: 0 })
    const second = await generateText({ model, prompt: 'What is a gateway cache?', maxRetries: 0 })
    expect(second.text).toBe(first.text)
    expect(fake.callCount('/v1/messages') - before).toBe(1)
  })
})
