import { describe, expect, it } from 'vitest'
import { resolveRouteOptions } from '../exchange/route-options.js'
import { resolveOptions } from '../options.js'
import { parseDirectives } from '../request/directives.js'
import { sampleEntry } from '../../test/support/store-entries.js'
import { stalePolicyOf, staleSeconds, staleUseOf } from './stale-policy.js'

describe('freshness options', () => {
  it('are off by default', () => {
    expect(resolveOptions({}).freshness).toEqual({ staleIfErrorMs: 0, staleWhileRevalidateMs: 0, refreshAhead: undefined, maxConcurrentRefreshes: 4 })
  })

  it('fill in refresh-ahead defaults and refuse bad values by name', () => {
    expect(resolveOptions({ refreshAhead: {} }).freshness.refreshAhead).toEqual({ minHitsPerMinute: 60, leadMs: 30_000, maxConcurrent: 4 })
    expect(() => resolveOptions({ staleIfErrorMs: -1 })).toThrow(/'staleIfErrorMs'/)
    expect(() => resolveOptions({ staleWhileRevalidateMs: 1.5 })).toThrow(/'staleWhileRevalidateMs'/)
    expect(() => resolveOptions({ refreshAhead: { leadMs: 0 } })).toThrow(/'refreshAhead.leadMs'/)
    expect(() => resolveOptions({ refreshAhead: { lead: 5 } as never })).toThrow(/'refreshAhead.lead'/)
    expect(() => resolveRouteOptions({ staleIfErrorMs: -5 })).toThrow(/'route.staleIfErrorMs'/)
    expect(resolveRouteOptions({ staleIfErrorMs: 5_000, staleWhileRevalidateMs: 0 })).toEqual({ staleIfErrorMs: 5_000, staleWhileRevalidateMs: 0 })
  })
})

describe('a request’s stale windows', () => {
  const engine = resolveOptions({ staleIfErrorMs: 600_000, staleWhileRevalidateMs: 60_000 }).freshness

  it('reads stale-if-error and stale-while-revalidate from the request’s Cache-Control (RFC 5861 on requests)', () => {
    expect(parseDirectives({ 'cache-control': 'stale-if-error=30, stale-while-revalidate="10"' })).toMatchObject({
      staleIfErrorSeconds: 30,
      staleWhileRevalidateSeconds: 10,
    })
    expect(() => parseDirectives({ 'cache-control': 'stale-if-error=soon' })).toThrow(/stale-if-error/)
  })

  it('takes the request’s, else the route’s, else the engine’s; the grace period from configuration only', () => {
    expect(stalePolicyOf(engine, undefined, parseDirectives({}))).toEqual({ staleIfErrorMs: 600_000, staleWhileRevalidateMs: 60_000, graceMs: 600_000 })
    const route = { staleIfErrorMs: 0, staleWhileRevalidateMs: 120_000 }
    expect(stalePolicyOf(engine, route, parseDirectives({}))).toEqual({ staleIfErrorMs: 0, staleWhileRevalidateMs: 120_000, graceMs: 120_000 })
    const asking = parseDirectives({ 'cache-control': 'stale-if-error=86400, stale-while-revalidate=0' })
    expect(stalePolicyOf(engine, route, asking)).toEqual({ staleIfErrorMs: 86_400_000, staleWhileRevalidateMs: 0, graceMs: 120_000 })
  })

  it('answers at once within stale-while-revalidate, only on error within stale-if-error, and not after', () => {
    const entry = sampleEntry({ createdAt: 0, ttlMs: 1_000 })
    const policy = stalePolicyOf(engine, undefined, parseDirectives({}))
    expect(staleUseOf(policy, entry, 999)).toBeUndefined()
    expect(staleUseOf(policy, entry, 1_000 + 60_000)).toBe('revalidate')
    expect(staleUseOf(policy, entry, 1_000 + 60_001)).toBe('if-error')
    expect(staleUseOf(policy, entry, 1_000 + 600_001)).toBeUndefined()
    expect(staleSeconds(entry, 1_001)).toBe(1)
    expect(staleSeconds(entry, 43_000)).toBe(42)
  })
})
