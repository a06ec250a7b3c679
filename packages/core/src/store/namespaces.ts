import type { Generations } from '../tiers/generations.js'
import { allNamespaces } from './redis-generations.js'

/**
 * Generation numbers of namespaces, in one process (no Redis). The
 * generation is part of every key, so bumping it makes all entries of a
 * namespace unreachable in O(1); the stores then drop them as they age out.
 *
 * Only namespaces that were invalidated are held (the rest are 0), so
 * namespaces a caller names in `x-aicache-namespace` cost nothing here; and
 * a bump is never forgotten, so an invalidated namespace never serves its
 * old entries. Bumping {@link allNamespaces} (the epoch) invalidates every
 * namespace; the epoch is part of every generation.
 */
export class NamespaceGenerations implements Generations {
  readonly #generations = new Map<string, number>()
  // 2^32 per epoch: see redis-generations.ts.
  #epochOffset = 0

  /** The current generation of a namespace, epoch included (0 until it or the epoch is first bumped). */
  get(namespace: string): number {
    return (this.#generations.get(namespace) ?? 0) + this.#epochOffset
  }

  /** Invalidates a namespace (every namespace for {@link allNamespaces}); returns its own new generation. */
  bump(namespace: string): number {
    const next = (this.#generations.get(namespace) ?? 0) + 1
    this.#generations.set(namespace, next)
    if (namespace === allNamespaces) this.#epochOffset = next * 2 ** 32
    return next
  }
}
