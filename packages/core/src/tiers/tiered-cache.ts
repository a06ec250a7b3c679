import type { Tier } from '../engine/cache-status.js'
import { AiCacheError } from '../errors.js'
import { countHit, entryHits, type EntryHits } from '../freshness/entry-hits.js'
import type { CacheEntry } from '../store/entry.js'
import { createMemoryTier } from '../store/memory-tier.js'
import { NamespaceGenerations } from '../store/namespaces.js'
import { allNamespaces, createRedisLayer, type LockHandle, type RedisLayer } from '../store/redis-layer.js'
import type { RedisClient } from '../store/redis-client.js'
import type { RedisLayerOptions } from '../store/redis-layer-options.js'
import { type Claim, claimAcross } from './claims.js'
import { type Generations, SharedGenerations } from './generations.js'
import { type MemoryTier, noMemoryTier, type RemoteTier } from './tier.js'

/** What {@link TieredCache} is made with. */
export interface TieredCacheOptions {
  /** Whether there is a memory tier at all (`false`: the remote tier alone). */
  memoryTier: boolean
  /** The memory tier's size. */
  maxBytes: number
  /** How long a miss waits while another instance makes the same call (cross-instance single-flight). */
  lockWaitMs: number
  /** How long an entry stays in memory at most (`l1TtlMs`, or `redis.localTtlMs`); its own freshness when undefined. */
  l1TtlMs?: number | undefined
}

/** The lock of a refresh without Redis: nobody else to exclude. */
const noLock: LockHandle = Object.freeze({ held: false, release: async () => {} })

/** A tier slower than memory, by the name `Cache-Status` gives it. */
export type RemoteTierName = Exclude<Tier, 'l1' | 'semantic'>

/** An entry a lookup that went to a remote tier answered with, and which tier it was (memory's, when only it kept a stale one). */
export interface RemoteHit {
  entry: CacheEntry
  tier: Tier
}

/** Told how each remote lookup went (a request's observation is one). */
export interface LookupObserver {
  lookedUp(tier: RemoteTierName, startedAt: number, found: boolean): void
}

/**
 * The cache's tiers as one: the memory tier (L1) and, once connected, the
 * Redis layer (L2). It owns everything that depends on which tiers there
 * are: the lookup order, promotion of remote hits into memory, storing,
 * namespace generations, invalidation (here and from other instances) and
 * cross-instance single-flight. The engine only says when each happens.
 */
export class TieredCache {
  /** The memory tier (a stand-in that holds nothing when it is turned off). */
  readonly memory: MemoryTier
  readonly #memoryOn: boolean
  readonly #lockWaitMs: number
  readonly #l1TtlMs: number | undefined
  #generations: Generations = new NamespaceGenerations()
  #layer: RedisLayer | undefined
  #closed = false

  constructor(options: TieredCacheOptions) {
    this.#memoryOn = options.memoryTier
    this.memory = options.memoryTier ? createMemoryTier({ maxBytes: options.maxBytes }) : noMemoryTier
    this.#lockWaitMs = options.lockWaitMs
    this.#l1TtlMs = options.l1TtlMs
  }

  /** The remote tier, once connected. */
  get remote(): RemoteTier | undefined {
    return this.#layer
  }

  /** The Redis layer behind the remote tier, once connected: its connection and what Redis said of itself (`INFO`). */
  get redis(): RedisLayer | undefined {
    return this.#layer
  }

  /**
   * Connects the Redis layer and uses it from then on; `onConnected` gets
   * its client (the rate limits share it). Resolves within about a second
   * even when Redis is down (the layer connects later), and never rejects:
   * a layer that cannot be made (a bad option) is not used, with a warning.
   */
  async connect(options: RedisLayerOptions, onConnected: (client: RedisClient) => void): Promise<void> {
    try {
      const layer = await createRedisLayer({
        ...options,
        // Once per state change, not once per request (RFC-style fail-open).
        onStateChange: (state, error) => {
          if (options.onStateChange) options.onStateChange(state, error)
          else console.warn(`aicache: Redis circuit ${state}${error ? `: ${(error as Error).message}` : ''}`)
        },
      })
      if (this.#closed) return void (await layer.close())
      this.#layer = layer
      this.#generations = new SharedGenerations(layer)
      // Another instance deleted a key: drop our copy too. Namespace bumps need
      // nothing here: the generation is part of every key.
      layer.onInvalidate((message) => {
        if (message.kind === 'key') this.memory.delete(message.key)
      })
      onConnected(layer.client)
    } catch (error) {
      console.warn(`aicache: Redis is not used: ${(error as Error).message}`)
    }
  }

  /** The namespace's generation; read from Redis first when this instance may have missed a bump. */
  generation(namespace: string): number | Promise<number> {
    return this.#generations.get(namespace)
  }

  /**
   * Invalidates every entry of a namespace (`defaultNamespace` when none is
   * named) by bumping its generation, or of every namespace with
   * `{ all: true }` (the epoch). With Redis, every instance sees it.
   */
  async invalidate(target: { namespace?: string; all?: boolean }, defaultNamespace: string): Promise<void> {
    if (target.all === true && target.namespace !== undefined) {
      throw new AiCacheError('invalid_value', "Invalidate either one 'namespace' or 'all', not both.", { param: 'all' })
    }
    const namespace = target.all === true ? allNamespaces : (target.namespace ?? defaultNamespace)
    if (namespace === allNamespaces && target.all !== true) {
      throw new AiCacheError('invalid_value', `'${allNamespaces}' is not a namespace; invalidate with { all: true }.`, { param: 'namespace' })
    }
    await this.#generations.bump(namespace)
  }

  /**
   * The entry of `key`, fastest tier first. A memory hit is the entry
   * itself, synchronously (so it waits for nothing and allocates nothing),
   * its hit counted; otherwise a promise of what the remote tier had, with
   * the tier's name; `undefined` when no tier has it. An entry past its
   * freshness that a tier still keeps for its grace period (stale-if-error,
   * stale-while-revalidate) is returned when no tier has a fresh one: the
   * caller tells it apart by `createdAt + ttlMs` and never serves it as fresh.
   */
  lookUp(key: string, nowMs: number, observer: LookupObserver): CacheEntry | Promise<RemoteHit | undefined> | undefined {
    const entry = this.memory.get(key, nowMs)
    if (entry !== undefined) {
      this.#countHit(key, entry, nowMs)
      return entry
    }
    const layer = this.#layer
    return layer === undefined ? this.memory.peek(key, nowMs) : this.#lookUpRemote(layer, key, observer)
  }

  /**
   * A remote hit was answered with: memory keeps it for the rest of its
   * freshness (or `redis.localTtlMs`), and `graceMs` longer for stale answers.
   */
  promote(key: string, entry: CacheEntry, nowMs: number, graceMs = 0): void {
    const local = this.#locallyBounded(entry, nowMs)
    // A copy bounded by `localTtlMs` is not kept past it: its freshness here is not the answer's.
    this.memory.set(key, local, local === entry ? graceMs : 0)
  }

  /**
   * The hits of `key`'s entry in this process (memory tier), or `undefined`
   * when memory does not hold it.
   */
  hitsOf(key: string, nowMs = Date.now()): EntryHits | undefined {
    const entry = this.memory.peek(key, nowMs)
    return entry === undefined ? undefined : entryHits(entry, nowMs)
  }

  /**
   * Stores an entry: in memory at once, remotely in the background (never
   * on the response's path). Resolves when the remote tier has it (or gave
   * up: fail-open). With `counted` (a stream whose usage is being counted),
   * the counted entry replaces it when it arrives, unless the memory tier
   * no longer holds this one (it was deleted, invalidated or replaced
   * meanwhile, and must stay so).
   */
  async keep(key: string, entry: CacheEntry, counted?: Promise<CacheEntry | undefined>, graceMs = 0): Promise<void> {
    const local = this.#locallyBounded(entry, Date.now())
    this.memory.set(key, local, local === entry ? graceMs : 0)
    if (this.#layer) await this.#layer.set(key, entry, graceMs)
    const countedEntry = await counted
    if (countedEntry === undefined) return
    if (this.#memoryOn && this.memory.get(key) !== local) return
    await this.keep(key, countedEntry, undefined, graceMs)
  }

  /**
   * The lock of `key` for a background refresh, if nobody holds it (a
   * stand-in when Redis is unavailable, `{ held: false }` without Redis);
   * `undefined` while another instance holds it (it is refreshing or
   * producing the answer): the refresh is not made twice.
   */
  async lockForRefresh(key: string): Promise<LockHandle | undefined> {
    const layer = this.#layer
    return layer === undefined ? noLock : layer.acquire(key)
  }

  /** The fresh entry of `key` in the remote tier, if any (without Redis: `undefined`). */
  async remoteFresh(key: string): Promise<CacheEntry | undefined> {
    return this.#layer?.get(key)
  }

  /**
   * Cross-instance single-flight for a miss about to be produced: another
   * instance's entry or failure when it answered meanwhile, else the lock
   * to produce it here (none without Redis, or after `lockWaitMs`).
   */
  async claim(key: string): Promise<Claim> {
    const layer = this.#layer
    if (layer === undefined) return {}
    return claimAcross(layer, key, this.#lockWaitMs)
  }

  /** Drops every entry of the memory tier. */
  clear(): void {
    this.memory.clear()
  }

  /** Closes the Redis layer (and one still connecting, when it arrives). */
  async close(): Promise<void> {
    this.#closed = true
    await this.#layer?.close()
  }

  /**
   * The entry as the memory tier keeps it: with `l1TtlMs` (or
   * `redis.localTtlMs`), for at most that long from now, so hot answers live
   * briefly in memory and an instance that cannot hear invalidations (Redis
   * down) serves an invalidated entry for a known time at most. Redis keeps
   * the entry's own freshness.
   */
  #locallyBounded(entry: CacheEntry, nowMs: number): CacheEntry {
    const localTtlMs = this.#l1TtlMs
    if (localTtlMs === undefined || entry.createdAt + entry.ttlMs <= nowMs + localTtlMs) return entry
    return { ...entry, ttlMs: nowMs + localTtlMs - entry.createdAt }
  }

  /** A memory hit: counted on the entry (and, with Redis, added to its shared count in the background). */
  #countHit(key: string, entry: CacheEntry, nowMs: number): void {
    countHit(entry, nowMs)
  }

  /** The remote tier's entry (fresh, else one kept for its grace period); memory's stale one when it has none. */
  async #lookUpRemote(remote: RedisLayer, key: string, observer: LookupObserver): Promise<RemoteHit | undefined> {
    const startedAt = performance.now()
    const entry = await remote.getRetained(key)
    const nowMs = Date.now()
    const fresh = entry !== undefined && entry.createdAt + entry.ttlMs > nowMs
    observer.lookedUp('l2', startedAt, fresh)
    if (fresh) {
      this.#countHit(key, entry, nowMs)
      return { entry, tier: 'l2' }
    }
    const local = this.memory.peek(key, nowMs)
    if (local !== undefined && (entry === undefined || local.createdAt >= entry.createdAt)) return { entry: local, tier: 'l1' }
    return entry === undefined ? undefined : { entry, tier: 'l2' }
  }
}
