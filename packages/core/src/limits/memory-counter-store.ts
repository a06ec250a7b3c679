import type { CounterChange, CounterStore, CounterUpdate } from './counter-store.js'

// Counters whose budget is whole again are dropped every this many updates.
const sweepEvery = 1_024

/**
 * Counters in this process's memory: for one instance. Several instances
 * each with their own memory store each admit the full limit; share a
 * {@link createRedisCounterStore} instead.
 *
 * @example
 * ```ts
 * const limiter = createRateLimiter({ requestsPerMinute: 60 }, { store: createMemoryCounterStore() })
 * ```
 */
export function createMemoryCounterStore(): CounterStore {
  const counters = new Map<string, number>()
  let updates = 0

  function sweep(nowMs: number): void {
    for (const [key, value] of counters) if (value <= nowMs) counters.delete(key)
  }

  function update(scope: string, changes: readonly CounterChange[], nowMs: number): CounterUpdate {
    if (++updates % sweepEvery === 0) sweep(nowMs)
    const keys = changes.map((change) => `${scope}\u0000${change.counter}`)
    const found = keys.map((key) => Math.max(counters.get(key) ?? nowMs, nowMs))
    const next = changes.map((change, index) => Math.max(found[index]! + change.addMs, nowMs))
    const refused = changes.some((change, index) => change.addMs > 0 && next[index]! - nowMs > change.maxAheadMs)
    if (refused) return { applied: false, nowMs, values: found }
    keys.forEach((key, index) => {
      if (next[index]! > nowMs) counters.set(key, next[index]!)
      else counters.delete(key)
    })
    return { applied: true, nowMs, values: next }
  }

  // Async like every store, so the limiter cannot depend on it answering synchronously.
  return { local: true, update: async (scope, changes, nowMs) => update(scope, changes, nowMs) }
}
