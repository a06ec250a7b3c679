import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { createOpenAI } from '@ai-sdk/openai'
import { createAiCache } from '@aicache/express'
import { type FakeUpstream, fakeChatAnswer, startFakeUpstream } from '@aicache/testkit'
import { generateText, streamText } from 'ai'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createGatewayApp } from './app.js'

describe('the Vercel AI SDK against the gateway', () => {
  let fake: FakeUpstream
  let server: Server
  let baseURL: string
  beforeAll(async () => {
    fake = await startFakeUpstream()
    server = createGatewayApp(createAiCache({ upstream: fake.url }), undefined).listen(0, '127.0.0.1')
    await new Promise((resolve) => server.once('listening', resolve))
    baseURL = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`
  })
  afterAll(async () => {
    server.closeAllConnections()
    server.close()
    await fake.close()
  })

  it('streamText gets the same text on a miss and on a hit', async () => {
    const model = createOpenAI({ baseURL, apiKey: 'sk-ai-sdk' }).chat('gpt-4o-mini')
    const prompt = 'I still have not received my new card, I ordered over 2 weeks ago.'
    const read = async () => {
      const result = streamText({ model, prompt })
      let text = ''
      for await (const delta of result.textStream) text += delta
      return { text, usage: await result.usage }
    }
    const miss = await read()
    const hit = await read()
    expect(miss.text).toBe(fakeChatAnswer({ messages: [{ role: 'user', content: prompt }] }))
    expect(hit.text).toBe(miss.text)
    expect(hit.usage.outputTokens).toBe(miss.usage.outputTokens)
    expect(fake.callCount('/v1/chat/completions')).toBe(1)
  })

  it('three identical .chat(model) streams make one upstream call when the upstream ends its body after [DONE]', async () => {
    // Paced like a provider: events a few ms apart, and the body ends well after [DONE].
    fake.setChunkDelay(2)
    fake.setDoneTail(25)
    try {
      const model = createOpenAI({ baseURL, apiKey: 'sk-ai-sdk' }).chat('gpt-4o-mini')
      const prompt = 'Three identical streams through the AI SDK'
      const before = fake.callCount('/v1/chat/completions')
      const texts: string[] = []
      for (let round = 0; round < 3; round++) {
        let text = ''
        for await (const delta of streamText({ model, prompt }).textStream) text += delta
        texts.push(text)
      }
      expect(texts[0]).toBe(fakeChatAnswer({ messages: [{ role: 'user', content: prompt }] }))
      expect(texts).toEqual([texts[0], texts[0], texts[0]])
      expect(fake.callCount('/v1/chat/completions') - before).toBe(1)
    } finally {
      fake.setChunkDelay(0)
      fake.setDoneTail(10)
    }
  })

  it('generateText is answered from the entry a stream recorded', async () => {
    const model = createOpenAI({ baseURL, apiKey: 'sk-ai-sdk' }).chat('gpt-4o-mini')
    const prompt = 'How do I top up my account?'
    const streamed = streamText({ model, prompt })
    let text = ''
    for await (const delta of streamed.textStream) text += delta
    const before = fake.callCount()
    const generated = await generateText({ model, prompt })
    expect(generated.text).toBe(text)
    expect(fake.callCount()).toBe(before)
  })
})
