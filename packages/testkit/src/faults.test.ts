import OpenAI from 'openai'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { startFakeUpstream, type FakeUpstream } from './index.js'

let fake: FakeUpstream
let client: OpenAI
const chatRequest = { model: 'gpt-4o-mini', messages: [{ role: 'user' as const, content: 'Hello' }] }

beforeAll(async () => {
  fake = await startFakeUpstream()
  client = new OpenAI({ baseURL: fake.url, apiKey: 'sk-test', maxRetries: 0 })
})
afterAll(() => fake.close())
beforeEach(() => {
  fake.reset()
  fake.setLatency(0)
  fake.setChunkDelay(0)
  fake.setDoneTail(10)
})

describe('faults', () => {
  it('answers a status fault with an OpenAI error body and headers, once', async () => {
    fake.inject({ status: 429, headers: { 'retry-after': '2' } })
    const error = await client.chat.completions.create(chatRequest).catch((caught: unknown) => caught)
    expect(error).toBeInstanceOf(OpenAI.RateLimitError)
    const rateLimit = error as InstanceType<typeof OpenAI.RateLimitError>
    expect(rateLimit.headers.get('retry-after')).toBe('2')
    expect(rateLimit.code).toBe('rate_limit_exceeded')
    await expect(client.chat.completions.create(chatRequest)).resolves.toBeDefined()
  })

  it('lets the client retry through a fault lasting `times` matching calls', async () => {
    const retrying = new OpenAI({ baseURL: fake.url, apiKey: 'sk-test', maxRetries: 2 })
    fake.inject({ status: 500, times: 2, headers: { 'retry-after-ms': '1' }, match: (call) => call.path === '/v1/chat/completions' })
    await retrying.embeddings.create({ model: 'text-embedding-3-small', input: 'unaffected' })
    await expect(retrying.chat.completions.create(chatRequest)).resolves.toBeDefined()
    expect(fake.callCount('/v1/chat/completions')).toBe(3)
  })

  it('a seeded probabilistic fault answers the same calls in every run', async () => {
    async function pattern(): Promise<number[]> {
      fake.reset()
      fake.inject({ status: 503, probability: 0.3, seed: 7, times: Number.POSITIVE_INFINITY })
      const statuses: number[] = []
      for (let index = 0; index < 30; index++) {
        const response = await fetch(`${fake.url}/chat/completions`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: 'Bearer sk-test' },
          body: JSON.stringify(chatRequest),
        })
        await response.arrayBuffer()
        statuses.push(response.status)
      }
      return statuses
    }
    const first = await pattern()
    expect(new Set(first)).toEqual(new Set([200, 503]))
    expect(await pattern()).toEqual(first)
  })

  it('drops the connection before headers', async () => {
    fake.inject({ drop: 'before-headers' })
    await expect(client.chat.completions.create(chatRequest)).rejects.toBeInstanceOf(OpenAI.APIConnectionError)
    await fake.settled()
    expect(fake.calls[0]).toMatchObject({ completed: false, aborted: true })
  })

  it('drops an SSE stream midway', async () => {
    fake.inject({ drop: 'mid-body' })
    const stream = await client.chat.completions.create({ ...chatRequest, stream: true })
    let chunkCount = 0
    const consume = async (): Promise<void> => {
      for await (const _chunk of stream) chunkCount++
    }
    await expect(consume()).rejects.toThrow()
    expect(chunkCount).toBeGreaterThan(0)
  })

  it('ends an SSE stream cleanly without [DONE]', async () => {
    fake.inject({ drop: 'before-done' })
    const response = await fetch(`${fake.url}/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ ...chatRequest, stream: true }),
    })
    const text = await response.text()
    expect(text).toContain('chat.completion.chunk')
    expect(text).not.toContain('[DONE]')
  })

  it('fails a stream halfway with an error event, then [DONE], in either form', async () => {
    for (const kind of ['data', 'event'] as const) {
      fake.inject({ streamError: kind })
      const response = await fetch(`${fake.url}/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ ...chatRequest, stream: true }),
      })
      const text = await response.text()
      expect(text, kind).toContain('chat.completion.chunk')
      const errorFrame = kind === 'event' ? /event: error\ndata: \{"error":\{"message":/ : /\n\ndata: \{"error":\{"message":/
      expect(text, kind).toMatch(errorFrame)
      expect(text.endsWith('data: [DONE]\n\n'), kind).toBe(true)
    }
    // The official client sees the failure.
    fake.inject({ streamError: 'data' })
    const consume = async () => {
      for await (const _chunk of await client.chat.completions.create({ ...chatRequest, stream: true })) {
        // Read until the error event.
      }
    }
    await expect(consume()).rejects.toBeInstanceOf(OpenAI.APIError)
  })

  it('drops a JSON body midway', async () => {
    fake.inject({ drop: 'mid-body' })
    await expect(client.chat.completions.create(chatRequest)).rejects.toThrow()
  })

  it('stalls a JSON body midway, keeping the connection open until the client leaves', async () => {
    fake.inject({ drop: 'stall-mid-body' })
    const controller = new AbortController()
    const response = await fetch(`${fake.url}/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(chatRequest),
      signal: controller.signal,
    })
    expect(response.status).toBe(200)
    const reader = response.body!.getReader()
    const first = await reader.read()
    expect(first.done).toBe(false)
    expect(Number(response.headers.get('content-length'))).toBeGreaterThan(first.value!.byteLength)
    expect(fake.calls[0]).toMatchObject({ completed: false, aborted: false })
    controller.abort()
    await fake.settled()
    expect(fake.calls[0]).toMatchObject({ completed: false, aborted: true })
  })

  it('delays by fault, by setLatency and by the x-fake-latency-ms header', async () => {
    const elapsedMs = async (headers: Record<string, string> = {}): Promise<number> => {
      const startedAt = performance.now()
      await client.chat.completions.create(chatRequest, { headers })
      return performance.now() - startedAt
    }
    fake.inject({ delayMs: 100 })
    expect(await elapsedMs()).toBeGreaterThanOrEqual(95)
    fake.setLatency(100)
    expect(await elapsedMs()).toBeGreaterThanOrEqual(95)
    // The header overrides a latency far longer than any machine's scheduling delay.
    fake.setLatency(10_000)
    expect(await elapsedMs({ 'x-fake-latency-ms': '0' })).toBeLessThan(5_000)
  })

  it('records a call the client aborted mid-stream', async () => {
    fake.setChunkDelay(50)
    const controller = new AbortController()
    const response = await fetch(`${fake.url}/chat/completions`, {
      method: 'POST',
      body: JSON.stringify({ ...chatRequest, stream: true }),
      signal: controller.signal,
    })
    const reader = response.body?.getReader()
    expect((await reader?.read())?.done).toBe(false)
    controller.abort()
    await fake.settled()
    expect(fake.calls[0]).toMatchObject({ completed: false, aborted: true })
  })

  it('records a call the client aborted while waiting for headers', async () => {
    fake.setLatency(10_000)
    const controller = new AbortController()
    const pending = client.chat.completions.create(chatRequest, { signal: controller.signal })
    // Abort only once the fake has the call, however slow the machine is.
    while (fake.callCount() === 0) await new Promise((resolve) => setTimeout(resolve, 5))
    controller.abort()
    await expect(pending).rejects.toThrow()
    await fake.settled()
    expect(fake.calls[0]?.aborted).toBe(true)
  })
})
