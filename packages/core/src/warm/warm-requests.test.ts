import { type FakeUpstream, startFakeUpstream } from '@aicache/testkit'
import OpenAI from 'openai'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { createAiCache } from '../index.js'
import { startTestGateway } from '../../test/support/test-gateway.js'
import type { WarmRequest, WarmResult } from './warm-requests.js'

/** `engine.warm`: each request runs through the engine as a client's would, and every outcome is counted. */

const chat = (content: string, headers?: Record<string, string>): WarmRequest => ({
  format: 'chat',
  body: { model: 'gpt-4o-mini', messages: [{ role: 'user', content }] },
  ...(headers && { headers }),
})

describe('engine.warm', () => {
  let fake: FakeUpstream
  const closers: Array<() => Promise<void>> = []
  beforeAll(async () => {
    fake = await startFakeUpstream()
  })
  afterEach(async () => {
    await Promise.all(closers.splice(0).map((close) => close()))
    fake.reset()
  })
  afterAll(() => fake.close())

  async function gateway() {
    const started = await startTestGateway({ upstream: fake.url })
    closers.push(started.close)
    return started
  }

  it('stores misses, counts cached ones as cached, and the warmed answers are hits for callers with the same credential', async () => {
    const { cache, url } = await gateway()
    const requests = [
      chat('Where is my parcel?', { authorization: 'Bearer sk-a' }),
      { path: '/v1/chat/completions', ...chat('How do refunds work?', { Authorization: 'Bearer sk-a' }) },
    ]
    expect(await cache.warm(requests)).toMatchObject({ total: 2, stored: 2, cached: 0, failed: 0, invalid: 0 })
    expect(await cache.warm(requests)).toMatchObject({ total: 2, stored: 0, cached: 2 })
    expect(fake.callCount()).toBe(2)
    const openai = new OpenAI({ baseURL: `${url}/v1`, apiKey: 'sk-a', maxRetries: 0 })
    const { response } = await openai.chat.completions
      .create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Where is my parcel?' }] })
      .withResponse()
    expect(response.headers.get('cache-status')).toMatch(/hit.*detail=l1/)
  })

  it('counts a request repeated in the list once as stored, then as cached', async () => {
    const { cache } = await gateway()
    const report = await cache.warm([chat('Same question'), chat('Same question'), chat('Same question')], { concurrency: 1 })
    expect(report).toMatchObject({ total: 3, stored: 1, cached: 2 })
    expect(fake.callCount()).toBe(1)
  })

  it('counts items that are not requests as invalid, with the reason, and runs the rest', async () => {
    const { cache } = await gateway()
    const results: WarmResult[] = []
    const report = await cache.warm(
      [
        '{"format": "chat", "body": {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "Hello"}]}}',
        '{"format": "chat", "body": ',
        JSON.stringify({ format: 'chat' }),
        JSON.stringify({ format: 'fax', body: {} }),
        JSON.stringify({ path: '/v1/models', body: {} }),
        JSON.stringify({ format: 'chat', body: {}, headers: { 'x-aicache-ttl': 5 } }),
        '[1, 2]',
      ],
      { onResult: (result) => results.push(result) },
    )
    expect(report).toMatchObject({ total: 7, stored: 1, invalid: 6, failed: 0 })
    const reasons = results.sort((first, second) => first.index - second.index).map((result) => result.reason)
    expect(reasons).toEqual([
      undefined,
      expect.stringMatching(/^not JSON/),
      expect.stringMatching(/'body' must be a JSON object/),
      expect.stringMatching(/say 'path'.*chat, completion, embeddings, responses/),
      expect.stringMatching(/not a path the cache answers/),
      expect.stringMatching(/header 'x-aicache-ttl' must be a string/),
      expect.stringMatching(/JSON object/),
    ])
  })

  it('counts what the upstream refuses as failed, with its message, and what is not stored as uncached', async () => {
    const { cache } = await gateway()
    fake.inject({ status: 400, times: 1 })
    const results: WarmResult[] = []
    const report = await cache.warm([chat('Refused'), chat('Forwarded only', { 'cache-control': 'no-store' })], {
      concurrency: 1,
      onResult: (result) => results.push(result),
    })
    expect(report).toMatchObject({ total: 2, failed: 1, uncached: 1, stored: 0 })
    expect(results[0]).toMatchObject({ index: 0, outcome: 'failed', status: 400, reason: expect.any(String) })
    expect(results[1]).toMatchObject({ index: 1, outcome: 'uncached', status: 200, reason: 'no-store' })
  })

  it('stores a streamed request, which then answers the same request as a hit', async () => {
    const { cache } = await gateway()
    const stream: WarmRequest = { format: 'chat', body: { model: 'gpt-4o-mini', stream: true, messages: [{ role: 'user', content: 'Stream me' }] } }
    expect(await cache.warm([stream])).toMatchObject({ stored: 1 })
    expect(await cache.warm([stream])).toMatchObject({ cached: 1 })
  })

  it('stops starting requests once its signal aborts, and says how many it skipped', async () => {
    const { cache } = await gateway()
    const controller = new AbortController()
    const report = await cache.warm([chat('one'), chat('two'), chat('three')], {
      concurrency: 1,
      signal: controller.signal,
      onResult: () => controller.abort(),
    })
    expect(report).toMatchObject({ total: 3, stored: 1, skipped: 2 })
  })

  it('needs proxy mode', async () => {
    const cache = createAiCache()
    await expect(cache.warm([chat('Hello')])).rejects.toMatchObject({ code: 'invalid_option' })
  })
})
