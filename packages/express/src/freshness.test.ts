import { type FakeUpstream, startFakeUpstream } from '@aicache/testkit'
import express from 'express'
import OpenAI from 'openai'
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import { aiCache } from './index.js'
import { listen } from '../test/support/test-apps.js'

const question = { model: 'gpt-4o-mini', messages: [{ role: 'user' as const, content: 'When does my plan renew?' }] }
const t0 = new Date('2026-01-01T00:00:00Z').getTime()

// Only the clock is faked (entries are dated with Date.now); sockets and timers are real.
describe('express adapter: stale answers set on the route, read by the openai client', () => {
  let fake: FakeUpstream
  const closers: Array<() => Promise<void>> = []
  beforeAll(async () => {
    fake = await startFakeUpstream()
  })
  afterEach(async () => {
    vi.useRealTimers()
    await Promise.all(closers.splice(0).map((close) => close()))
    fake.reset()
  })
  afterAll(() => fake.close())

  async function serve(route: Parameters<typeof aiCache>[1]) {
    const app = express()
    const middleware = aiCache({ upstream: fake.url, ttlMs: 60_000, retry: false }, route)
    app.use(middleware)
    const running = await listen(app)
    closers.push(async () => {
      await running.close()
      await middleware.engine.close()
    })
    return { engine: middleware.engine, openai: new OpenAI({ baseURL: `${running.url}/v1`, apiKey: 'sk-a', maxRetries: 0 }) }
  }

  it('stale-while-revalidate from the route options: a stream replayed stale, its refresh recorded as a stream', async () => {
    vi.useFakeTimers({ toFake: ['Date'] })
    vi.setSystemTime(t0)
    const { engine, openai } = await serve({ staleWhileRevalidateMs: 120_000 })
    const read = async () => {
      const { data: stream, response } = await openai.chat.completions.create({ ...question, stream: true }).withResponse()
      let text = ''
      for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? ''
      return { text, cacheStatus: response.headers.get('cache-status') ?? '' }
    }
    const first = await read()
    vi.setSystemTime(t0 + 90_000)
    const stale = await read()
    expect(stale).toEqual({ text: first.text, cacheStatus: 'aicache; hit; ttl=-30; detail=stale-while-revalidate' })
    await vi.waitFor(() => expect(engine.stats().refreshes.stored).toBe(1), { timeout: 5_000 })
    expect(fake.calls).toHaveLength(2)
    expect((fake.calls[1]!.body as { stream?: boolean }).stream).toBe(true)
    const refreshed = await read()
    expect(refreshed.cacheStatus).toMatch(/^aicache; hit; ttl=\d+; detail=l1$/)
    expect(engine.stats().stale).toEqual({ error: 0, revalidate: 1 })
  })

  it('stale-if-error from the route options; a request with stale-if-error=0 gets the failure', async () => {
    vi.useFakeTimers({ toFake: ['Date'] })
    vi.setSystemTime(t0)
    const { openai } = await serve({ staleIfErrorMs: 3_600_000 })
    const first = await openai.chat.completions.create(question)
    vi.setSystemTime(t0 + 120_000)
    fake.inject({ status: 502, times: 2 })
    const { data, response } = await openai.chat.completions.create(question).withResponse()
    expect(data.choices[0]!.message.content).toBe(first.choices[0]!.message.content)
    expect(response.headers.get('cache-status')).toBe('aicache; hit; ttl=-60; detail=stale-if-error')
    await expect(openai.chat.completions.create(question, { headers: { 'cache-control': 'stale-if-error=0' } })).rejects.toMatchObject({ status: 502 })
  })
})
