import { LRUCache } from 'lru-cache'
import type { Tier } from '../engine/cache-status.js'
import type { Outcome } from '../exchange/types.js'
import type { Production } from '../flight/production.js'
import type { ResolvedAiCacheOptions } from '../options.js'
import type { CacheEntry } from '../store/entry.js'
import { resolveRedisLayerOptions } from '../store/redis-layer-options.js'
import { attribute } from '../telemetry/names.js'
import type { RequestObservation, Telemetry } from '../telemetry/telemetry.js'
import type { TieredCache } from '../tiers/tiered-cache.js'
import { RedisVectors } from './redis-vectors.js'
import type { ResolvedSemanticOptions } from './semantic-options.js'
import type { SemanticLookup } from './semantic-query.js'
import type { SemanticStats } from './semantic-stats.js'
import type { EmbedCaller, SemanticIndex, SemanticNeighbour } from './types.js'

/** One context's stored questions here, and how far its Redis stream was read. */
interface ContextState {
  readonly index: SemanticIndex
  /** The last stream record read; `undefined` before the first read. */
  lastId: string | undefined
  /** The read under way, which concurrent lookups of the context share. */
  syncing: Promise<void> | undefined
}

/** A neighbour's entry served for a request. */
export interface SemanticHit {
  outcome: Outcome
  entry: CacheEntry
  /** Where the entry was found (`l1` or `l2`): a remote one is promoted by the caller. */
  foundIn: Tier
  key: string
  similarity: number
}

/** What a lookup needs of the request being served. */
export interface SemanticServing {
  observation: RequestObservation
  signal: AbortSignal
  caller: EmbedCaller
  /** The entry as this request wants it, or `undefined` when it cannot be served to it (too old, not representable). */
  show(entry: CacheEntry): Outcome | undefined
}

/** Where the semantic tier reaches Redis, once the layer is connected. */
export interface SemanticRedis {
  prefix: string
  timeoutMs: number
}

/** The response header of a semantic hit: the cosine similarity of the stored question it answered, four decimals. */
export const similarityHeader = 'x-aicache-similarity'

class EmbedTimeout extends Error {}

/**
 * The engine's semantic tier, when its `semantic` option is given. With
 * Redis, stored questions go to streams under the Redis layer's prefix.
 */
export function createSemanticTier(options: ResolvedAiCacheOptions, tiers: TieredCache, telemetry: Telemetry): SemanticTier | undefined {
  if (options.semantic === undefined) return undefined
  const layer = options.redis && resolveRedisLayerOptions(options.redis)
  return new SemanticTier(options.semantic, tiers, telemetry, layer && { prefix: layer.prefix, timeoutMs: layer.timeoutMs })
}

/**
 * The semantic tier: one index per context key (docs/semantic-cache.md),
 * kept in memory for the most recently used contexts and, with Redis, in
 * one stream per context that every instance reads (`RedisVectors`). The
 * engine asks it on an exact miss; it embeds the last user turn, finds the
 * nearest stored questions of the same context, asks the judge, and hands
 * back the first neighbour whose entry is still stored and can be shown.
 * Every failure (embedder, Redis) is a semantic miss.
 */
export class SemanticTier {
  readonly options: ResolvedSemanticOptions
  readonly #tiers: TieredCache
  readonly #telemetry: Telemetry
  readonly #redis: SemanticRedis | undefined
  #vectors: RedisVectors | undefined
  readonly #contexts: LRUCache<string, ContextState>
  readonly #rejections: Record<string, number> = {}
  #lookups = 0
  #hits = 0

  constructor(options: ResolvedSemanticOptions, tiers: TieredCache, telemetry: Telemetry, redis: SemanticRedis | undefined) {
    this.options = options
    this.#tiers = tiers
    this.#telemetry = telemetry
    this.#redis = redis
    const maxEntries = options.maxEntries
    this.#contexts = new LRUCache<string, ContextState>({ maxSize: maxEntries, sizeCalculation: (state) => Math.min(maxEntries, state.index.size + 1) })
  }

  /** The stored question nearest in meaning whose entry can answer this request, or `undefined`. */
  async find(lookup: SemanticLookup, serving: SemanticServing): Promise<SemanticHit | undefined> {
    this.#lookups++
    const vector = await this.#embed(lookup.text, serving)
    if (vector === undefined) return undefined
    lookup.vector = vector
    const state = this.#stateOf(lookup.context)
    await this.#sync(lookup.context, state)
    const neighbours = state.index.nearest(vector, this.options.maxCandidates)
    if (neighbours.length === 0) return void this.#rejected(serving.observation, 'no_neighbour')
    const { observation } = serving
    observation.similarity = neighbours[0]!.similarity
    let firstReason = 'threshold'
    for (const [index, neighbour] of neighbours.entries()) {
      const refusal = this.options.judge.judge(lookup.text, neighbour, lookup.threshold)
      // A refused neighbour ends the lookup: the next ones are further away still, and
      // trying them turns refusals into wrong answers (the evaluation measured it).
      if (refusal !== undefined) {
        if (index === 0) firstReason = refusal
        break
      }
      const reason = await this.#serve(lookup.context, state, neighbour, serving)
      if (typeof reason !== 'string') {
        observation.similarity = neighbour.similarity
        this.#hits++
        this.#telemetry.instruments?.semanticSimilarity.record(neighbour.similarity, { ...this.#telemetry.engineAttributes, [attribute.result]: 'hit' })
        return reason
      }
      if (index === 0) firstReason = reason
    }
    // One rejection per lookup, for the reason its nearest neighbour was not served.
    this.#rejected(observation, firstReason)
    this.#telemetry.instruments?.semanticSimilarity.record(neighbours[0]!.similarity, { ...this.#telemetry.engineAttributes, [attribute.result]: 'miss' })
    return undefined
  }

  /**
   * Adds the lookup's question to its context once the miss's answer is
   * stored under `key` (here, and in Redis for every instance).
   */
  addWhenStored(lookup: SemanticLookup, key: string, production: Production, ttlMs: number): void {
    production.result().then(
      (result) => {
        const vector = lookup.vector
        if (!result.stored || vector === undefined) return
        const state = this.#stateOf(lookup.context)
        state.index.add(key, lookup.text, vector)
        this.#contexts.set(lookup.context, state)
        void this.#vectorStore()?.append(lookup.context, key, lookup.text, vector, ttlMs)
      },
      () => undefined,
    )
  }

  stats(): SemanticStats {
    let entries = 0
    for (const state of this.#contexts.values()) entries += state.index.size
    return { lookups: this.#lookups, hits: this.#hits, rejections: { ...this.#rejections }, contexts: this.#contexts.size, entries }
  }

  close(): void {
    this.#vectors?.close()
  }

  /** The neighbour's entry shown to this request, or why it cannot be. */
  async #serve(context: string, state: ContextState, neighbour: SemanticNeighbour, serving: SemanticServing): Promise<SemanticHit | string> {
    const found = this.#tiers.lookUp(neighbour.key, Date.now(), serving.observation)
    let entry: CacheEntry | undefined
    let foundIn: Tier = 'l1'
    if (found instanceof Promise) {
      const remote = await found
      entry = remote?.entry
      foundIn = 'l2'
    } else entry = found
    if (entry === undefined) {
      // Expired, evicted or deleted: the question is forgotten here and by every instance.
      state.index.remove(neighbour.key)
      void this.#vectorStore()?.remove(context, neighbour.key)
      return 'gone'
    }
    const outcome = serving.show(entry)
    return outcome === undefined ? 'unusable' : { outcome, entry, foundIn, key: neighbour.key, similarity: neighbour.similarity }
  }

  /** The query's vector; `undefined` (a miss, counted by reason) when the embedder failed or took too long. */
  async #embed(text: string, serving: SemanticServing): Promise<Float32Array | undefined> {
    const startedAt = performance.now()
    const timeout = AbortSignal.timeout(this.options.embedTimeoutMs)
    const signal = AbortSignal.any([serving.signal, timeout])
    let result: 'ok' | 'error' | 'timeout' = 'ok'
    try {
      const vectors = await new Promise<Float32Array[]>((resolve, reject) => {
        const abandon = () => reject(timeout.aborted ? new EmbedTimeout() : signal.reason)
        if (signal.aborted) return abandon()
        signal.addEventListener('abort', abandon, { once: true })
        this.options.embed.embed([text], signal, serving.caller).then(resolve, reject)
      })
      const vector = vectors[0]
      if (!(vector instanceof Float32Array) || vector.length === 0) throw new TypeError('The embedder returned no vector')
      return vector
    } catch (error) {
      result = error instanceof EmbedTimeout ? 'timeout' : 'error'
      this.#rejected(serving.observation, result === 'timeout' ? 'embed_timeout' : 'embed_error')
      return undefined
    } finally {
      this.#telemetry.instruments?.semanticEmbedDuration.record((performance.now() - startedAt) / 1000, {
        ...this.#telemetry.engineAttributes,
        [attribute.result]: result,
      })
    }
  }

  #stateOf(context: string): ContextState {
    let state = this.#contexts.get(context)
    if (state === undefined) {
      state = { index: this.options.index(), lastId: undefined, syncing: undefined }
      this.#contexts.set(context, state)
    }
    return state
  }

  /** Reads what other instances appended to the context's stream since the last read (all of it the first time). */
  async #sync(context: string, state: ContextState): Promise<void> {
    const vectors = this.#vectorStore()
    if (vectors === undefined) return
    state.syncing ??= (async () => {
      try {
        const page = await vectors.read(context, state.lastId)
        if (page === undefined) return
        for (const record of page.records) {
          if ('removed' in record) state.index.remove(record.key)
          else state.index.add(record.key, record.text, record.vector)
        }
        state.lastId = page.lastId
        if (page.records.length > 0 && this.#contexts.get(context) === state) this.#contexts.set(context, state)
      } finally {
        state.syncing = undefined
      }
    })()
    await state.syncing
  }

  /** The Redis streams, once the Redis layer is connected. */
  #vectorStore(): RedisVectors | undefined {
    if (this.#vectors !== undefined || this.#redis === undefined) return this.#vectors
    const layer = this.#tiers.redis
    if (layer === undefined) return undefined
    this.#vectors = new RedisVectors({
      client: layer.client,
      prefix: this.#redis.prefix,
      timeoutMs: this.#redis.timeoutMs,
      maxPerContext: this.options.maxEntries,
    })
    return this.#vectors
  }

  #rejected(observation: RequestObservation, reason: string): void {
    observation.semanticRejection = reason
    this.#count(reason)
  }

  #count(reason: string): void {
    this.#rejections[reason] = (this.#rejections[reason] ?? 0) + 1
    const telemetry = this.#telemetry
    telemetry.counts.semanticRejections.add(reason, 1, () => ({ ...telemetry.engineAttributes, [attribute.semanticRejection]: reason }))
  }
}
