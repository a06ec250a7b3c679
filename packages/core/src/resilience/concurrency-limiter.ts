import { AiCacheError } from '../errors.js'

/** Options of {@link createConcurrencyLimiter}; `concurrency` in `AiCacheOptions`. */
export interface ConcurrencyOptions {
  /**
   * Calls allowed in flight at once (from sending to the end of the body).
   * @default 256, the socket limit of the proxy's HTTP agent: above it calls
   * would wait in the agent's own queue, unbounded and unseen.
   */
  maxConcurrent?: number
  /** Calls allowed to wait for a slot; one more is rejected at once. @default 1_000 */
  maxQueue?: number
  /** The `retryAfterMs` of the rejection when the queue is full. @default 1_000 */
  overloadRetryAfterMs?: number
}

/** Gives back a slot; calling it again does nothing. */
export type ReleaseSlot = () => void

/** At most N calls in flight, then a bounded first-in-first-out queue. */
export interface ConcurrencyLimiter {
  /**
   * Waits for a slot. Rejects at once with `AiCacheError('upstream_overloaded')`
   * (status 503) when the queue is full, and with the signal's reason when it
   * aborts while waiting (the waiter leaves the queue).
   */
  acquire(signal?: AbortSignal): Promise<ReleaseSlot>
  readonly inFlight: number
  readonly queued: number
}

interface Waiter {
  grant: (release: ReleaseSlot) => void
}

/**
 * A semaphore with a bounded FIFO queue. The bound matters: an unbounded queue
 * turns an overload into ever longer waits and memory growth, while a quick
 * 503 with `Retry-After` lets clients back off.
 *
 * @example
 * ```ts
 * const limiter = createConcurrencyLimiter({ maxConcurrent: 10 })
 * const release = await limiter.acquire(signal)
 * try { await callUpstream() } finally { release() }
 * ```
 */
export function createConcurrencyLimiter({ maxConcurrent = 256, maxQueue = 1_000, overloadRetryAfterMs = 1_000 }: ConcurrencyOptions = {}): ConcurrencyLimiter {
  let inFlight = 0
  const queue: Waiter[] = []

  function slot(): ReleaseSlot {
    let released = false
    return () => {
      if (released) return
      released = true
      const next = queue.shift()
      // The slot passes straight to the next waiter, so a newcomer cannot overtake the queue.
      if (next) next.grant(slot())
      else inFlight--
    }
  }

  return {
    acquire(signal) {
      if (signal?.aborted) return Promise.reject(signal.reason)
      if (inFlight < maxConcurrent) {
        inFlight++
        return Promise.resolve(slot())
      }
      if (queue.length >= maxQueue) {
        return Promise.reject(
          new AiCacheError('upstream_overloaded', `Too many upstream calls: ${maxConcurrent} in flight and ${maxQueue} waiting. Try again shortly.`, {
            retryAfterMs: overloadRetryAfterMs,
          }),
        )
      }
      return new Promise<ReleaseSlot>((resolve, reject) => {
        const onAbort = () => {
          const index = queue.indexOf(waiter)
          if (index !== -1) queue.splice(index, 1)
          reject(signal!.reason)
        }
        const waiter: Waiter = {
          grant(release) {
            signal?.removeEventListener('abort', onAbort)
            resolve(release)
          },
        }
        queue.push(waiter)
        signal?.addEventListener('abort', onAbort, { once: true })
      })
    },
    get inFlight() {
      return inFlight
    },
    get queued() {
      return queue.length
    },
  }
}
