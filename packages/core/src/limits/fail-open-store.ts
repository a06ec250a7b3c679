import { createFailOpenGuard } from '../resilience/fail-open.js'
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
 * A counter store called through {@link createFailOpenGuard}: a timeout,
 * and a circuit breaker (5 failures in a row, or half of at least 100 calls
 * in 10 s; 5 s cool-down; one probe) so a store that is down is not waited
 * on by every request. The limiter admits when this answers
 * `undefined`: a broken limiter store must not take the service down.
 */
export function failOpen(store: CounterStore, { now = Date.now, timeoutMs = 200, onStoreError }: FailOpenOptions = {}): FailOpenStore {
  const guard = createFailOpenGuard({
    name: 'rate-limit store',
    timeoutMs,
    breaker: { consecutiveFailures: 5, coolDownMs: 5_000, halfOpenProbes: 1 },
    now,
    onFailure: onStoreError,
  })
  return {
    update(scope, changes) {
      if (changes.length === 0) return Promise.resolve(undefined)
      return guard.call(() => store.update(scope, changes, now()), undefined)
    },
  }
}
