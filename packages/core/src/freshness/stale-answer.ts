import { type Tier, staleHitStatus } from '../engine/cache-status.js'
import { hitOf } from '../engine/hit.js'
import type { PreparedRequest } from '../engine/prepare.js'
import { AiCacheError } from '../errors.js'
import type { Outcome } from '../exchange/types.js'
import type { ResolvedAiCacheOptions } from '../options.js'
import type { CacheEntry } from '../store/entry.js'
import type { StaleReason } from '../telemetry/names.js'
import type { RequestObservation } from '../telemetry/telemetry.js'
import { staleSeconds } from './stale-policy.js'

/**
 * An entry past its freshness as this request wants it (JSON or a replayed
 * stream, like any hit), marked `Cache-Status: aicache; hit; ttl=-N;
 * detail=stale-if-error` (or `stale-while-revalidate`): RFC 9211's `ttl`
 * is negative for a stale answer. No `Warning` header (RFC 9111 made it
 * obsolete). `undefined` when the entry cannot be shown the way it asks.
 */
export function staleOutcome(
  entry: CacheEntry,
  prepared: PreparedRequest,
  tier: Tier,
  reason: StaleReason,
  replayPacing: ResolvedAiCacheOptions['replayPacing'],
): Outcome | undefined {
  const nowMs = Date.now()
  const hit = hitOf(entry, prepared, nowMs, tier, replayPacing)
  if (hit === undefined || hit.type === 'next') return hit
  return { ...hit, headers: { ...hit.headers, 'cache-status': staleHitStatus(staleSeconds(entry, nowMs), reason) } }
}

/** Records a stale answer on the request's observation: a hit of `tier`, saving what the entry cost, and why it was stale. */
export function observeStale(observation: RequestObservation, entry: CacheEntry, tier: Tier, reason: StaleReason): void {
  observation.result = 'hit'
  observation.tier = tier
  observation.saved = entry
  observation.stale = reason
}

/** Answers with a stale entry instead of an upstream failure: its outcome, or `undefined` to let the failure through. */
export type Rescue = () => Outcome | undefined

// What an upstream call ends with when it failed without an answer (thrown by the resilience layer or the pump).
const upstreamFailureCodes: ReadonlySet<string> = new Set(['upstream_unreachable', 'upstream_timeout', 'upstream_overloaded', 'circuit_open'])

/** Whether an answer is the upstream failing: a 5xx, or a 429 the retries could not get past. */
function isFailedAnswer(outcome: Outcome): boolean {
  return outcome.type === 'respond' && (outcome.status >= 500 || outcome.status === 429)
}

/**
 * stale-if-error (RFC 5861 section 4): the answer a miss followed, unless
 * the upstream failed (an error answer, a timeout, a connection error, an
 * open circuit), in which case `rescue` answers from the stale entry.
 */
export async function rescued(followed: Promise<Outcome>, rescue: Rescue | undefined): Promise<Outcome> {
  if (rescue === undefined) return followed
  let outcome: Outcome
  try {
    outcome = await followed
  } catch (error) {
    if (AiCacheError.isInstance(error) && upstreamFailureCodes.has(error.code)) {
      const stale = rescue()
      if (stale !== undefined) return stale
    }
    throw error
  }
  if (!isFailedAnswer(outcome)) return outcome
  return rescue() ?? outcome
}
