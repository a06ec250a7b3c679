import { LRUCache } from 'lru-cache'
import { type CacheEntry, entrySizeBytes } from './entry.js'

/** The in-process tier: synchronous, bounded by bytes, least recently used out first. */
export interface MemoryTier {
  get(key: string): CacheEntry | undefined
  set(key: string, entry: CacheEntry): void
  delete(key: string): boolean
  clear(): void
  /** Entries held now. */
  readonly entries: number
  /** Bytes held now, as counted by `entrySizeBytes`. */
  readonly bytes: number
}

/** Options of {@link createMemoryTier}. */
export interface MemoryTierOptions {
  maxBytes: number
}

/**
 * A memory tier on `lru-cache`: each entry expires after its own `ttlMs`,
 * and the total size never exceeds `maxBytes` (an entry larger than that is
 * not kept at all).
 */
export function createMemoryTier(options: MemoryTierOptions): MemoryTier {
  const cache = new LRUCache<string, CacheEntry>({
    maxSize: options.maxBytes,
    sizeCalculation: entrySizeBytes,
    // Expiry is checked on read; no timers per entry.
    ttlAutopurge: false,
    // Read the clock on every check instead of caching it for 1 ms: the cache
    // is refreshed with a new setTimeout each time it lapses, which on a
    // server answering a hit every few hundred microseconds is a timer (and
    // an event-loop wake-up) per hit. performance.now() costs less.
    ttlResolution: 0,
    allowStale: false,
    updateAgeOnGet: false,
  })
  return {
    get: (key) => cache.get(key),
    set(key, entry) {
      // lru-cache counts ttl from insertion; entries can arrive already aged.
      const remainingMs = entry.createdAt + entry.ttlMs - Date.now()
      if (remainingMs > 0) cache.set(key, entry, { ttl: remainingMs })
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
