import { describe, expect, it } from 'vitest'
import { AiCacheError } from '../errors.js'
import { resolveResilienceOptions } from './resilience-options.js'

function caught(run: () => unknown): AiCacheError {
  try {
    run()
  } catch (error) {
    if (error instanceof AiCacheError) return error
    throw error
  }
  throw new Error('expected an AiCacheError')
}

describe('resolveResilienceOptions', () => {
  it('fills in every default, with pacing off', () => {
    expect(resolveResilienceOptions()).toEqual({
      retry: {
        maxAttempts: 3,
        baseDelayMs: 250,
        maxDelayMs: 8_000,
        maxRetryAfterMs: 30_000,
        deadlineMs: 60_000,
        budgetRatio: 0.5,
        budgetWindowMs: 10_000,
        minRetriesPerWindow: 10,
      },
      circuitBreaker: {
        failureRateThreshold: 0.5,
        minimumCalls: 100,
        windowMs: 10_000,
        consecutiveFailures: 20,
        coolDownMs: 10_000,
        halfOpenProbes: 3,
      },
      concurrency: { maxConcurrent: 256, maxQueue: 1_000, overloadRetryAfterMs: 1_000 },
      upstreamBudget: false,
    })
  })

  it('freezes the result, leaves the input alone, and resolves its own output to the same', () => {
    const input = { retry: { maxAttempts: 5 }, upstreamBudget: { requestsPerMinute: 500 } }
    const resolved = resolveResilienceOptions(input)
    expect(Object.isFrozen(resolved)).toBe(true)
    expect(Object.isFrozen(resolved.retry)).toBe(true)
    expect(input).toEqual({ retry: { maxAttempts: 5 }, upstreamBudget: { requestsPerMinute: 500 } })
    expect(resolved.upstreamBudget).toEqual({ requestsPerMinute: 500, tokensPerMinute: undefined, maxQueue: 1_000, defaultMaxTokens: 1024 })
    expect(resolveResilienceOptions(resolved as never)).toEqual(resolved)
  })

  it('turns parts off with false', () => {
    const resolved = resolveResilienceOptions({ retry: false, circuitBreaker: false, concurrency: false, upstreamBudget: false })
    expect(resolved).toEqual({ retry: false, circuitBreaker: false, concurrency: false, upstreamBudget: false })
    expect(resolveResilienceOptions({ concurrency: { maxConcurrent: Number.POSITIVE_INFINITY } }).concurrency).toMatchObject({
      maxConcurrent: Number.POSITIVE_INFINITY,
    })
  })

  it('names the bad option', () => {
    const bad: Array<[unknown, string]> = [
      [{ retry: { maxAttempts: 0 } }, 'retry.maxAttempts'],
      [{ retry: { baseDelayMs: -1 } }, 'retry.baseDelayMs'],
      [{ retry: { budgetRatio: Number.NaN } }, 'retry.budgetRatio'],
      [{ retry: true }, 'retry'],
      [{ circuitBreaker: { failureThreshold: 5 } }, 'circuitBreaker.failureThreshold'],
      [{ circuitBreaker: { failureRateThreshold: 0 } }, 'circuitBreaker.failureRateThreshold'],
      [{ circuitBreaker: { failureRateThreshold: 1.5 } }, 'circuitBreaker.failureRateThreshold'],
      [{ circuitBreaker: { minimumCalls: 2.5 } }, 'circuitBreaker.minimumCalls'],
      [{ circuitBreaker: { windowMs: 0 } }, 'circuitBreaker.windowMs'],
      [{ circuitBreaker: { consecutiveFailures: 0 } }, 'circuitBreaker.consecutiveFailures'],
      [{ circuitBreaker: { halfOpenProbes: -1 } }, 'circuitBreaker.halfOpenProbes'],
      [{ concurrency: { maxQueue: -1 } }, 'concurrency.maxQueue'],
      [{ concurrency: 'lots' }, 'concurrency'],
      [{ upstreamBudget: { tokensPerMinute: 0 } }, 'upstreamBudget.tokensPerMinute'],
    ]
    for (const [input, param] of bad) {
      const error = caught(() => resolveResilienceOptions(input as never))
      expect(error).toMatchObject({ code: 'invalid_option', param })
      expect(error.message).toContain(`'${param}'`)
    }
  })
})
