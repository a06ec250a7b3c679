import type { TokenUsage } from '../exchange/types.js'
import type { CircuitState } from '../resilience/circuit-breaker.js'
import type { RedisServerFacts } from '../store/redis-info.js'
import type { RequestResult } from '../telemetry/names.js'
import type { Tier } from './cache-status.js'
import type { SemanticStats } from '../semantic/semantic-stats.js'

/** Counters of one engine since it was created. */
export interface AiCacheStats {
  /** Requests to cacheable operations. */
  requests: number
  /** Answered from the cache, by tier. */
  hits: Record<Tier, number>
  /** Sent upstream (or to the handler) after a lookup found nothing fresh. */
  misses: number
  /** Cacheable requests that skipped the cache (`no-store`, streams). */
  bypasses: number
  /** Requests that shared an identical in-flight miss instead of making their own. */
  coalesced: number
  /** Requests answered with an error made by aicache (bad input, upstream unreachable). */
  errors: number
  /** Requests to routes aicache forwards without caching. */
  passthrough: number
  /**
   * Hits answered from a stale entry (counted in `hits` too), by why:
   * `error` (stale-if-error), `revalidate` (stale-while-revalidate).
   */
  stale: { error: number; revalidate: number }
  /** Background refreshes (stale-while-revalidate, refresh-ahead) that ended with the entry replaced, or failed (the entry kept). */
  refreshes: { stored: number; failed: number }
  /** Tokens that hits did not spend. */
  tokensSaved: { input: number; output: number }
  /** Dollars that hits did not spend (models with a known price only). */
  costSavedUsd: number
  /** Dollars spent on upstream calls (models with a known price only). */
  costSpentUsd: number
  /**
   * Input tokens of upstream calls (and an app's own handler's answers)
   * that the provider read from or wrote to its own prompt cache, as it
   * reported them: the provider's caching beside `tokensSaved`.
   */
  providerCacheTokens: { read: number; write: number }
  /** The per-input embeddings cache (docs/embeddings.md). */
  embeddings: EmbeddingStats
  /** The memory tier now. */
  memory: { entries: number; bytes: number }
  /**
   * The Redis layer now (when configured): whether its connection is up,
   * its circuit breaker's state (`closed` only means calls are not failing
   * yet) and failed calls so far; `server` is what Redis said about itself
   * at the last `INFO` read (`redis.infoIntervalMs`: memory, evictions,
   * keyspace hits), absent before the first.
   */
  redis?: { connected: boolean; state: CircuitState; errors: number; server?: RedisServerFacts }
  /** The semantic cache (when configured): lookups, why neighbours were not served, what this instance holds. */
  semantic?: SemanticStats
}

/** Inputs of embeddings requests, counted one by one (docs/embeddings.md). */
export interface EmbeddingStats {
  /** Inputs answered from a stored vector. */
  inputsFromCache: number
  /** Inputs sent upstream. */
  inputsSent: number
  /** Inputs that waited on the same input already being fetched for another request. */
  inputsCollapsed: number
  /** Upstream calls made for missing inputs. */
  upstreamCalls: number
  /** Of those, calls that carried the inputs of more than one request. */
  batchesMerged: number
}

/**
 * The counters. Requests are counted only through `request()`, which the
 * telemetry observation calls once per request, so no branch forgets one.
 */
export class StatsRecorder {
  requests = 0
  misses = 0
  bypasses = 0
  coalesced = 0
  errors = 0
  passthrough = 0
  costSavedUsd = 0
  costSpentUsd = 0
  readonly hits: Record<Tier, number> = { l1: 0, l2: 0, semantic: 0 }
  readonly tokensSaved = { input: 0, output: 0 }
  readonly providerCacheTokens = { read: 0, write: 0 }
  readonly embeddings: EmbeddingStats = { inputsFromCache: 0, inputsSent: 0, inputsCollapsed: 0, upstreamCalls: 0, batchesMerged: 0 }
  readonly stale = { error: 0, revalidate: 0 }
  readonly refreshes = { stored: 0, failed: 0 }

  /** One request to a cacheable operation has been answered. */
  request(result: RequestResult, tier: Tier | undefined, saved: TokenUsage | undefined, costSavedUsd: number | undefined): void {
    this.requests++
    if (result === 'hit') this.hits[tier ?? 'l1']++
    else if (result === 'miss') this.misses++
    else if (result === 'bypass') this.bypasses++
    else if (result === 'coalesced') this.coalesced++
    else this.errors++
    if (saved) {
      this.tokensSaved.input += saved.inputTokens
      this.tokensSaved.output += saved.outputTokens
    }
    if (costSavedUsd !== undefined) this.costSavedUsd += costSavedUsd
  }

  /** An upstream call cost this much. */
  spent(costUsd: number): void {
    this.costSpentUsd += costUsd
  }

  /** An upstream call's provider read `read` input tokens from its prompt cache and wrote `write`. */
  providerCached(read: number, write: number): void {
    this.providerCacheTokens.read += read
    this.providerCacheTokens.write += write
  }

  snapshot(memory: { entries: number; bytes: number }, redis?: AiCacheStats['redis'], semantic?: SemanticStats): AiCacheStats {
    return {
      requests: this.requests,
      hits: { ...this.hits },
      misses: this.misses,
      bypasses: this.bypasses,
      coalesced: this.coalesced,
      errors: this.errors,
      passthrough: this.passthrough,
      stale: { ...this.stale },
      refreshes: { ...this.refreshes },
      tokensSaved: { ...this.tokensSaved },
      costSavedUsd: this.costSavedUsd,
      costSpentUsd: this.costSpentUsd,
      providerCacheTokens: { ...this.providerCacheTokens },
      embeddings: { ...this.embeddings },
      memory,
      ...(redis === undefined ? {} : { redis }),
      ...(semantic === undefined ? {} : { semantic }),
    }
  }
}
