import { afterEach, describe, expect, it, vi } from 'vitest'
import { AiCacheError } from '../errors.js'
import type { CounterStore } from './counter-store.js'
import { resolveRateLimitOptions } from './rate-limit-options.js'
import { createRateLimiter } from './rate-limiter.js'

describe('createRateLimiter', () => {
  afterEach(() => vi.useRealTimers())

  it('admits everything, with no headers, when no limit is set', async () => {
    const decision = await createRateLimiter({}).admit('alice', { estimatedTokens: 1e9 })
    expect(decision).toMatchObject({ allowed: true, headers: {} })
  })

  it('fails open when the store throws, and tells onStoreError', async () => {
    const failure = new Error('connection refused')
    const store: CounterStore = { update: () => Promise.reject(failure) }
    const onStoreError = vi.fn()
    const decision = await createRateLimiter({ requestsPerMinute: 1 }, { store, onStoreError }).admit('alice', { estimatedTokens: 0 })
    expect(decision).toMatchObject({ allowed: true, headers: {} })
    expect(onStoreError).toHaveBeenCalledWith(failure)
  })

  it('fails open when the store does not answer in storeTimeoutMs', async () => {
    vi.useFakeTimers()
    const store: CounterStore = { update: () => new Promise(() => {}) }
    const onStoreError = vi.fn()
    const decision = createRateLimiter({ requestsPerMinute: 1 }, { store, storeTimeoutMs: 200, onStoreError }).admit('alice', { estimatedTokens: 0 })
    await vi.advanceTimersByTimeAsync(200)
    await expect(decision).resolves.toMatchObject({ allowed: true, headers: {} })
    expect(onStoreError).toHaveBeenCalledTimes(1)
  })
})

describe('resolveRateLimitOptions', () => {
  it('fills in the defaults and freezes the result', () => {
    const resolved = resolveRateLimitOptions({ requestsPerMinute: 60 })
    expect(resolved).toEqual({
      requestsPerMinute: 60,
      tokensPerMinute: undefined,
      countHits: { requests: true, tokens: false },
      defaultMaxTokens: 1024,
      identity: 'scope',
    })
    expect(Object.isFrozen(resolved)).toBe(true)
    expect(Object.isFrozen(resolved.countHits)).toBe(true)
  })

  it('names the bad option', () => {
    const bad = [
      [{ requestsPerMinute: 0 }, 'rateLimit.requestsPerMinute'],
      [{ tokensPerMinute: Number.NaN }, 'rateLimit.tokensPerMinute'],
      [{ countHits: { tokens: 'yes' } }, 'rateLimit.countHits.tokens'],
      [{ defaultMaxTokens: 1.5 }, 'rateLimit.defaultMaxTokens'],
    ] as const
    for (const [input, param] of bad) {
      let caught: unknown
      try {
        resolveRateLimitOptions(input as never)
      } catch (error) {
        caught = error
      }
      expect(caught).toBeInstanceOf(AiCacheError)
      expect(caught).toMatchObject({ code: 'invalid_option', param })
      expect((caught as Error).message).toContain(param)
    }
  })
})
