/** The keys one namespace (in one generation) was asked for since the last flush, with how often. */
export interface NamespaceCounts {
  readonly namespace: string
  generation: number
  readonly counts: Map<string, number>
}

/** Counts taken out by {@link HotKeyCounts.drain}: one namespace's keys and counts. */
export interface DrainedCounts {
  readonly namespace: string
  readonly generation: number
  readonly counts: ReadonlyArray<readonly [key: string, count: number]>
}

/**
 * How often each cache key was asked for since the last flush, per
 * namespace, in a map of bounded size. Counting is on the request path, so
 * it costs one map lookup and one write: no promise, no closure, and no
 * allocation for a key counted before (a new key adds one map entry, up to
 * `maxKeys`; past it, new keys are not counted until the next drain, while
 * keys already counted go on counting, so the hot keys that came first win).
 */
export class HotKeyCounts {
  readonly #namespaces = new Map<string, NamespaceCounts>()
  readonly #maxKeys: number
  #size = 0

  constructor(maxKeys: number) {
    this.#maxKeys = maxKeys
  }

  /** Distinct keys counted since the last drain. */
  get size(): number {
    return this.#size
  }

  /** One request for `key` of `namespace` in `generation`. A new generation drops the namespace's counts so far (their keys can no longer be hit). */
  count(namespace: string, generation: number, key: string): void {
    let tally = this.#namespaces.get(namespace)
    if (tally === undefined) {
      if (this.#size >= this.#maxKeys) return
      tally = { namespace, generation, counts: new Map() }
      this.#namespaces.set(namespace, tally)
    } else if (tally.generation !== generation) {
      this.#size -= tally.counts.size
      tally.counts.clear()
      tally.generation = generation
    }
    const counted = tally.counts.get(key)
    if (counted !== undefined) {
      tally.counts.set(key, counted + 1)
    } else if (this.#size < this.#maxKeys) {
      tally.counts.set(key, 1)
      this.#size++
    }
  }

  /** Takes every count out (for a flush to Redis) and starts again from zero. */
  drain(): DrainedCounts[] {
    const drained: DrainedCounts[] = []
    for (const tally of this.#namespaces.values()) {
      if (tally.counts.size > 0) drained.push({ namespace: tally.namespace, generation: tally.generation, counts: [...tally.counts] })
    }
    // Namespaces go too: one asked for once must not hold a map for ever.
    this.#namespaces.clear()
    this.#size = 0
    return drained
  }
}
