import type { TokenUsage } from '../exchange/types.js'
import type { Tier } from './cache-status.js'

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
  /** Tokens that hits did not spend. */
  tokensSaved: { input: number; output: number }
  /** The memory tier now. */
  memory: { entries: number; bytes: number }
}

/** The counters, kept in one place so no branch forgets one. */
export class StatsRecorder {
  requests = 0
  misses = 0
  bypasses = 0
  coalesced = 0
  errors = 0
  passthrough = 0
  readonly hits: Record<Tier, number> = { l1: 0, l2: 0 }
  readonly tokensSaved = { input: 0, output: 0 }

  hit(tier: Tier, usage: TokenUsage | undefined): void {
    this.hits[tier]++
    if (usage) {
      this.tokensSaved.input += usage.inputTokens
      this.tokensSaved.output += usage.outputTokens
    }
  }

  snapshot(memory: { entries: number; bytes: number }): AiCacheStats {
    return {
      requests: this.requests,
      hits: { ...this.hits },
      misses: this.misses,
      bypasses: this.bypasses,
      coalesced: this.coalesced,
      errors: this.errors,
      passthrough: this.passthrough,
      tokensSaved: { ...this.tokensSaved },
      memory,
    }
  }
}
