import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { createAiCache } from '@aicache/express'
import { type FakeUpstream, startFakeUpstream } from '@aicache/testkit'
import OpenAI from 'openai'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createGatewayApp } from './app.js'

describe('gateway: a prompt of megabytes in one unbroken run, under a token rate limit', () => {
  let fake: FakeUpstream
  let server: Server
  let url: string
  beforeAll(async () => {
    fake = await startFakeUpstream()
    const engine = createAiCache({ upstream: fake.url, rateLimit: { tokensPerMinute: 5_000_000 } })
    server = createGatewayApp(engine, undefined).listen(0, '127.0.0.1')
    await new Promise((resolve) => server.once('listening', resolve))
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`
  })
  afterAll(async () => {
    server.closeAllConnections()
    server.close()
    await fake.close()
  })

  it('answers it, and a normal request sent right after it is answered too, without waiting on it', async () => {
    const openai = new OpenAI({ baseURL: url, apiKey: 'sk-a', maxRetries: 0, timeout: 60_000 })
    const huge = openai.chat.completions
      .create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'x'.repeat(3 * 1024 * 1024) }], max_tokens: 16 })
      .withResponse()
    // Sent once the huge request is on its way; before the fix it waited behind
    // the tokenizer's quadratic work on the huge prompt (hours for 3 MB).
    await new Promise((resolve) => setTimeout(resolve, 50))
    const normal = await openai.chat.completions
      .create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Why is my transfer pending?' }] }, { timeout: 15_000 })
      .withResponse()
    expect(normal.response.status).toBe(200)
    expect(normal.data.choices[0]?.message.content).toMatch(/transfer pending/)
    const answered = await huge
    expect(answered.response.status).toBe(200)
    // The fake counts the prompt by pieces too, and the gateway reserved at least what was used.
    const used = answered.data.usage?.prompt_tokens ?? 0
    expect(used).toBeGreaterThan(300_000)
    const remaining = Number(answered.response.headers.get('x-ratelimit-remaining-tokens'))
    expect(5_000_000 - remaining).toBeGreaterThanOrEqual(used)
  }, 60_000)
})
