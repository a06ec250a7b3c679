import { AiCacheError } from '../errors.js'
import type { AttemptOutcome } from './retry.js'
import { createSlidingWindow } from './sliding-window.js'

/**
 * - `closed`: calls go through; their outcomes are counted.
 * - `open`: calls fail at once, until the cool-down has passed.
 * - `half-open`: a few probe calls go through; their results close or re-open.
 */
export type CircuitState = 'closed' | 'open' | 'half-open'

/** How a call ended, for the breaker; `ignore` (e.g. the caller aborted) says nothing about health. */
export type CallVerdict = 'success' | 'failure' | 'ignore'

/** Options of {@link createCircuitBreaker}; `circuitBreaker` in `AiCacheOptions`. */
export interface CircuitBreakerOptions {
  /** Share of failed calls in the window (above 0, at most 1) at which the circuit opens. @default 0.5 */
  failureRateThreshold?: number
  /** Calls the window must hold before its failure rate may open the circuit. @default 100 */
  minimumCalls?: number
  /** The sliding window the failure rate is measured over. @default 10_000 */
  windowMs?: number
  /** Failures in a row that open the circuit whatever the window says, so a dead upstream is cut off at once. @default 20 */
  consecutiveFailures?: number
  /** How long the circuit stays open before probes are let through. @default 10_000 */
  coolDownMs?: number
  /** Calls let through while half-open; their failure rate, against the same threshold, closes or re-opens the circuit. @default 3 */
  halfOpenProbes?: number
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

// While the probes are out, others are told to come back soon: they decide quickly.
const probeRetryAfterMs = 1_000

/**
 * A failure-rate circuit breaker, generic over any async call. It opens when
 * at least `failureRateThreshold` of the calls in the last `windowMs` failed
 * (once the window holds `minimumCalls`), or after `consecutiveFailures` in a
 * row; so a partly failing upstream keeps being called (retries absorb its
 * failures) while a dead one is cut off. After `coolDownMs` it lets
 * `halfOpenProbes` calls through and judges them by the same threshold.
 *
 * @example
 * ```ts
 * const breaker = createCircuitBreaker({ failureRateThreshold: 0.5, minimumCalls: 100 }, { name: 'search API' })
 * const value = await breaker.execute(() => fetchSomething(), (outcome) => (outcome.ok ? 'success' : 'failure'))
 * ```
 */
export function createCircuitBreaker(options: CircuitBreakerOptions = {}, setup: CircuitBreakerSetup = {}): CircuitBreaker {
  const { failureRateThreshold = 0.5, minimumCalls = 100, windowMs = 10_000 } = options
  const { consecutiveFailures = 20, coolDownMs = 10_000, halfOpenProbes = 3 } = options
  const { name = 'upstream', now = Date.now, onStateChange } = setup
  const window = createSlidingWindow(['success', 'failure'] as const, { windowMs, now })
  let state: CircuitState = 'closed'
  let failuresInRow = 0
  let openedAtMs = 0
  const probes = { started: 0, succeeded: 0, failed: 0 }
  // Bumped on every change, so a call that started in an older state cannot move the new one.
  let generation = 0

  function moveTo(next: CircuitState): void {
    const previous = state
    state = next
    generation++
    failuresInRow = 0
    window.clear()
    Object.assign(probes, { started: 0, succeeded: 0, failed: 0 })
    if (next === 'open') openedAtMs = now()
    onStateChange?.(next, previous)
  }

  function current(): CircuitState {
    if (state === 'open' && now() - openedAtMs >= coolDownMs) moveTo('half-open')
    return state
  }

  function rejection(retryAfterMs: number): AiCacheError {
    const seconds = Math.ceil(retryAfterMs / 1000)
    return new AiCacheError('circuit_open', `The ${name} kept failing; aicache stopped calling it for now (circuit breaker open). Try again in ${seconds} s.`, {
      retryAfterMs,
    })
  }

  function judgeProbe(verdict: CallVerdict): void {
    if (verdict === 'ignore') return void probes.started--
    if (verdict === 'success') probes.succeeded++
    else probes.failed++
    // Decided as soon as the remaining probes cannot change the outcome.
    if (probes.failed >= failureRateThreshold * halfOpenProbes) moveTo('open')
    else if (probes.succeeded > (1 - failureRateThreshold) * halfOpenProbes) moveTo('closed')
  }

  function judgeClosed(verdict: CallVerdict): void {
    if (verdict === 'ignore') return
    window.add(verdict)
    if (verdict === 'success') return void (failuresInRow = 0)
    if (++failuresInRow >= consecutiveFailures) return moveTo('open')
    const failures = window.total('failure')
    const calls = failures + window.total('success')
    if (calls >= minimumCalls && failures >= failureRateThreshold * calls) moveTo('open')
  }

  function record(verdict: CallVerdict, startedIn: number): void {
    if (startedIn !== generation) return
    if (state === 'half-open') judgeProbe(verdict)
    else judgeClosed(verdict)
  }

  return {
    async execute(run, verdict) {
      const observed = current()
      if (observed === 'open') throw rejection(openedAtMs + coolDownMs - now())
      if (observed === 'half-open') {
        if (probes.started >= halfOpenProbes) throw rejection(probeRetryAfterMs)
        probes.started++
      }
      const startedIn = generation
      try {
        const value = await run()
        record(verdict({ ok: true, value }), startedIn)
        return value
      } catch (error) {
        record(verdict({ ok: false, error }), startedIn)
        throw error
      }
    },
    get state() {
      return current()
    },
    isCallable() {
      const observed = current()
      return observed === 'closed' || (observed === 'half-open' && probes.started < halfOpenProbes)
    },
  }
}
