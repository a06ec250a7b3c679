import { AiCacheError } from '../errors.js'
import { nonNegativeIntegerOption, nonNegativeNumberOption, objectOption, positiveIntegerOption, positiveNumberOption } from '../option-checks.js'
import type { CircuitBreakerOptions } from '../resilience/circuit-breaker.js'
import type { ConcurrencyOptions } from '../resilience/concurrency-limiter.js'
import type { UpstreamBudgetOptions } from './upstream-budget.js'

/** How upstream calls are retried; `retry` in `AiCacheOptions`. */
export interface RetryOptions {
  /** Attempts in all, the first included; 1 turns retries off. @default 3 */
  maxAttempts?: number
  /** Backoff ceiling of the first retry; it doubles per retry (full jitter). @default 250 */
  baseDelayMs?: number
  /** Largest backoff ceiling. @default 8_000 */
  maxDelayMs?: number
  /** Longest upstream `Retry-After` waited for; a longer one ends retrying and hands the response back. @default 30_000 */
  maxRetryAfterMs?: number
  /** No retry starts later than this after the first attempt. @default 60_000 */
  deadlineMs?: number
  /** Retries may add at most this fraction of the request rate. @default 0.5 */
  budgetRatio?: number
  /** The sliding window the retry budget counts over. @default 10_000 */
  budgetWindowMs?: number
  /** Retries allowed per window whatever the traffic, so a quiet service can retry. @default 10 */
  minRetriesPerWindow?: number
}

/** Pacing to the upstream account's limits; `upstreamBudget` in `AiCacheOptions`. */
export interface UpstreamBudgetSettings extends UpstreamBudgetOptions {
  /** Completion tokens counted for a call without `max_tokens`. @default 1024 */
  defaultMaxTokens?: number
}

/**
 * How calls to the upstream survive its failures and limits. Each part can
 * be turned off with `false`; `upstreamBudget` is off until it has a limit.
 *
 * @example
 * ```ts
 * createAiCache({ upstream: 'https://api.openai.com/v1', retry: { maxAttempts: 4 }, upstreamBudget: { requestsPerMinute: 500 } })
 * ```
 */
export interface ResilienceOptions {
  /** @default { maxAttempts: 3, baseDelayMs: 250, maxDelayMs: 8_000, ... } */
  retry?: RetryOptions | false
  /** @default { failureRateThreshold: 0.5, minimumCalls: 100, windowMs: 10_000, consecutiveFailures: 20, coolDownMs: 10_000, halfOpenProbes: 3 } */
  circuitBreaker?: CircuitBreakerOptions | false
  /** @default { maxConcurrent: 256, maxQueue: 1_000 } */
  concurrency?: ConcurrencyOptions | false
  /** @default off */
  upstreamBudget?: UpstreamBudgetSettings | false
}

/** {@link ResilienceOptions} validated, every default filled in; `false` marks a part that is off. */
export interface ResolvedResilienceOptions {
  readonly retry: Readonly<Required<RetryOptions>> | false
  readonly circuitBreaker: Readonly<Required<CircuitBreakerOptions>> | false
  readonly concurrency: Readonly<Required<ConcurrencyOptions>> | false
  readonly upstreamBudget:
    Readonly<{ requestsPerMinute: number | undefined; tokensPerMinute: number | undefined; maxQueue: number; defaultMaxTokens: number }> | false
}

function part(name: string, value: unknown): Record<string, unknown> | false {
  if (value === false) return false
  if (value === true) {
    throw new AiCacheError('invalid_option', `Option '${name}' must be an object or false, got true`, { param: name })
  }
  return objectOption(name, value)
}

function resolveRetry(input: Record<string, unknown>): Required<RetryOptions> {
  return {
    maxAttempts: positiveIntegerOption('retry.maxAttempts', input['maxAttempts'], 3),
    baseDelayMs: nonNegativeNumberOption('retry.baseDelayMs', input['baseDelayMs'], 250),
    maxDelayMs: nonNegativeNumberOption('retry.maxDelayMs', input['maxDelayMs'], 8_000),
    maxRetryAfterMs: nonNegativeNumberOption('retry.maxRetryAfterMs', input['maxRetryAfterMs'], 30_000),
    deadlineMs: positiveNumberOption('retry.deadlineMs', input['deadlineMs'], 60_000),
    budgetRatio: nonNegativeNumberOption('retry.budgetRatio', input['budgetRatio'], 0.5),
    budgetWindowMs: positiveNumberOption('retry.budgetWindowMs', input['budgetWindowMs'], 10_000),
    minRetriesPerWindow: nonNegativeIntegerOption('retry.minRetriesPerWindow', input['minRetriesPerWindow'], 10),
  }
}

function resolveCircuitBreaker(input: Record<string, unknown>): Required<CircuitBreakerOptions> {
  // The old consecutive-only rule's option: silently ignoring it would leave a caller believing it is in force.
  if (input['failureThreshold'] !== undefined) {
    throw new AiCacheError(
      'invalid_option',
      "Option 'circuitBreaker.failureThreshold' is gone: the breaker opens on 'circuitBreaker.failureRateThreshold' over 'circuitBreaker.windowMs', or after 'circuitBreaker.consecutiveFailures' in a row",
      { param: 'circuitBreaker.failureThreshold' },
    )
  }
  const failureRateThreshold = positiveNumberOption('circuitBreaker.failureRateThreshold', input['failureRateThreshold'], 0.5)
  if (failureRateThreshold > 1) {
    throw new AiCacheError(
      'invalid_option',
      `Option 'circuitBreaker.failureRateThreshold' must be a share of calls above 0 and at most 1, got ${failureRateThreshold}`,
      { param: 'circuitBreaker.failureRateThreshold' },
    )
  }
  return {
    failureRateThreshold,
    minimumCalls: positiveIntegerOption('circuitBreaker.minimumCalls', input['minimumCalls'], 100),
    windowMs: positiveNumberOption('circuitBreaker.windowMs', input['windowMs'], 10_000),
    consecutiveFailures: positiveIntegerOption('circuitBreaker.consecutiveFailures', input['consecutiveFailures'], 20),
    coolDownMs: positiveNumberOption('circuitBreaker.coolDownMs', input['coolDownMs'], 10_000),
    halfOpenProbes: positiveIntegerOption('circuitBreaker.halfOpenProbes', input['halfOpenProbes'], 3),
  }
}

/**
 * Validates resilience options once, at start-up: a bad value throws
 * `AiCacheError('invalid_option')` naming it (`retry.maxAttempts`). Returns a
 * frozen, complete object; resolving it again gives the same.
 */
export function resolveResilienceOptions(input: ResilienceOptions = {}): ResolvedResilienceOptions {
  const retry = part('retry', input.retry)
  const breaker = part('circuitBreaker', input.circuitBreaker)
  const concurrency = part('concurrency', input.concurrency)
  const budget = part('upstreamBudget', input.upstreamBudget)
  return Object.freeze({
    retry: retry && Object.freeze(resolveRetry(retry)),
    circuitBreaker: breaker && Object.freeze(resolveCircuitBreaker(breaker)),
    concurrency:
      concurrency &&
      Object.freeze({
        maxConcurrent: positiveIntegerOption('concurrency.maxConcurrent', concurrency['maxConcurrent'], 256, true),
        maxQueue: nonNegativeIntegerOption('concurrency.maxQueue', concurrency['maxQueue'], 1_000),
        overloadRetryAfterMs: nonNegativeNumberOption('concurrency.overloadRetryAfterMs', concurrency['overloadRetryAfterMs'], 1_000),
      }),
    upstreamBudget: budget && resolveBudget(budget),
  })
}

function resolveBudget(input: Record<string, unknown>): ResolvedResilienceOptions['upstreamBudget'] {
  const requestsPerMinute = positiveNumberOption('upstreamBudget.requestsPerMinute', input['requestsPerMinute'], undefined)
  const tokensPerMinute = positiveNumberOption('upstreamBudget.tokensPerMinute', input['tokensPerMinute'], undefined)
  const maxQueue = nonNegativeIntegerOption('upstreamBudget.maxQueue', input['maxQueue'], 1_000)
  const defaultMaxTokens = positiveIntegerOption('upstreamBudget.defaultMaxTokens', input['defaultMaxTokens'], 1024)
  // A budget without a limit would only add a queue: it is off.
  if (requestsPerMinute === undefined && tokensPerMinute === undefined) return false
  return Object.freeze({ requestsPerMinute, tokensPerMinute, maxQueue, defaultMaxTokens })
}
