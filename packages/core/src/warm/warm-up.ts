import type { ResolvedAiCacheOptions } from '../options.js'
import { entrySizeBytes } from '../store/entry.js'
import type { RedisLayer } from '../store/redis-layer.js'
import { resolveRedisLayerOptions } from '../store/redis-layer-options.js'
import { noMemoryTier } from '../tiers/tier.js'
import type { TieredCache } from '../tiers/tiered-cache.js'
import { HotKeyCounts } from './hot-key-counts.js'
import { HotKeyRanking, type RankedKey, within } from './hot-key-ranking.js'
import type { ResolvedWarmUpOptions } from './warm-up-options.js'

/** How the warm-up at start went (`engine.warmUpReport`). */
export interface WarmUpReport {
  /** Entries loaded into the memory tier. */
  loaded: number
  /** Their size, as the memory tier counts it. */
  bytes: number
  /** Hot keys found in the ranking. */
  ranked: number
  /** Ranked keys not loaded: already in memory, gone from Redis (expired, evicted), or over `maxEntries` / `maxBytes`. */
  skipped: number
  /** How long it took (ms). */
  durationMs: number
  /** Why it stopped early (Redis failed, or `timeoutMs` passed); absent when it finished. */
  error?: string
}

// One flush or ranking read slower than this is given up (the counts are dropped: they are a hint).
const rankingTimeoutMs = 2_000
// Entries read from Redis at once while warming up.
const loadConcurrency = 16

/**
 * Warm-up from Redis. Every request's key is counted here (see
 * {@link HotKeyCounts}) and flushed to the ranking in Redis every
 * `flushIntervalMs`; at start, the hottest entries of the configured
 * namespaces are loaded into the memory tier, bounded by count, bytes and
 * time, before the engine reports ready. Redis failing never fails or
 * blocks anything: a flush is dropped, a warm-up ends early.
 */
export class WarmUp {
  readonly #options: ResolvedWarmUpOptions
  readonly #prefix: string
  readonly #counts: HotKeyCounts
  #ranking: HotKeyRanking | undefined
  #timer: NodeJS.Timeout | undefined
  #flushing: Promise<void> | undefined
  #report: WarmUpReport | undefined
  #closed = false

  constructor(options: ResolvedWarmUpOptions, prefix: string) {
    this.#options = options
    this.#prefix = prefix
    this.#counts = new HotKeyCounts(options.maxTrackedKeys)
  }

  /** How the warm-up at start went; `undefined` until it ended (or without one). */
  get report(): WarmUpReport | undefined {
    return this.#report
  }

  /** A request for `key` (on the request path: a map increment, nothing else). */
  count(namespace: string, generation: number, key: string): void {
    this.#counts.count(namespace, generation, key)
  }

  /**
   * Once the Redis layer is connected: starts flushing the counts and, with
   * `onStart`, fills the memory tier. Resolves within `timeoutMs` whatever
   * Redis does; never rejects.
   */
  async start(tiers: TieredCache): Promise<void> {
    const layer = tiers.redis
    if (layer === undefined || this.#closed) return
    const { periodMs, periods, maxRankedKeys, flushIntervalMs } = this.#options
    this.#ranking = new HotKeyRanking({ client: layer.client, prefix: this.#prefix, periodMs, periods, maxRankedKeys, timeoutMs: rankingTimeoutMs })
    this.#timer = setInterval(() => void this.flush(), flushIntervalMs)
    this.#timer.unref()
    // Without a memory tier (`memoryTier: false`) there is nothing to fill: the instance still ranks for the others.
    if (this.#options.onStart && tiers.memory !== noMemoryTier) this.#report = await this.#warmUp(tiers, layer, this.#ranking)
  }

  /** Sends the counts so far to Redis (one flush at a time); resolves when done or dropped. */
  async flush(): Promise<void> {
    if (this.#ranking === undefined) return
    if (this.#flushing) return this.#flushing
    const drained = this.#counts.drain()
    if (drained.length === 0) return
    this.#flushing = this.#ranking
      .add(drained)
      // Counts are a hint: lost ones only make the next warm-up a little less exact.
      .catch(() => {})
      .finally(() => (this.#flushing = undefined))
    return this.#flushing
  }

  /** Stops flushing, after a last flush of what was counted. */
  async close(): Promise<void> {
    this.#closed = true
    clearInterval(this.#timer)
    await this.flush()
  }

  async #warmUp(tiers: TieredCache, layer: RedisLayer, ranking: HotKeyRanking): Promise<WarmUpReport> {
    const startedAt = performance.now()
    const progress = { loaded: 0, bytes: 0, ranked: 0, skipped: 0, stopped: false }
    let error: string | undefined
    try {
      await within(this.#load(tiers, layer, ranking, progress), this.#options.timeoutMs, 'warming up')
    } catch (failure) {
      error = (failure as Error).message
    } finally {
      // Past the deadline nothing more is loaded: the instance is ready, and serving.
      progress.stopped = true
    }
    const { loaded, bytes, ranked, skipped } = progress
    return { loaded, bytes, ranked, skipped, durationMs: Math.round(performance.now() - startedAt), ...(error === undefined ? {} : { error }) }
  }

  async #load(tiers: TieredCache, layer: RedisLayer, ranking: HotKeyRanking, progress: LoadProgress): Promise<void> {
    const { maxEntries, maxBytes, namespaces, maxRankedKeys } = this.#options
    // Twice as many as are loaded: some entries of the ranking may be gone from Redis (expired, evicted).
    const limit = Math.min(2 * maxEntries, maxRankedKeys)
    const candidates: RankedKey[] = []
    for (const namespace of namespaces) {
      const generation = await tiers.generation(namespace)
      candidates.push(...(await ranking.top(namespace, generation, limit)))
    }
    candidates.sort((first, second) => second.score - first.score)
    progress.ranked = candidates.length
    let next = 0
    const worker = async () => {
      while (!progress.stopped && next < candidates.length) {
        const { key } = candidates[next++]!
        if (progress.loaded >= maxEntries || tiers.memory.get(key) !== undefined) {
          progress.skipped++
          continue
        }
        const entry = await layer.get(key)
        const size = entry === undefined ? 0 : entrySizeBytes(entry)
        if (entry === undefined || progress.stopped || progress.loaded >= maxEntries || progress.bytes + size > maxBytes) {
          progress.skipped++
          continue
        }
        tiers.promote(key, entry, Date.now())
        progress.loaded++
        progress.bytes += size
      }
    }
    await Promise.all(Array.from({ length: loadConcurrency }, worker))
  }
}

interface LoadProgress {
  loaded: number
  bytes: number
  ranked: number
  skipped: number
  stopped: boolean
}

/** The engine's warm-up, when its `warmUp` option is on (it needs `redis`). */
export function createWarmUp(options: ResolvedAiCacheOptions): WarmUp | undefined {
  if (options.warmUp === undefined || options.redis === undefined) return undefined
  return new WarmUp(options.warmUp, resolveRedisLayerOptions(options.redis, 'redis').prefix)
}
