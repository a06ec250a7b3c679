import { AiCacheError } from '../errors.js'
import { createCircuitBreaker } from '../resilience/circuit-breaker.js'
import type { CounterChange, CounterStore, CounterUpdate } from './counter-store.js'

/** Options of {@link failOpen}. */
export interface FailOpenOptions {
  /** @default Date.now */
  now?: () => number
  /** A store slower than this counts as down. @default 200 */
  timeoutMs?: number
  /** Told of each failure or timeout (not of calls skipped while the breaker is open). */
  onStoreError?: (error: unknown) => void
}

/** A store that answers `undefined` instead of failing. */
export interface FailOpenStore {
  update(scope: string, changes: readonly CounterChange[]): Promise<CounterUpdate | undefined>
}

/**
 * All the failure handling of a counter store in one place: a timeout, and a
 * circuit breaker (5 failures in a row, 5 s cool-down) so a store that is down
 * is not waited on by every request. The limiter admits when this answers
 * `undefined`: a broken limiter store must not take the service down.
 */
export function failOpen(store: CounterStore, { now = Date.now, timeoutMs = 200, onStoreError }: FailOpenOptions = {}): FailOpenStore {
  const breaker = createCircuitBreaker({ consecutiveFailures: 5, coolDownMs: 5_000, halfOpenProbes: 1 }, { name: 'rate-limit store', now })

  function withTimeout<T>(promise: Promise<T>): Promise<T> {
    let timer: NodeJS.Timeout | undefined
    const timeout = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => reject(new Error(`The rate-limit store did not answer within ${timeoutMs} ms`)), timeoutMs)
      timer.unref?.()
    })
    return Promise.race([promise, timeout]).finally(() => clearTimeout(timer))
  }

  return {
    async update(scope, changes) {
      if (changes.length === 0) return undefined
      try {
        return await breaker.execute(
          () => withTimeout(store.update(scope, changes, now())),
          (outcome) => (outcome.ok ? 'success' : 'failure'),
        )
      } catch (error) {
        // An open breaker stands for failures already reported.
        if (!(AiCacheError.isInstance(error) && error.code === 'circuit_open')) onStoreError?.(error)
        return undefined
      }
    },
  }
}
