import { type FakeUpstream, startFakeUpstream } from '@aicache/testkit'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createApp } from './app.js'

describe('fastify-app', () => {
  let fake: FakeUpstream
  beforeAll(async () => {
    fake = await startFakeUpstream()
  })
  afterAll(() => fake.close())

  it('answers a repeated /chat from the cache and keeps its own routes working', async () => {
    const app = createApp({ modelBaseUrl: fake.url })
    try {
      const base = await app.listen({ port: 0, host: '127.0.0.1' })
      const chat = () =>
        fetch(`${base}/chat`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ prompt: 'Which grinder should I buy?' }),
        })
      const first = await chat()
      const second = await chat()
      expect(first.headers.get('cache-status')).toMatch(/fwd=uri-miss/)
      expect(second.headers.get('cache-status')).toMatch(/hit/)
      expect(await second.json()).toEqual(await first.json())
      expect(fake.callCount('/v1/chat/completions')).toBe(1)
      expect(app.aiCache.stats().tokensSaved.input).toBeGreaterThan(0)
      expect(await (await fetch(`${base}/health`)).json()).toEqual({ ok: true })
      expect(await (await fetch(`${base}/products`)).json()).toHaveLength(3)
    } finally {
      await app.close()
    }
  })
})
