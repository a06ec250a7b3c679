import { AiCacheError } from '../errors.js'
import type { CounterStore } from '../limits/counter-store.js'
import { createRateLimiter } from '../limits/rate-limiter.js'
import { abortableSleep } from '../resilience/retry.js'

/** Options of {@link createUpstreamBudget}: the upstream account's own limits. */
export interface UpstreamBudgetOptions {
  /** Calls per minute the upstream account allows. @default undefined (no limit) */
  requestsPerMinute?: number
  /** Tokens (prompt + most it may generate) per minute the account allows. @default undefined (no limit) */
  tokensPerMinute?: number
  /** Calls allowed to wait for budget; one more is rejected with `upstream_overloaded`. @default 1_000 */
  maxQueue?: number
}

/** What a budget runs on, besides its options. */
export interface UpstreamBudgetSetup {
  /** A shared store makes several instances pace one account together. @default memory */
  store?: CounterStore
  /** @default Date.now */
  now?: () => number
  /** @default {@link abortableSleep} */
  sleep?: (delayMs: number, signal: AbortSignal | undefined) => Promise<void>
}

/** Paces calls to the upstream account's limits. */
export interface UpstreamBudget {
  /**
   * Resolves when a call of `estimatedTokens` fits the budget, after the calls
   * queued before it (first in, first out). Rejects with the signal's reason
   * if it aborts while waiting.
   */
  wait(estimatedTokens: number, signal?: AbortSignal): Promise<void>
  readonly queued: number
}

interface Waiter {
  tokens: number
  signal: AbortSignal | undefined
  resolve: () => void
}

// Every call of the account shares one budget.
const scope = 'upstream'

/**
 * Upstream pacing: calls WAIT until the account's requests/min and tokens/min
 * allow them, instead of being sent to collect a 429. The budget is the same
 * GCRA limiter as inbound rate limits, asked by one call at a time in FIFO
 * order, so a large call is not starved by small ones behind it. A call
 * larger than the whole tokens/min budget waits for a full budget and goes.
 *
 * @example
 * ```ts
 * const budget = createUpstreamBudget({ requestsPerMinute: 500 })
 * await budget.wait(estimatedTokens, signal)
 * ```
 */
export function createUpstreamBudget(options: UpstreamBudgetOptions, setup: UpstreamBudgetSetup = {}): UpstreamBudget {
  const { requestsPerMinute, tokensPerMinute, maxQueue = 1_000 } = options
  const { store, now, sleep = abortableSleep } = setup
  const limiter = createRateLimiter({ requestsPerMinute, tokensPerMinute }, { store, now })
  const queue: Waiter[] = []
  let pumping = false

  async function pump(): Promise<void> {
    if (pumping) return
    pumping = true
    try {
      while (queue.length > 0) {
        const head = queue[0]!
        const decision = await limiter.admit(scope, { estimatedTokens: Math.min(head.tokens, tokensPerMinute ?? Infinity) })
        if (queue[0] !== head) {
          // The head left (aborted) while we asked: give its budget back.
          if (decision.allowed) await decision.release()
          continue
        }
        if (decision.allowed) {
          queue.shift()
          head.resolve()
          continue
        }
        // An abort of the head wakes this sleep; the loop then serves the next one.
        await sleep(decision.retryAfterMs, head.signal).catch(() => {})
      }
    } finally {
      pumping = false
    }
  }

  return {
    wait(estimatedTokens, signal) {
      if (signal?.aborted) return Promise.reject(signal.reason)
      if (requestsPerMinute === undefined && tokensPerMinute === undefined) return Promise.resolve()
      if (queue.length >= maxQueue) {
        const error = new AiCacheError('upstream_overloaded', `Too many calls waiting for the upstream budget (${maxQueue}).`, {
          retryAfterMs: 1_000,
        })
        return Promise.reject(error)
      }
      return new Promise<void>((resolve, reject) => {
        const onAbort = () => {
          const index = queue.indexOf(waiter)
          if (index !== -1) queue.splice(index, 1)
          reject(signal!.reason)
        }
        const waiter: Waiter = {
          tokens: estimatedTokens,
          signal,
          resolve: () => {
            signal?.removeEventListener('abort', onAbort)
            resolve()
          },
        }
        queue.push(waiter)
        signal?.addEventListener('abort', onAbort, { once: true })
        void pump()
      })
    },
    get queued() {
      return queue.length
    },
  }
}
