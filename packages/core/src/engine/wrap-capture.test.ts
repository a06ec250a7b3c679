import { describe, expect, it } from 'vitest'
import type { ExchangeRequest, NextOutcome } from '../exchange/types.js'
import { createAiCache } from '../index.js'

function wrappedRequest(body: object): ExchangeRequest {
  const raw = Buffer.from(JSON.stringify(body))
  return {
    method: 'POST',
    path: '/chat',
    url: '/chat',
    headers: { 'content-type': 'application/json' },
    readBody: async () => raw,
    bodyStream: async function* () {
      yield raw
    },
    signal: new AbortController().signal,
  }
}

const answer = { status: 200, headers: { 'content-type': 'application/json', 'content-length': 13 } }

describe('wrap capture', () => {
  it('ignores a completion that comes after the response was abandoned', async () => {
    const cache = createAiCache()
    const outcome = (await cache.handle(wrappedRequest({ model: 'm', prompt: 'partial' }))) as NextOutcome
    outcome.capture?.write(Buffer.from('{"answer":1'))
    outcome.capture?.abandon()
    outcome.capture?.write(Buffer.from('}'))
    outcome.capture?.complete(answer)
    await new Promise((resolve) => setImmediate(resolve))
    expect(cache.stats().memory.entries).toBe(0)
  })

  it('keeps a completed answer when a close is reported after it', async () => {
    const cache = createAiCache()
    const outcome = (await cache.handle(wrappedRequest({ model: 'm', prompt: 'whole' }))) as NextOutcome
    outcome.capture?.write(Buffer.from('{"answer":1}'))
    outcome.capture?.complete(answer)
    outcome.capture?.abandon()
    await new Promise((resolve) => setImmediate(resolve))
    expect(cache.stats().memory.entries).toBe(1)
    const hit = await cache.handle(wrappedRequest({ model: 'm', prompt: 'whole' }))
    expect(hit).toMatchObject({ type: 'respond', status: 200 })
    expect(hit.type === 'respond' && hit.body.toString()).toBe('{"answer":1}')
  })

  it('takes route settings under the request headers', async () => {
    const cache = createAiCache()
    const request = { ...wrappedRequest({ prompt: 'routed' }), route: { namespace: 'route-ns', ttlMs: 0 } }
    const outcome = (await cache.handle(request)) as NextOutcome
    outcome.capture?.write(Buffer.from('{}'))
    outcome.capture?.complete(answer)
    await new Promise((resolve) => setImmediate(resolve))
    // ttlMs 0 from the route: nothing kept.
    expect(cache.stats().memory.entries).toBe(0)
  })
})
