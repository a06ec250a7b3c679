import { AiCacheError } from '../errors.js'
import type { AttemptOutcome } from './retry.js'

/**
 * - `closed`: calls go through; consecutive failures are counted.
 * - `open`: calls fail at once, until the cool-down has passed.
 * - `half-open`: one probe call goes through; its result closes or re-opens.
 */
export type CircuitState = 'closed' | 'open' | 'half-open'

/** How a call ended, for the breaker; `ignore` (e.g. the caller aborted) says nothing about health. */
export type CallVerdict = 'success' | 'failure' | 'ignore'

/** Options of {@link createCircuitBreaker}; `circuitBreaker` in `AiCacheOptions`. */
export interface CircuitBreakerOptions {
  /** Consecutive failures that open the circuit. @default 5 */
  failureThreshold?: number
  /** How long the circuit stays open before one probe is let through. @default 10_000 */
  coolDownMs?: number
}

/** What a breaker runs with, besides its options. */
export interface CircuitBreakerSetup {
  /** What is protected, for error messages. @default 'upstream' */
  name?: string
  /** @default Date.now */
  now?: () => number
  /** Called on every change of state. */
  onStateChange?: (state: CircuitState, previous: CircuitState) => void
}

/** Stops calling something that keeps failing, and tries it again after a cool-down. */
export interface CircuitBreaker {
  /**
   * Runs `run` unless the circuit is open (then rejects at once with
   * `AiCacheError('circuit_open')`, status 503, `retryAfterMs` set), and
   * judges its outcome with `verdict`.
   */
  execute<T>(run: () => Promise<T>, verdict: (outcome: AttemptOutcome<T>) => CallVerdict): Promise<T>
  /** The state now (an open circuit whose cool-down passed reads `half-open`). */
  readonly state: CircuitState
  /** Whether a call now would be let through. */
  isCallable(): boolean
}

// While the probe is out, others are told to come back soon: it decides quickly.
const probeRetryAfterMs = 1_000

/**
 * A consecutive-failure circuit breaker, generic over any async call, so the
 * same code guards the upstream and (later) the Redis tier.
 *
 * @example
 * ```ts
 * const breaker = createCircuitBreaker({ failureThreshold: 5, coolDownMs: 10_000 }, { name: 'search API' })
 * const value = await breaker.execute(() => fetchSomething(), (outcome) => (outcome.ok ? 'success' : 'failure'))
 * ```
 */
export function createCircuitBreaker(
  { failureThreshold = 5, coolDownMs = 10_000 }: CircuitBreakerOptions = {},
  { name = 'upstream', now = Date.now, onStateChange }: CircuitBreakerSetup = {},
): CircuitBreaker {
  let state: CircuitState = 'closed'
  let failures = 0
  let openedAtMs = 0
  let probeInFlight = false
  // Bumped on every change, so a call that started in an older state cannot move the new one.
  let generation = 0

  function moveTo(next: CircuitState): void {
    const previous = state
    state = next
    generation++
    failures = 0
    probeInFlight = false
    if (next === 'open') openedAtMs = now()
    onStateChange?.(next, previous)
  }

  function current(): CircuitState {
    if (state === 'open' && now() - openedAtMs >= coolDownMs) moveTo('half-open')
    return state
  }

  function rejection(retryAfterMs: number): AiCacheError {
    const seconds = Math.ceil(retryAfterMs / 1000)
    return new AiCacheError(
      'circuit_open',
      `The ${name} kept failing; aicache stopped calling it for now (circuit breaker open). Try again in ${seconds} s.`,
      { retryAfterMs },
    )
  }

  function record(verdict: CallVerdict, startedIn: number, isProbe: boolean): void {
    if (startedIn !== generation || verdict === 'ignore') {
      if (isProbe && startedIn === generation) probeInFlight = false
      return
    }
    if (state === 'half-open') return moveTo(verdict === 'success' ? 'closed' : 'open')
    if (verdict === 'success') failures = 0
    else if (++failures >= failureThreshold) moveTo('open')
  }

  return {
    async execute(run, verdict) {
      const observed = current()
      if (observed === 'open') throw rejection(openedAtMs + coolDownMs - now())
      if (observed === 'half-open' && probeInFlight) throw rejection(probeRetryAfterMs)
      const isProbe = observed === 'half-open'
      if (isProbe) probeInFlight = true
      const startedIn = generation
      try {
        const value = await run()
        record(verdict({ ok: true, value }), startedIn, isProbe)
        return value
      } catch (error) {
        record(verdict({ ok: false, error }), startedIn, isProbe)
        throw error
      }
    },
    get state() {
      return current()
    },
    isCallable() {
      const observed = current()
      return observed === 'closed' || (observed === 'half-open' && !probeInFlight)
    },
  }
}
