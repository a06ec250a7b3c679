import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { createAiCache } from '@aicache/express'
import { type FakeUpstream, startFakeUpstream } from '@aicache/testkit'
import OpenAI from 'openai7'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { createGatewayApp } from './app.js'

/**
 * An upstream that fails a generation the way vLLM and some
 * OpenAI-compatible servers do: half the answer, an error event, then
 * `data: [DONE]`. The gateway must keep nothing of it.
 */
describe('the gateway and streams that report an error', () => {
  let fake: FakeUpstream
  let server: Server
  let openai: OpenAI
  beforeAll(async () => {
    fake = await startFakeUpstream()
    server = createGatewayApp(createAiCache({ upstream: fake.url }), undefined).listen(0, '127.0.0.1')
    await new Promise((resolve) => server.once('listening', resolve))
    openai = new OpenAI({ baseURL: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`, apiKey: 'sk-a', maxRetries: 0 })
  })
  afterEach(() => fake.reset())
  afterAll(async () => {
    server.closeAllConnections()
    server.close()
    await fake.close()
  })

  async function read(content: string): Promise<string> {
    const stream = await openai.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content }], stream: true })
    let text = ''
    for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? ''
    return text
  }

  it.each(['data', 'event'] as const)('sends the next identical request upstream again after an error event in %s form', async (kind) => {
    const content = `A generation that fails (${kind})`
    fake.inject({ streamError: kind })
    await expect(read(content)).rejects.toBeInstanceOf(OpenAI.APIError)
    const whole = await read(content)
    expect(whole.length).toBeGreaterThan(0)
    expect(fake.callCount('/v1/chat/completions')).toBe(2)
    // The complete answer that followed is the one kept.
    expect(await read(content)).toBe(whole)
    expect(fake.callCount('/v1/chat/completions')).toBe(2)
  })
})
