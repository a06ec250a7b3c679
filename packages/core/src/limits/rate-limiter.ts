import type { CounterChange, CounterStore, CounterUpdate } from './counter-store.js'
import { failOpen } from './fail-open-store.js'
import { createMemoryCounterStore } from './memory-counter-store.js'
import { type LimitName, type LimitState, rateLimitHeaders, retryAfterHeader } from './rate-limit-headers.js'
import { type RateLimitOptions, type ResolvedRateLimitOptions, resolveRateLimitOptions } from './rate-limit-options.js'

/** A request let through. Exactly one of `settle`, `settleHit`, `release` takes effect. */
export interface Admission {
  allowed: true
  /** `x-ratelimit-*` headers to answer with (empty when the store was unavailable). */
  headers: Record<string, string>
  /** The answer came from the upstream: spend its real usage instead of the estimate. */
  settle(actualTokens: number): Promise<void>
  /** The answer was a cache hit: spend what `countHits` says (`cachedTokens` only if hits count tokens). */
  settleHit(cachedTokens: number): Promise<void>
  /** Give the whole reservation back (e.g. the request failed before reaching the upstream). */
  release(): Promise<void>
}

/** A request refused: answer 429 with these headers (they include `retry-after`). */
export interface Rejection {
  allowed: false
  headers: Record<string, string>
  retryAfterMs: number
  /** The limit that refused it. */
  limit: LimitName
  /** The request alone needs more tokens than `tokensPerMinute`: waiting will not help. */
  requestTooLarge: boolean
}

/** Admits or refuses requests of a scope. Build one per app, not per request. */
export interface RateLimiter {
  /** The options it was made with, every default filled in. */
  readonly options: ResolvedRateLimitOptions
  admit(scope: string, request: { estimatedTokens: number }): Promise<Admission | Rejection>
}

/** What a limiter runs on, besides its options. */
export interface RateLimiterSetup {
  /** @default a new {@link createMemoryCounterStore} */
  store?: CounterStore
  /** @default Date.now */
  now?: () => number
  /** A store slower than this is treated as down (the request is admitted). @default 200 */
  storeTimeoutMs?: number
  /** Told when the store fails or times out and a request is admitted without it. */
  onStoreError?: (error: unknown) => void
}

const windowMs = 60_000
// Float slack, so a budget spent to exactly its limit is not refused by rounding.
const maxAheadMs = windowMs * (1 + 1e-9)

interface Limit {
  name: LimitName
  perMinute: number
  /** Milliseconds of budget one unit (a request, a token) takes. */
  intervalMs: number
}

/**
 * A rate limiter by GCRA, the generic cell rate algorithm (a token bucket
 * kept as a single time per limit): each request moves its limits' counters
 * forward by its cost; a request that would put a counter more than a minute
 * ahead is refused. Budgets refill continuously, exactly as OpenAI describes
 * its own limits, so `x-ratelimit-reset-*` means the same thing here, and a
 * full minute's limit may be spent in a burst. Requests and tokens are
 * decided together: both are spent or neither.
 *
 * If the store fails or is slow, requests are admitted (fail open), and a
 * circuit breaker stops asking a store that keeps failing for five seconds.
 *
 * @example
 * ```ts
 * const limiter = createRateLimiter({ requestsPerMinute: 60 })
 * const decision = await limiter.admit(scope, { estimatedTokens: 0 })
 * if (!decision.allowed) return answer429(decision.headers)
 * ```
 */
export function createRateLimiter(options: RateLimitOptions | ResolvedRateLimitOptions = {}, setup: RateLimiterSetup = {}): RateLimiter {
  const resolved = resolveRateLimitOptions(options as RateLimitOptions)
  const { store = createMemoryCounterStore(), now = Date.now, storeTimeoutMs = 200, onStoreError } = setup
  const limits: Limit[] = []
  const addLimit = (name: LimitName, perMinute: number | undefined) => {
    if (perMinute !== undefined) limits.push({ name, perMinute, intervalMs: windowMs / perMinute })
  }
  addLimit('requests', resolved.requestsPerMinute)
  addLimit('tokens', resolved.tokensPerMinute)
  // Timers and a breaker per call cost more than a memory store's whole update.
  const counters = store.local
    ? {
        update: (scope: string, changes: readonly CounterChange[]) => (changes.length === 0 ? Promise.resolve(undefined) : store.update(scope, changes, now())),
      }
    : failOpen(store, { now, timeoutMs: storeTimeoutMs, onStoreError })

  // The wait is until the fullest refusing counter has room for this request's cost.
  function waitUntilFits(result: CounterUpdate, changes: readonly CounterChange[]): [number, LimitName] {
    let waitMs = 0
    let refusedBy: LimitName = 'requests'
    limits.forEach((limit, index) => {
      const { addMs } = changes[index]!
      const limitWaitMs = result.values[index]! + addMs - windowMs - result.nowMs
      if (addMs > 0 && limitWaitMs > waitMs) [waitMs, refusedBy] = [limitWaitMs, limit.name]
    })
    return [waitMs, refusedBy]
  }

  function states(result: CounterUpdate): LimitState[] {
    return limits.map((limit, index) => {
      const aheadMs = result.values[index]! - result.nowMs
      // The epsilon keeps float noise from costing a whole unit of remaining budget.
      const remaining = Math.floor((windowMs - aheadMs) / limit.intervalMs + 1e-6)
      return { name: limit.name, limit: limit.perMinute, remaining, resetMs: aheadMs }
    })
  }

  function admission(scope: string, costs: Record<LimitName, number>, headers: Record<string, string>, failedOpen: boolean): Admission {
    let settled = false
    // Moves each limit by (spent - reserved) units; a refund never needs permission.
    const adjust = async (spent: Record<LimitName, number>) => {
      if (settled || failedOpen) return
      settled = true
      const changes = limits
        .filter((limit) => spent[limit.name] !== costs[limit.name])
        .map((limit) => ({ counter: limit.name, addMs: (spent[limit.name] - costs[limit.name]) * limit.intervalMs, maxAheadMs: Infinity }))
      await counters.update(scope, changes)
    }
    return {
      allowed: true,
      headers,
      settle: (actualTokens) => adjust({ requests: costs.requests, tokens: Math.max(0, actualTokens) }),
      settleHit: (cachedTokens) =>
        adjust({
          requests: resolved.countHits.requests ? costs.requests : 0,
          tokens: resolved.countHits.tokens ? Math.max(0, cachedTokens) : 0,
        }),
      release: () => adjust({ requests: 0, tokens: 0 }),
    }
  }

  async function admit(scope: string, request: { estimatedTokens: number }): Promise<Admission | Rejection> {
    const costs: Record<LimitName, number> = { requests: 1, tokens: Math.max(0, Math.ceil(request.estimatedTokens)) }
    const changes = limits.map((limit) => ({ counter: limit.name, addMs: costs[limit.name] * limit.intervalMs, maxAheadMs }))
    const result = await counters.update(scope, changes)
    if (result === undefined) return admission(scope, costs, {}, true)
    const headers = rateLimitHeaders(states(result))
    if (result.applied) return admission(scope, costs, headers, false)
    let [retryAfterMs, refusedBy] = waitUntilFits(result, changes)
    const tokensLimit = resolved.tokensPerMinute
    const requestTooLarge = tokensLimit !== undefined && costs.tokens > tokensLimit
    // A request larger than the whole budget never fits; the next minute is the honest best.
    if (requestTooLarge) [retryAfterMs, refusedBy] = [windowMs, 'tokens']
    retryAfterMs = Math.max(1, Math.ceil(retryAfterMs))
    return { allowed: false, headers: { ...headers, ...retryAfterHeader(retryAfterMs) }, retryAfterMs, limit: refusedBy, requestTooLarge }
  }

  return {
    options: resolved,
    admit: (scope, request) => (limits.length === 0 ? Promise.resolve(admission(scope, { requests: 1, tokens: 0 }, {}, true)) : admit(scope, request)),
  }
}
