/** How often one key was asked for: a holder, so that counting it again is one map lookup and no write to the map. */
interface Tally {
  count: number
}

/** The keys one namespace (in one generation) was asked for since the last flush, with how often. */
interface NamespaceCounts {
  readonly namespace: string
  generation: number
  readonly counts: Map<string, Tally>
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
 * it costs one map lookup and an increment: no promise, no closure, and no
 * allocation for a key counted before (a new key adds one map entry, up to
 * `maxKeys`; past it, new keys are not counted until the next drain, while
 * keys already counted go on counting, so the hot keys that came first win).
 */
export class HotKeyCounts {
  readonly #namespaces = new Map<string, NamespaceCounts>()
  readonly #maxKeys: number
  #size = 0
  // Requests mostly stay in one namespace: its counts are at hand without a lookup.
  #last: NamespaceCounts | undefined

  constructor(maxKeys: number) {
    this.#maxKeys = maxKeys
  }

  /** Distinct keys counted since the last drain. */
  get size(): number {
    return this.#size
  }

  /** One request for `key` of `namespace` in `generation`. A new generation drops the namespace's counts so far (their keys can no longer be hit). */
  count(namespace: string, generation: number, key: string): void {
    let counts = this.#last
    if (counts === undefined || counts.namespace !== namespace) {
      counts = this.#namespaces.get(namespace)
      if (counts === undefined) {
        if (this.#size >= this.#maxKeys) return
        counts = { namespace, generation, counts: new Map() }
        this.#namespaces.set(namespace, counts)
      }
      this.#last = counts
    }
    if (counts.generation !== generation) {
      this.#size -= counts.counts.size
      counts.counts.clear()
      counts.generation = generation
    }
    const tally = counts.counts.get(key)
    if (tally !== undefined) {
      tally.count++
    } else if (this.#size < this.#maxKeys) {
      counts.counts.set(key, { count: 1 })
      this.#size++
    }
  }

  /** Takes every count out (for a flush to Redis) and starts again from zero. */
  drain(): DrainedCounts[] {
    const drained: DrainedCounts[] = []
    for (const { namespace, generation, counts } of this.#namespaces.values()) {
      if (counts.size > 0) drained.push({ namespace, generation, counts: Array.from(counts, ([key, tally]) => [key, tally.count] as const) })
    }
    // Namespaces go too: one asked for once must not hold a map for ever.
    this.#namespaces.clear()
    this.#last = undefined
    this.#size = 0
    return drained
  }
}
