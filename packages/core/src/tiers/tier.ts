import type { CircuitState } from '../resilience/circuit-breaker.js'
import type { CacheEntry } from '../store/entry.js'

/**
 * The in-process tier (L1): synchronous, so a hit waits for nothing, and
 * bounded by bytes. `store/memory-tier.ts` implements it on lru-cache.
 */
export interface MemoryTier {
  /** The fresh entry of `key`; `nowMs` is the caller's `Date.now()`, when it has one. */
  get(key: string, nowMs?: number): CacheEntry | undefined
  /**
   * The entry of `key` whether fresh or stale, as long as the tier still
   * keeps it (its grace period); `undefined` otherwise. Does not count as a use.
   */
  peek(key: string, nowMs?: number): CacheEntry | undefined
  /**
   * Keeps `entry` until its own freshness ends, and `graceMs` longer for
   * stale answers (freshness/); an entry already stale is not kept.
   */
  set(key: string, entry: CacheEntry, graceMs?: number): void
  delete(key: string): boolean
  clear(): void
  /** Entries held now. */
  readonly entries: number
  /** Bytes held now, as counted by `entrySizeBytes`. */
  readonly bytes: number
}

/** The state of a remote tier's circuit breaker. */
export type RemoteTierState = CircuitState

/**
 * A tier shared between instances (L2): asynchronous and fail-open, so no
 * method rejects because the backend is slow or down (a read is then a
 * miss, a write is dropped). The Redis layer (`store/redis-layer.ts`)
 * implements it.
 */
export interface RemoteTier {
  /** The stored entry; `undefined` on a miss, a value that is not an entry, or the backend unavailable. */
  get(key: string): Promise<CacheEntry | undefined>
  /**
   * The stored entry, fresh or kept past its freshness for its grace period
   * (the caller tells them apart by `createdAt + ttlMs`). Optional: a tier
   * without it keeps no stale entries, and `get` is used.
   */
  getRetained?(key: string): Promise<CacheEntry | undefined>
  /**
   * Stores for the entry's remaining freshness, plus `graceMs` for stale
   * answers; dropped if the backend is unavailable.
   */
  set(key: string, entry: CacheEntry, graceMs?: number): Promise<void>
  /** Deletes the entry, here and for every instance that shares the tier. */
  delete(key: string): Promise<void>
  /** Whether the connection is up now. */
  readonly connected: boolean
  /** The circuit breaker's state. */
  readonly state: RemoteTierState
  /** Failed calls so far (errors and timeouts). */
  readonly errors: number
}

/** The memory tier when it is turned off (`memoryTier: false`): the remote tier alone. */
export const noMemoryTier: MemoryTier = {
  get: () => undefined,
  peek: () => undefined,
  set: () => {},
  delete: () => false,
  clear: () => {},
  entries: 0,
  bytes: 0,
}
