import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { createAiCache } from '@aicache/express'
import { type FakeUpstream, fakeChatAnswer, startFakeUpstream } from '@aicache/testkit'
import { ChatOpenAI } from '@langchain/openai'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { createGatewayApp } from './app.js'

/**
 * LangChain's `ChatOpenAI` (`@langchain/openai` 1.x, on openai 7, which
 * stops reading a stream at `data: [DONE]` and cancels the body) against
 * the gateway, with an upstream that ends its body a while after `[DONE]`
 * as real providers do.
 */
describe('LangChain against the gateway', () => {
  let fake: FakeUpstream
  let server: Server
  let baseURL: string
  beforeAll(async () => {
    // LangChain's own pipeline delays the cancel by tens of ms after [DONE] on a busy machine: the body
    // must still be open then, or the test could not see a cancelled recording (25 ms was not always enough).
    fake = await startFakeUpstream({ chunkDelayMs: 2, doneTailMs: 100 })
    server = createGatewayApp(createAiCache({ upstream: fake.url }), undefined).listen(0, '127.0.0.1')
    await new Promise((resolve) => server.once('listening', resolve))
    baseURL = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`
  })
  afterEach(() => fake.reset())
  afterAll(async () => {
    server.closeAllConnections()
    server.close()
    await fake.close()
  })

  function chatModel(): ChatOpenAI {
    return new ChatOpenAI({ model: 'gpt-4o-mini', apiKey: 'sk-langchain', maxRetries: 0, configuration: { baseURL } })
  }

  it('three identical streams make one upstream call and get the same text', async () => {
    const model = chatModel()
    const question = 'Three identical streams through LangChain'
    const texts: string[] = []
    for (let round = 0; round < 3; round++) {
      let text = ''
      for await (const chunk of await model.stream(question)) text += typeof chunk.content === 'string' ? chunk.content : ''
      texts.push(text)
    }
    expect(texts[0]).toBe(fakeChatAnswer({ messages: [{ role: 'user', content: question }] }))
    expect(texts).toEqual([texts[0], texts[0], texts[0]])
    expect(fake.callCount('/v1/chat/completions')).toBe(1)
  })

  it('invoke is answered from the cache on the second identical call', async () => {
    const model = chatModel()
    const question = 'What does a cache keep?'
    const first = await model.invoke(question)
    const second = await model.invoke(question)
    expect(first.content).toBe(fakeChatAnswer({ messages: [{ role: 'user', content: question }] }))
    expect(second.content).toBe(first.content)
    expect(fake.callCount('/v1/chat/completions')).toBe(1)
  })
})
