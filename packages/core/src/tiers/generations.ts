import type { RedisLayer } from '../store/redis-layer.js'

/**
 * Generation numbers of namespaces. The generation is part of every key, so
 * bumping it makes every entry of a namespace unreachable in O(1); the
 * tiers then drop those entries as they age out. Bumping `allNamespaces`
 * (the epoch, part of every namespace's generation) invalidates them all.
 *
 * Two implementations: one process alone (`NamespaceGenerations` in
 * `store/namespaces.ts`) and shared through Redis ({@link SharedGenerations}).
 */
export interface Generations {
  /**
   * The namespace's current generation: a number when this instance knows
   * it (the hot path, synchronous), a promise while it must be read first
   * because a bump may have been missed.
   */
  get(namespace: string): number | Promise<number>
  /** Invalidates a namespace (every namespace for `allNamespaces`); resolves once every instance can see it. */
  bump(namespace: string): number | Promise<number>
}

/**
 * Generations shared by every instance through the Redis layer: the local
 * copy while it is synced with Redis (see `RedisGenerations`), otherwise
 * read from Redis first, so that a missed bump never serves old entries.
 */
export class SharedGenerations implements Generations {
  readonly #layer: RedisLayer

  constructor(layer: RedisLayer) {
    this.#layer = layer
  }

  get(namespace: string): number | Promise<number> {
    const layer = this.#layer
    return layer.isGenerationSynced(namespace) ? layer.generation(namespace) : layer.loadGeneration(namespace)
  }

  bump(namespace: string): Promise<number> {
    return this.#layer.bumpGeneration(namespace)
  }
}
