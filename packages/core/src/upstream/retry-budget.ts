/** Options of {@link createRetryBudget}. */
export interface RetryBudgetOptions {
  /** Retries allowed as a fraction of the requests in the window. @default 0.2 */
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

// The window is split into this many buckets; it slides one bucket at a time.
const bucketCount = 10

/**
 * A retry budget over a sliding window (Finagle's and gRPC's idea): a retry
 * is allowed while retries in the window stay under
 * `max(minRetriesPerWindow, ratio * requests in the window)`.
 *
 * @example
 * ```ts
 * const budget = createRetryBudget({ ratio: 0.2 })
 * budget.recordRequest()
 * if (budget.tryWithdraw()) { ... retry ... }
 * ```
 */
export function createRetryBudget({
  ratio = 0.2,
  windowMs = 10_000,
  minRetriesPerWindow = 10,
  now = Date.now,
}: RetryBudgetOptions = {}): RetryBudget {
  const bucketMs = windowMs / bucketCount
  const requests = new Array<number>(bucketCount).fill(0)
  const retries = new Array<number>(bucketCount).fill(0)
  let currentBucket = Math.floor(now() / bucketMs)

  // Empties the buckets that slid out of the window since the last call.
  function advance(): number {
    const bucket = Math.floor(now() / bucketMs)
    const stale = Math.min(bucket - currentBucket, bucketCount)
    for (let step = 1; step <= stale; step++) {
      const index = (currentBucket + step) % bucketCount
      requests[index] = 0
      retries[index] = 0
    }
    currentBucket = Math.max(currentBucket, bucket)
    return currentBucket % bucketCount
  }

  const sum = (counts: number[]) => counts.reduce((total, count) => total + count, 0)

  return {
    recordRequest() {
      requests[advance()]! += 1
    },
    tryWithdraw() {
      const index = advance()
      if (sum(retries) >= Math.max(minRetriesPerWindow, ratio * sum(requests))) return false
      retries[index]! += 1
      return true
    },
  }
}
