import type { Outcome } from '../exchange/types.js'
import type { ResolvedAiCacheOptions } from '../options.js'
import type { RequestDirectives } from '../request/directives.js'
import { type CacheEntry, entryAgeSeconds } from '../store/entry.js'
import type { RequestObservation } from '../telemetry/telemetry.js'
import type { Tier } from './cache-status.js'
import { hitOutcome, pacedHitOutcome, withHeaders } from './outcomes.js'
import type { PreparedRequest } from './prepare.js'
import { represent } from './representation.js'

/** The entry as this request wants it, or `undefined` if it cannot be shown that way. */
export function hitOf(
  entry: CacheEntry,
  prepared: PreparedRequest,
  nowMs: number,
  tier: Tier,
  replayPacing: ResolvedAiCacheOptions['replayPacing'],
): Outcome | undefined {
  const representation = represent(entry, prepared)
  if (representation === undefined) return undefined
  if (representation.events && replayPacing === 'recorded' && entry.format === 'sse') {
    return pacedHitOutcome(entry, { ...representation, events: representation.events }, tier, nowMs)
  }
  return hitOutcome(entry, representation, tier, nowMs)
}

/** A hit's answer, recorded as one. The entry is what the hit saved (its usage, priced by its model). */
export function answerHit(
  observation: RequestObservation,
  hit: Outcome,
  entry: CacheEntry,
  tier: Tier,
  rateLimitHeaders: Readonly<Record<string, string>> | undefined,
): Outcome {
  observation.result = 'hit'
  observation.tier = tier
  observation.saved = entry
  return observation.settle(withHeaders(hit, rateLimitHeaders))
}

/** Whether the entry is older than the request's `max-age` allows. */
export function isTooOld(entry: CacheEntry, directives: RequestDirectives, nowMs: number): boolean {
  return directives.maxAgeSeconds !== undefined && entryAgeSeconds(entry, nowMs) > directives.maxAgeSeconds
}
