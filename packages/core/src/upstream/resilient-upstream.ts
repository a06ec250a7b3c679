import type { CounterStore } from '../limits/counter-store.js'
import { estimateRequestTokens } from '../limits/estimate-tokens.js'
import { type CallVerdict, type CircuitState, createCircuitBreaker } from '../resilience/circuit-breaker.js'
import { createConcurrencyLimiter } from '../resilience/concurrency-limiter.js'
import { type AttemptOutcome, abortableSleep, fullJitterBackoff, type RetryInfo, retryWithBackoff } from '../resilience/retry.js'
import { createRetryBudget } from '../resilience/retry-budget.js'
import { type ResilienceOptions, type ResolvedResilienceOptions, resolveResilienceOptions } from './resilience-options.js'
import { discardBody, whenBodyDone } from './response-body.js'
import { type InspectedResponse, inspectResponse, isRetryableError, isRetryableUpstreamOutcome } from './retry-policy.js'
import type { Upstream, UpstreamCall } from './types.js'
import { createUpstreamBudget } from './upstream-budget.js'

export { type ResilienceOptions, type ResolvedResilienceOptions, resolveResilienceOptions } from './resilience-options.js'

/** A retry about to wait, for logs and telemetry. */
export interface UpstreamRetryInfo {
  /** The attempt that failed, from 1. */
  attempt: number
  delayMs: number
  /** The failed response's status, or undefined after a network error or timeout. */
  status: number | undefined
  error: unknown
}

/** A resilient upstream's calls in flight and waiting, read by the load gauges. */
export interface ResilientUpstreamLoad {
  /** Calls holding a concurrency slot. */
  inFlight: number
  /** Calls waiting for a concurrency slot. */
  queued: number
  /** Calls waiting for the upstream budget. */
  budgetQueued: number
}

/** An upstream behind the resilience layer, which also tells its load. */
export interface ResilientUpstream extends Upstream {
  load(): ResilientUpstreamLoad
}

/** Observers of a resilient upstream, and what it runs on (tests inject clocks). */
export interface ResilienceHooks {
  onRetry?(info: UpstreamRetryInfo): void
  onBreakerStateChange?(state: CircuitState, previous: CircuitState): void
  /** @default Date.now */
  now?: () => number
  /** Waits between attempts and for budget. @default abortable `setTimeout` */
  sleep?: (delayMs: number, signal: AbortSignal | undefined) => Promise<void>
  /** Jitter source, uniform in [0, 1). @default Math.random */
  random?: () => number
  /** Where the upstream budget is counted; a shared (Redis) store paces several instances together. @default memory */
  upstreamBudgetStore?: CounterStore
}

// The breaker judges the upstream's health: 5xx and network failures count,
// a 4xx (429 included) is a healthy upstream saying no, and anything else
// (the caller's abort, our own queue being full) says nothing about it.
function breakerVerdict(outcome: AttemptOutcome<InspectedResponse>): CallVerdict {
  if (outcome.ok) return outcome.value.response.status >= 500 ? 'failure' : 'success'
  return isRetryableError(outcome.error) ? 'failure' : 'ignore'
}

async function estimateCallTokens(call: UpstreamCall, defaultMaxTokens: number): Promise<number> {
  if (!(call.body instanceof Uint8Array)) return 0
  try {
    return await estimateRequestTokens(JSON.parse(Buffer.from(call.body).toString('utf8')), { defaultMaxTokens })
  } catch {
    return 0 // not JSON: not an LLM call, it spends no tokens
  }
}

/**
 * Wraps an upstream so its calls are paced to the account's budget, capped
 * in number, cut off while the upstream keeps failing, and retried. Each
 * attempt goes through, in order: circuit breaker (fails fast when open) →
 * upstream budget (waits) → concurrency cap (waits, bounded) → `send`.
 * Around the attempts, retries with full-jitter backoff and `Retry-After`,
 * within a retry budget and a deadline, stopped at once by the call's signal.
 *
 * `send` still resolves at the response headers: a retry happens only before
 * a response is handed back, so no byte has reached the client. A response
 * that is retried has its body thrown away; a final failing response (or a
 * non-retryable one) is returned as it is, for the caller to pass through;
 * a final network error or timeout is thrown. A call with a streamed body is
 * attempted once: a stream cannot be sent twice.
 *
 * @example
 * ```ts
 * const upstream = createResilientUpstream(createHttpUpstream({ baseUrl, timeoutMs: 120_000 }), { retry: { maxAttempts: 4 } })
 * ```
 */
export function createResilientUpstream(
  upstream: Upstream,
  options: ResilienceOptions | ResolvedResilienceOptions = {},
  hooks: ResilienceHooks = {},
): ResilientUpstream {
  const resolved = resolveResilienceOptions(options as ResilienceOptions)
  const { now = Date.now, sleep = abortableSleep, random = Math.random } = hooks
  const { retry, circuitBreaker, concurrency, upstreamBudget } = resolved
  const onStateChange = (state: CircuitState, previous: CircuitState) => hooks.onBreakerStateChange?.(state, previous)
  const breaker = circuitBreaker && createCircuitBreaker(circuitBreaker, { name: 'upstream', now, onStateChange })
  const limiter = concurrency && createConcurrencyLimiter(concurrency)
  const budget = upstreamBudget && createUpstreamBudget(upstreamBudget, { store: hooks.upstreamBudgetStore, now, sleep })
  const retryBudget =
    retry && createRetryBudget({ ratio: retry.budgetRatio, windowMs: retry.budgetWindowMs, minRetriesPerWindow: retry.minRetriesPerWindow, now })
  const backoff = retry && fullJitterBackoff({ baseDelayMs: retry.baseDelayMs, maxDelayMs: retry.maxDelayMs, random })

  async function attempt(call: UpstreamCall, estimatedTokens: number): Promise<InspectedResponse> {
    if (budget) await budget.wait(estimatedTokens, call.signal)
    const release = limiter ? await limiter.acquire(call.signal) : () => {}
    let response
    try {
      response = await upstream.send(call)
    } catch (error) {
      release()
      throw error
    }
    // The slot is held until the body is done: a stream is in flight until its last byte.
    return inspectResponse({ ...response, body: whenBodyDone(response.body, release) }, now())
  }

  // Honour the upstream's wait when it gave one (up to the cap), else back off.
  function delayFor(outcome: AttemptOutcome<InspectedResponse>, attemptNumber: number): number | undefined {
    if (!retry || !backoff) return undefined
    const askedMs = outcome.ok ? outcome.value.retryAfterMs : undefined
    if (askedMs === undefined) return backoff(attemptNumber)
    return askedMs > retry.maxRetryAfterMs ? undefined : askedMs
  }

  function onRetry(call: UpstreamCall, { attempt: failed, outcome, delayMs }: RetryInfo<InspectedResponse>): void {
    if (outcome.ok) discardBody(outcome.value.response.body)
    const status = outcome.ok ? outcome.value.response.status : undefined
    const error = outcome.ok ? undefined : outcome.error
    hooks.onRetry?.({ attempt: failed, delayMs, status, error })
    call.onRetry?.(failed + 1, status === undefined ? String((error as { code?: unknown })?.code ?? 'network_error') : String(status))
  }

  async function send(call: UpstreamCall) {
    const countsTokens = upstreamBudget && upstreamBudget.tokensPerMinute !== undefined
    const estimatedTokens = countsTokens ? await estimateCallTokens(call, upstreamBudget.defaultMaxTokens) : 0
    const replayable = call.body === undefined || call.body instanceof Uint8Array
    if (retryBudget) retryBudget.recordRequest()
    const inspected = await retryWithBackoff(
      () => (breaker ? breaker.execute(() => attempt(call, estimatedTokens), breakerVerdict) : attempt(call, estimatedTokens)),
      {
        isRetryable: isRetryableUpstreamOutcome,
        delayFor,
        // An open breaker would refuse the retry anyway: better to hand back the real failure.
        allowRetry: () => (breaker ? breaker.isCallable() : true) && (retryBudget ? retryBudget.tryWithdraw() : true),
        onRetry: (info) => onRetry(call, info),
        // Frees the body (and its concurrency slot) of an answer nobody will read.
        onAbandon: (abandoned) => discardBody(abandoned.response.body),
        maxAttempts: retry && replayable ? retry.maxAttempts : 1,
        deadlineMs: retry ? retry.deadlineMs : 0,
        signal: call.signal,
        now,
        sleep,
      },
    )
    return inspected.response
  }

  const load = (): ResilientUpstreamLoad => ({
    inFlight: limiter ? limiter.inFlight : 0,
    queued: limiter ? limiter.queued : 0,
    budgetQueued: budget ? budget.queued : 0,
  })
  return { send, close: () => upstream.close(), load }
}
