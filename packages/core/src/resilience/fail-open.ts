import { type CallVerdict, type CircuitBreakerOptions, type CircuitState, createCircuitBreaker } from './circuit-breaker.js'
import { withDeadline } from './deadline.js'
import type { AttemptOutcome } from './retry.js'

/** Options of {@link createFailOpenGuard}. */
export interface FailOpenGuardOptions {
  /** What is called, for error messages ('Redis server', 'rate-limit store'). @default 'remote' */
  name?: string
  /** A call that has not settled after this long counts as failed. */
  timeoutMs: number
  /** When the circuit opens, how long it stays open, how many probes it lets through. */
  breaker: CircuitBreakerOptions
  /** @default Date.now */
  now?: () => number
  /**
   * Called once per change of state (never twice with the same state);
   * `cause` is the failure that opened the circuit, `undefined` for other
   * changes. A throwing callback is ignored.
   */
  onStateChange?: (state: CircuitState, previous: CircuitState, cause: unknown) => void
  /** Told of each call that failed or timed out; not of calls refused while the circuit is open. A throwing callback is ignored. */
  onFailure?: (error: unknown) => void
}

/** Calls a remote that the service must keep working without. */
export interface FailOpenGuard {
  /**
   * Runs `operation` with the deadline, through the circuit breaker.
   * Resolves with its value, or with `fallback` when it fails, times out,
   * or the circuit (or {@link close}) refuses it. Never rejects.
   */
  call<T, F>(operation: () => Promise<T>, fallback: F): Promise<T | F>
  /** The breaker's state now (an open circuit whose cool-down passed reads `half-open`). */
  readonly state: CircuitState
  /** Calls that failed or timed out so far; refused calls are not counted. */
  readonly failures: number
  /** Refuses every later call (the owner is shutting down). */
  close(): void
}

/**
 * The fail-open policy for a remote, written once: every call gets a
 * deadline ({@link withDeadline}) and goes through a circuit breaker
 * ({@link createCircuitBreaker}); a failure, a timeout and an open circuit
 * all answer `fallback`, so a slow or dead remote costs at most `timeoutMs`,
 * and nothing once the circuit is open. The Redis layer and the rate
 * limiter's counter store both call their remote through one of these.
 *
 * @example
 * ```ts
 * const redis = createFailOpenGuard({ name: 'Redis server', timeoutMs: 100, breaker: { consecutiveFailures: 5, coolDownMs: 1_000, halfOpenProbes: 1 } })
 * const value = await redis.call(() => client.getBuffer(key), null) // null when Redis is slow or down
 * ```
 */
export function createFailOpenGuard(options: FailOpenGuardOptions): FailOpenGuard {
  const { name = 'remote', timeoutMs, now = Date.now, onStateChange, onFailure } = options
  const subject = `The ${name}`
  let failures = 0
  let closed = false
  // The failure being judged; the breaker opens while judging it, before `execute` rejects.
  let judging: unknown

  const reportChange =
    onStateChange &&
    ((state: CircuitState, previous: CircuitState) => {
      try {
        onStateChange(state, previous, state === 'open' ? judging : undefined)
      } catch {
        // A throwing log callback must not turn fail-open into fail-closed.
      }
    })
  const breaker = createCircuitBreaker(options.breaker, { name, now, onStateChange: reportChange })
  const verdict = (outcome: AttemptOutcome<unknown>): CallVerdict => {
    if (outcome.ok) return 'success'
    judging = outcome.error
    return 'failure'
  }

  return {
    async call(operation, fallback) {
      // Asked first so that a refusal costs no error object; `execute` then
      // admits in the same synchronous step, so whatever it throws is the call's failure.
      if (closed || !breaker.isCallable()) return fallback
      try {
        return await breaker.execute(() => withDeadline(operation, timeoutMs, subject), verdict)
      } catch (error) {
        failures++
        try {
          onFailure?.(error)
        } catch {
          // Same as above: reporting a failure must not become one.
        }
        return fallback
      } finally {
        judging = undefined
      }
    },
    get state() {
      return breaker.state
    },
    get failures() {
      return failures
    },
    close() {
      closed = true
    },
  }
}
