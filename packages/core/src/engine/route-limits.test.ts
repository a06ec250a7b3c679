import { type RedisServer, skipWithoutRedis, startRedisServer } from '@aicache/testkit/redis'
import { Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { createRateLimiter } from '../limits/rate-limiter.js'
import { createRedisCounterStore } from '../limits/redis-counter-store.js'
import { RouteLimiters } from './route-limits.js'

describe('RouteLimiters', () => {
  const engineLimiter = createRateLimiter({ requestsPerMinute: 100 })

  it("uses the engine's limiter without route limits, none for false, one per distinct set of limits", () => {
    const limiters = new RouteLimiters()
    expect(limiters.for(undefined, engineLimiter)).toBe(engineLimiter)
    expect(limiters.for({ namespace: 'a' }, engineLimiter)).toBe(engineLimiter)
    expect(limiters.for({ rateLimit: false }, engineLimiter)).toBeUndefined()
    const strict = limiters.for({ rateLimit: { requestsPerMinute: 2 } }, engineLimiter)
    expect(strict).not.toBe(engineLimiter)
    // Equal limits from another route (another object, and below in another key order) share counters.
    expect(limiters.for({ rateLimit: { requestsPerMinute: 2 } }, engineLimiter)).toBe(strict)
    const both = limiters.for({ rateLimit: { requestsPerMinute: 2, tokensPerMinute: 10 } }, engineLimiter)
    expect(limiters.for({ rateLimit: { tokensPerMinute: 10, requestsPerMinute: 2 } }, engineLimiter)).toBe(both)
    expect(both).not.toBe(strict)
  })

  it('counts route limits by address when callers could mint credentials (upstreamApiKey with the credential scope)', () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {})
    const limiters = new RouteLimiters(true)
    expect(limiters.for({ rateLimit: { requestsPerMinute: 2 } }, engineLimiter)?.options.identity).toBe('address')
    expect(limiters.for({ rateLimit: { requestsPerMinute: 3, identity: 'scope' } }, engineLimiter)?.options.identity).toBe('address')
    expect(warn).toHaveBeenCalledTimes(1)
    expect(limiters.for({ rateLimit: { requestsPerMinute: 4, identity: { header: 'x-user' } } }, engineLimiter)?.options.identity).toEqual({ header: 'x-user' })
    expect(new RouteLimiters().for({ rateLimit: { requestsPerMinute: 2 } }, engineLimiter)?.options.identity).toBe('scope')
    warn.mockRestore()
  })
})

describe.skipIf(skipWithoutRedis())('RouteLimiters on Redis', () => {
  let server: RedisServer
  const clients: Redis[] = []
  beforeAll(async () => {
    server = await startRedisServer()
  })
  afterAll(async () => {
    for (const client of clients) client.disconnect()
    await server.stop()
  })

  function instance(): RouteLimiters {
    const client = new Redis(server.url)
    clients.push(client)
    const limiters = new RouteLimiters()
    limiters.useStore((prefix) => createRedisCounterStore(client, { prefix }))
    return limiters
  }

  it("shares a route's budget between instances, apart from the engine's counters", async () => {
    const [first, second] = [instance(), instance()]
    const route = { rateLimit: { requestsPerMinute: 2 } }
    const admit = (limiters: RouteLimiters) => limiters.for({ ...route }, undefined)!.admit('tenant-a', { estimatedTokens: 0 })
    expect((await admit(first)).allowed).toBe(true)
    expect((await admit(second)).allowed).toBe(true)
    expect((await admit(first)).allowed).toBe(false)
    // Another scope has its own budget on the route.
    expect((await first.for(route, undefined)!.admit('tenant-b', { estimatedTokens: 0 })).allowed).toBe(true)
    const keys = await clients[0]!.keys('*')
    expect(keys.length).toBeGreaterThan(0)
    expect(keys.every((key) => key.startsWith('aicache:rate:route:'))).toBe(true)
  })
})
