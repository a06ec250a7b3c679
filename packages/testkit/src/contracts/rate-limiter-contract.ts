import type { ContractRunner } from './runner.js'

/** The limits the suite sets, as `@aicache/core`'s `RateLimitOptions` takes them. */
export interface ContractRateLimitOptions {
  requestsPerMinute?: number
  tokensPerMinute?: number
  countHits?: { requests?: boolean; tokens?: boolean }
}

/** A request let through, as `@aicache/core`'s rate limiter answers. */
export interface ContractAdmission {
  allowed: true
  headers: Record<string, string>
  settle(actualTokens: number): Promise<void>
  settleHit(cachedTokens: number): Promise<void>
  release(): Promise<void>
}

/** A request refused. */
export interface ContractRejection {
  allowed: false
  headers: Record<string, string>
  retryAfterMs: number
  limit: string
  requestTooLarge: boolean
}

/** The limiter the suite drives. */
export interface ContractRateLimiter {
  admit(scope: string, request: { estimatedTokens: number }): Promise<ContractAdmission | ContractRejection>
}

/** How to run the rate-limiter contract over one counter store. */
export interface RateLimiterContractOptions<Store> {
  /** Shown in the suite's name, e.g. `'Redis'`. */
  name: string
  /** A new, empty store; called once a test. */
  createStore(): Store
  /**
   * `createRateLimiter` of `@aicache/core`: the algorithm is written once, so
   * the suite runs that one algorithm over the store under test. `now` is a
   * clock the tests move; `storeTimeoutMs` is generous.
   */
  createRateLimiter(options: ContractRateLimitOptions, setup: { store: Store; now: () => number; storeTimeoutMs: number }): ContractRateLimiter
}

/**
 * The one limiter test suite every counter store runs: the algorithm is the
 * same, so the answers must be too. Time is a number the tests move.
 *
 * @example
 * ```ts
 * import { afterAll, beforeAll, describe, expect, it } from 'vitest'
 * import { describeRateLimiterContract } from '@aicache/testkit/contracts'
 *
 * describeRateLimiterContract({ describe, it, expect, beforeAll, afterAll }, {
 *   name: 'my counter store',
 *   createStore: () => new MyCounterStore(),
 *   createRateLimiter,
 * })
 * ```
 */
export function describeRateLimiterContract<Store>(runner: ContractRunner, options: RateLimiterContractOptions<Store>): void {
  const { describe, it, expect } = runner
  const { name, createStore, createRateLimiter } = options
  describe(`rate limiter over the ${name} store`, () => {
    function setup(options: ContractRateLimitOptions) {
      const clock = { nowMs: 1_700_000_000_000 }
      const limiter = createRateLimiter(options, { store: createStore(), now: () => clock.nowMs, storeTimeoutMs: 5_000 })
      return { limiter, clock }
    }

    async function admitted(decision: Promise<ContractAdmission | ContractRejection>): Promise<ContractAdmission> {
      const result = await decision
      expect(result.allowed).toBe(true)
      return result as ContractAdmission
    }

    async function rejected(decision: Promise<ContractAdmission | ContractRejection>): Promise<ContractRejection> {
      const result = await decision
      expect(result.allowed).toBe(false)
      return result as ContractRejection
    }

    it('admits a minute of requests, then rejects with the OpenAI headers and when to retry', async () => {
      const { limiter } = setup({ requestsPerMinute: 60 })
      const first = await admitted(limiter.admit('alice', { estimatedTokens: 10 }))
      expect(first.headers).toEqual({
        'x-ratelimit-limit-requests': '60',
        'x-ratelimit-remaining-requests': '59',
        'x-ratelimit-reset-requests': '1s',
      })
      for (let index = 1; index < 60; index++) await admitted(limiter.admit('alice', { estimatedTokens: 10 }))
      const rejection = await rejected(limiter.admit('alice', { estimatedTokens: 10 }))
      expect(rejection).toMatchObject({ retryAfterMs: 1_000, limit: 'requests', requestTooLarge: false })
      expect(rejection.headers).toEqual({
        'x-ratelimit-limit-requests': '60',
        'x-ratelimit-remaining-requests': '0',
        'x-ratelimit-reset-requests': '1m0s',
        'retry-after': '1',
      })
    })

    it('refills continuously: after retryAfterMs the next request fits', async () => {
      const { limiter, clock } = setup({ requestsPerMinute: 2 })
      await admitted(limiter.admit('alice', { estimatedTokens: 0 }))
      await admitted(limiter.admit('alice', { estimatedTokens: 0 }))
      const rejection = await rejected(limiter.admit('alice', { estimatedTokens: 0 }))
      expect(rejection.retryAfterMs).toBe(30_000)
      clock.nowMs += 29_999
      await rejected(limiter.admit('alice', { estimatedTokens: 0 }))
      clock.nowMs += 1
      await admitted(limiter.admit('alice', { estimatedTokens: 0 }))
    })

    it('keeps scopes apart', async () => {
      const { limiter } = setup({ requestsPerMinute: 1 })
      await admitted(limiter.admit('alice', { estimatedTokens: 0 }))
      await admitted(limiter.admit('bob', { estimatedTokens: 0 }))
      await rejected(limiter.admit('alice', { estimatedTokens: 0 }))
    })

    it('reserves the estimated tokens and rejects a request that does not fit what is left', async () => {
      const { limiter } = setup({ requestsPerMinute: 100, tokensPerMinute: 1_000 })
      const admission = await admitted(limiter.admit('alice', { estimatedTokens: 600 }))
      expect(admission.headers).toMatchObject({ 'x-ratelimit-remaining-tokens': '400', 'x-ratelimit-reset-tokens': '36s' })
      const rejection = await rejected(limiter.admit('alice', { estimatedTokens: 500 }))
      // 100 tokens short at 1,000 a minute: 6 s.
      expect(rejection).toMatchObject({ retryAfterMs: 6_000, limit: 'tokens', requestTooLarge: false })
      expect(rejection.headers).toMatchObject({ 'x-ratelimit-remaining-tokens': '400', 'x-ratelimit-remaining-requests': '99', 'retry-after': '6' })
      // The refused request spent nothing, not even a request.
      const next = await admitted(limiter.admit('alice', { estimatedTokens: 400 }))
      expect(next.headers).toMatchObject({ 'x-ratelimit-remaining-requests': '98', 'x-ratelimit-remaining-tokens': '0' })
    })

    it('rejects a request larger than the whole tokens budget as too large', async () => {
      const { limiter } = setup({ tokensPerMinute: 1_000 })
      const rejection = await rejected(limiter.admit('alice', { estimatedTokens: 1_001 }))
      expect(rejection).toMatchObject({ limit: 'tokens', requestTooLarge: true, retryAfterMs: 60_000 })
    })

    it('settling returns the unused tokens, so a later request fits', async () => {
      const { limiter } = setup({ tokensPerMinute: 1_000 })
      const admission = await admitted(limiter.admit('alice', { estimatedTokens: 900 }))
      await rejected(limiter.admit('alice', { estimatedTokens: 800 }))
      await admission.settle(100)
      const next = await admitted(limiter.admit('alice', { estimatedTokens: 800 }))
      expect(next.headers['x-ratelimit-remaining-tokens']).toBe('100')
    })

    it('settling more than the estimate spends the difference', async () => {
      const { limiter } = setup({ tokensPerMinute: 1_000 })
      const admission = await admitted(limiter.admit('alice', { estimatedTokens: 100 }))
      await admission.settle(700)
      await rejected(limiter.admit('alice', { estimatedTokens: 400 }))
      await admitted(limiter.admit('alice', { estimatedTokens: 300 }))
    })

    it('release gives back the request and the tokens', async () => {
      const { limiter } = setup({ requestsPerMinute: 1, tokensPerMinute: 1_000 })
      const admission = await admitted(limiter.admit('alice', { estimatedTokens: 1_000 }))
      await admission.release()
      await admitted(limiter.admit('alice', { estimatedTokens: 1_000 }))
    })

    it('a hit keeps its request but returns its tokens by default, and settles only once', async () => {
      const { limiter } = setup({ requestsPerMinute: 2, tokensPerMinute: 1_000 })
      const admission = await admitted(limiter.admit('alice', { estimatedTokens: 1_000 }))
      await admission.settleHit(300)
      await admission.release() // too late: the hit settled it
      const next = await admitted(limiter.admit('alice', { estimatedTokens: 1_000 }))
      expect(next.headers['x-ratelimit-remaining-requests']).toBe('0')
    })

    it('hits spend what countHits says', async () => {
      const { limiter } = setup({ requestsPerMinute: 1, tokensPerMinute: 1_000, countHits: { requests: false, tokens: true } })
      const admission = await admitted(limiter.admit('alice', { estimatedTokens: 1_000 }))
      await admission.settleHit(300)
      const next = await admitted(limiter.admit('alice', { estimatedTokens: 700 }))
      expect(next.headers).toMatchObject({ 'x-ratelimit-remaining-requests': '0', 'x-ratelimit-remaining-tokens': '0' })
    })
  })
}
