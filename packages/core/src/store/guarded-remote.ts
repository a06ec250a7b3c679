import type { CircuitState } from '../resilience/circuit-breaker.js'
import { createFailOpenGuard, type FailOpenGuard } from '../resilience/fail-open.js'

/** The state of the Redis layer's circuit breaker: the breaker's own {@link CircuitState}. */
export type BreakerState = CircuitState

/** Options of {@link GuardedRemote}. */
export interface GuardedRemoteOptions {
  /** A call that has not settled after this long counts as failed. @default 100 */
  timeoutMs?: number
  /** Consecutive failures that open the breaker. @default 5 */
  failureThreshold?: number
  /** How long the breaker stays open before one probe call is let through. @default 1000 */
  coolDownMs?: number
  /** Called once per state change, with the failure that caused an opening. */
  onStateChange?: (state: BreakerState, error?: unknown) => void
  /** The clock, for tests. @default Date.now */
  now?: () => number
}

/**
 * Redis, called fail-open: every call of the Redis layer goes through this
 * {@link createFailOpenGuard} with Redis's settings. Each call gets a
 * deadline; after `failureThreshold` failures in a row the circuit opens
 * and every call answers its fallback at once. After `coolDownMs` one probe
 * call is let through (half-open); its success closes the circuit, its
 * failure opens it again. Only failures in a row count: a Redis failing now
 * and then is still used.
 *
 * @example
 * ```ts
 * const remote = new GuardedRemote({ timeoutMs: 100 })
 * const value = await remote.call(() => client.getBuffer(key), null) // null when Redis is slow or down
 * ```
 */
export class GuardedRemote {
  readonly #guard: FailOpenGuard

  constructor(options: GuardedRemoteOptions = {}) {
    const { timeoutMs = 100, failureThreshold = 5, coolDownMs = 1000, onStateChange, now } = options
    this.#guard = createFailOpenGuard({
      name: 'Redis server',
      timeoutMs,
      // Failures in a row only: no failure-rate rule (its minimum number of calls is never reached).
      breaker: { consecutiveFailures: failureThreshold, coolDownMs, halfOpenProbes: 1, minimumCalls: Number.POSITIVE_INFINITY },
      now,
      onStateChange: onStateChange && ((state, _previous, cause) => onStateChange(state, cause)),
    })
  }

  /** The breaker's state now (an open breaker whose cool-down passed reads `half-open`). */
  get state(): BreakerState {
    return this.#guard.state
  }

  /** Failed calls so far (errors and timeouts; calls refused by an open breaker are not counted). */
  get errors(): number {
    return this.#guard.failures
  }

  /**
   * Runs `operation` with a deadline. Resolves with its value, or with
   * `fallback` when it fails, times out, or the breaker refuses it; never rejects.
   */
  call<T, F>(operation: () => Promise<T>, fallback: F): Promise<T | F> {
    return this.#guard.call(operation, fallback)
  }

  /** Refuses every later call (the owner is shutting down). */
  close(): void {
    this.#guard.close()
  }
}
