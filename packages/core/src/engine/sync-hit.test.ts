import { createHook } from 'node:async_hooks'
import { type FakeUpstream, startFakeUpstream } from '@aicache/testkit'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { ExchangeRequest, Outcome } from '../exchange/types.js'
import { createAiCache } from '../index.js'

const body = Buffer.from(JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'How do I reset my PIN?' }] }))

/** A request whose body is already in memory, as Fastify's parser or express.raw() leave it. */
function heldBody(bytes: Buffer = body, headers: ExchangeRequest['headers'] = {}): ExchangeRequest {
  return {
    method: 'POST',
    path: '/v1/chat/completions',
    url: '/v1/chat/completions',
    headers: { 'content-type': 'application/json', authorization: 'Bearer sk-a', ...headers },
    readBody: () => bytes,
    bodyStream: async function* () {
      yield bytes
    },
    signal: new AbortController().signal,
  }
}

/** The same request, its body read from a stream. */
function streamedBody(): ExchangeRequest {
  return { ...heldBody(), readBody: async () => body }
}

/** Promises created while `work` runs (synchronously). */
function promisesCreatedBy<T>(work: () => T): { result: T; promises: number } {
  let promises = 0
  const hook = createHook({
    init(_id, type) {
      if (type === 'PROMISE') promises++
    },
  })
  hook.enable()
  try {
    return { result: work(), promises }
  } finally {
    hook.disable()
  }
}

async function settle(outcome: Outcome | Promise<Outcome>): Promise<Outcome> {
  const settled = await outcome
  if (settled.type === 'stream') for await (const _chunk of settled.body);
  return settled
}

describe('respond: a hit that waits for nothing is answered at once', () => {
  let fake: FakeUpstream
  beforeAll(async () => {
    fake = await startFakeUpstream()
  })
  afterAll(() => fake.close())

  it('answers a memory-tier hit on a held body as an outcome, creating no promise', async () => {
    const cache = createAiCache({ upstream: fake.url })
    await settle(cache.respond(heldBody()))
    const { result, promises } = promisesCreatedBy(() => cache.respond(heldBody()))
    expect(result).not.toBeInstanceOf(Promise)
    expect(promises).toBe(0)
    const hit = result as Outcome
    expect(hit.type).toBe('respond')
    expect((hit as { headers: Record<string, unknown> }).headers['cache-status']).toMatch(/hit; ttl=\d+; detail=l1/)
    expect(fake.calls).toHaveLength(1)
    expect(cache.stats()).toMatchObject({ hits: { l1: 1 }, misses: 1 })
  })

  it('answers bad input on a held body at once too, in the OpenAI error shape', () => {
    const cache = createAiCache({ upstream: fake.url })
    const outcome = cache.respond(heldBody(Buffer.from('{"model": ')))
    expect(outcome).not.toBeInstanceOf(Promise)
    const refused = outcome as Extract<Outcome, { type: 'respond' }>
    expect(refused.status).toBe(400)
    expect(JSON.parse(refused.body.toString('utf8')).error.code).toBe('invalid_json')
  })

  it('waits when the body has to be read, a miss, or a counted rate limit', async () => {
    const cache = createAiCache({ upstream: fake.url, rateLimit: { requestsPerMinute: 100, countHits: { requests: true } } })
    const miss = cache.respond(heldBody(body, { authorization: 'Bearer sk-b' }))
    expect(miss).toBeInstanceOf(Promise)
    await settle(miss)
    const streamed = cache.respond({ ...streamedBody(), headers: { ...streamedBody().headers, authorization: 'Bearer sk-b' } })
    expect(streamed).toBeInstanceOf(Promise)
    expect((await settle(streamed)).type).toBe('respond')
    // The limiter counts hits here, so even a held body waits for its verdict.
    const counted = cache.respond(heldBody(body, { authorization: 'Bearer sk-b' }))
    expect(counted).toBeInstanceOf(Promise)
    const answered = (await counted) as Extract<Outcome, { type: 'respond' }>
    expect(answered.headers['cache-status']).toMatch(/hit/)
    expect(answered.headers['x-ratelimit-remaining-requests']).toBeDefined()
  })

  it('handle() still always returns a promise', async () => {
    const cache = createAiCache({ upstream: fake.url })
    await settle(cache.handle(heldBody()))
    const hit = cache.handle(heldBody())
    expect(hit).toBeInstanceOf(Promise)
    expect((await hit).type).toBe('respond')
  })
})
