import { createHook } from 'node:async_hooks'
import { type FakeUpstream, startFakeUpstream } from '@aicache/testkit'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { ExchangeRequest, Outcome } from '../exchange/types.js'
import { createAiCache } from '../index.js'

const body = Buffer.from(JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'How do I reset my PIN?' }] }))

function heldBody(): ExchangeRequest {
  return {
    method: 'POST',
    path: '/v1/chat/completions',
    url: '/v1/chat/completions',
    headers: { 'content-type': 'application/json', authorization: 'Bearer sk-a' },
    readBody: () => body,
    bodyStream: async function* () {
      yield body
    },
    signal: new AbortController().signal,
  }
}

describe('the semantic cache and exact hits', () => {
  let fake: FakeUpstream
  beforeAll(async () => {
    fake = await startFakeUpstream()
  })
  afterAll(() => fake.close())

  it('leaves a memory-tier hit synchronous and promise-free, and never embeds for it', async () => {
    let embedded = 0
    const embed = {
      id: 'counting',
      embed: async (texts: readonly string[]) => {
        embedded += texts.length
        return texts.map(() => new Float32Array([1, 0, 0]))
      },
    }
    const cache = createAiCache({ upstream: fake.url, semantic: { embed } })
    const miss = await cache.respond(heldBody())
    expect(embedded).toBe(1)
    let promises = 0
    const hook = createHook({
      init(_id, type) {
        if (type === 'PROMISE') promises++
      },
    })
    hook.enable()
    let hit: Outcome | Promise<Outcome>
    try {
      hit = cache.respond(heldBody())
    } finally {
      hook.disable()
    }
    expect(hit).not.toBeInstanceOf(Promise)
    expect(promises).toBe(0)
    expect((hit as Outcome & { headers: Record<string, unknown> }).headers['cache-status']).toMatch(/detail=l1/)
    expect(embedded).toBe(1)
    expect(miss.type).toBe('respond')
    await cache.close()
  })
})
