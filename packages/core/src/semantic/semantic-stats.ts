/** The semantic cache's counters, in `stats().semantic`. */
export interface SemanticStats {
  /** Exact misses that were looked up by meaning. */
  lookups: number
  /** Lookups answered with a neighbour's entry (also in `hits.semantic`). */
  hits: number
  /**
   * Why neighbours (or whole lookups) were not served: `threshold` and the
   * judge's other reasons, `gone` (the neighbour's entry expired or was
   * evicted: it is forgotten), `unusable` (too old for `max-age`, or not
   * shown the way the request asks), `no_neighbour`, `embed_error`, `embed_timeout`.
   */
  rejections: Record<string, number>
  /** Contexts whose stored questions this instance holds in memory. */
  contexts: number
  /** Stored questions this instance holds in memory, over all contexts. */
  entries: number
}
