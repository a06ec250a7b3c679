import { LRUCache } from 'lru-cache'
import type { MemoryTier } from '../tiers/tier.js'
import { type CacheEntry, entrySizeBytes } from './entry.js'
import { entryMemo, existingMemo } from './entry-memo.js'

/** Options of {@link createMemoryTier}. */
export interface MemoryTierOptions {
  maxBytes: number
}

/**
 * A memory tier on `lru-cache`: each entry expires after its own `ttlMs`,
 * and the total size never exceeds `maxBytes` (an entry larger than that is
 * not kept at all).
 *
 * Expiry is checked here, on read, against the entry's own `createdAt` and
 * `ttlMs`, rather than by lru-cache's TTL tracking: that reads the clock on
 * every get (or, caching it, sets a timer per hit) for a check the entry
 * already answers. An expired entry is deleted when read, and until then is
 * the least recently used to go, as with lru-cache's own lazy expiry.
 *
 * An entry kept with a grace period (`set(key, entry, graceMs)`, for
 * stale-if-error and stale-while-revalidate) stays that much longer, never
 * answered by `get` once its freshness ended, only by `peek`.
 */
export function createMemoryTier(options: MemoryTierOptions): MemoryTier {
  const cache = new LRUCache<string, CacheEntry>({
    maxSize: options.maxBytes,
    sizeCalculation: entrySizeBytes,
  })
  return {
    get(key, nowMs) {
      const entry = cache.get(key, getOptions)
      if (entry === undefined || entry.createdAt + entry.ttlMs > (nowMs ?? Date.now())) return entry
      if (!isRetained(entry, nowMs ?? Date.now())) cache.delete(key)
      return undefined
    },
    peek(key, nowMs) {
      const entry = cache.peek(key)
      if (entry === undefined) return undefined
      if (isRetained(entry, nowMs ?? Date.now())) return entry
      cache.delete(key)
      return undefined
    },
    set(key, entry, graceMs = 0) {
      // Entries can arrive already aged (from Redis): keep only fresh ones.
      if (!(entry.createdAt + entry.ttlMs > Date.now())) return
      if (graceMs > 0) entryMemo(entry).graceMs = graceMs
      cache.set(key, entry)
    },
    delete: (key) => cache.delete(key),
    clear: () => cache.clear(),
    get entries() {
      return cache.size
    },
    get bytes() {
      return cache.calculatedSize
    },
  }
}

// One options object for every get, instead of the default `{}` lru-cache
// makes per call (it writes `status` into it, undefined without diagnostics subscribers).
const getOptions: LRUCache.GetOptions<string, CacheEntry, unknown> = {}

/** Whether an entry is fresh or within the grace period it was kept with. */
function isRetained(entry: CacheEntry, nowMs: number): boolean {
  return entry.createdAt + entry.ttlMs + (existingMemo(entry)?.graceMs ?? 0) > nowMs
}
