import { createSlidingWindow } from './sliding-window.js'

/** Options of {@link createRetryBudget}. */
export interface RetryBudgetOptions {
  /** Retries allowed as a fraction of the requests in the window. @default 0.5 */
  ratio?: number
  /** The sliding window requests and retries are counted over. @default 10_000 */
  windowMs?: number
  /** Retries always allowed per window, so a quiet service can still retry. @default 10 */
  minRetriesPerWindow?: number
  /** @default Date.now */
  now?: () => number
}

/**
 * Caps retries at a share of the traffic. Without it, an upstream in trouble
 * gets `maxAttempts` times the load exactly when it can least take it; with
 * it, a 20% budget adds at most 20% load (plus the small minimum).
 */
export interface RetryBudget {
  /** Counts one new request (a first attempt). */
  recordRequest(): void
  /** Takes one retry from the budget; `false` when it is spent. */
  tryWithdraw(): boolean
}

/**
 * A retry budget over a sliding window (Finagle's and gRPC's idea): a retry
 * is allowed while retries in the window stay under
 * `max(minRetriesPerWindow, ratio * requests in the window)`.
 *
 * @example
 * ```ts
 * const budget = createRetryBudget({ ratio: 0.5 })
 * budget.recordRequest()
 * if (budget.tryWithdraw()) { ... retry ... }
 * ```
 */
export function createRetryBudget({ ratio = 0.5, windowMs = 10_000, minRetriesPerWindow = 10, now = Date.now }: RetryBudgetOptions = {}): RetryBudget {
  const window = createSlidingWindow(['request', 'retry'] as const, { windowMs, now })
  return {
    recordRequest() {
      window.add('request')
    },
    tryWithdraw() {
      if (window.total('retry') >= Math.max(minRetriesPerWindow, ratio * window.total('request'))) return false
      window.add('retry')
      return true
    },
  }
}
