import { AiCacheError } from '../errors.js'
import type { TokenUsage } from '../exchange/types.js'
import { estimateTokensOf } from '../limits/estimate-tokens.js'
import type { Admission, RateLimiter, Rejection } from '../limits/rate-limiter.js'
import type { RequestObservation } from '../telemetry/telemetry.js'
import type { PreparedRequest } from './prepare.js'

/**
 * The inbound rate limit, applied where the engine learns what a request
 * costs: a miss reserves a request and its estimated tokens (settled with the
 * real usage later), a hit counts as `countHits` says. A refusal throws a 429.
 * The engine passes the limiter that applies to the request (its route's, or
 * its own).
 */

/** A request that will (or may) reach the upstream. */
export async function admitMiss(
  limiter: RateLimiter | undefined,
  scope: string,
  prepared: PreparedRequest,
  observation: RequestObservation,
): Promise<{ admission: Admission | undefined; estimatedTokens: number }> {
  if (limiter === undefined) return { admission: undefined, estimatedTokens: 0 }
  const estimatedTokens = await estimateTokensOf(prepared.body(), prepared.format, limiter.options.defaultMaxTokens)
  const verdict = await limiter.admit(scope, { estimatedTokens })
  if (!verdict.allowed) refuse(verdict, observation)
  return { admission: verdict, estimatedTokens }
}

/**
 * A hit; resolves to the headers to answer with. `undefined` (not a promise)
 * when hits are not counted, so such a hit waits for nothing.
 */
export function admitHit(
  limiter: RateLimiter | undefined,
  scope: string,
  usage: TokenUsage | undefined,
  observation: RequestObservation,
): Promise<Readonly<Record<string, string>>> | undefined {
  if (limiter === undefined || (!limiter.options.countHits.requests && !limiter.options.countHits.tokens)) return undefined
  return admitCountedHit(limiter, scope, usage, observation)
}

async function admitCountedHit(
  limiter: RateLimiter,
  scope: string,
  usage: TokenUsage | undefined,
  observation: RequestObservation,
): Promise<Readonly<Record<string, string>>> {
  const cachedTokens = usage ? usage.inputTokens + usage.outputTokens : 0
  const verdict = await limiter.admit(scope, { estimatedTokens: limiter.options.countHits.tokens ? cachedTokens : 0 })
  if (!verdict.allowed) refuse(verdict, observation)
  void verdict.settleHit(cachedTokens)
  return verdict.headers
}

function refuse(verdict: Rejection, observation: RequestObservation): never {
  observation.rateLimited = true
  const message = verdict.requestTooLarge
    ? 'This request needs more tokens than the limit of this key allows per minute; shorten it or lower max_tokens.'
    : `Rate limit reached for ${verdict.limit} per minute. Try again in ${Math.ceil(verdict.retryAfterMs / 1000)}s.`
  throw new AiCacheError('rate_limited', message, { retryAfterMs: verdict.retryAfterMs, headers: verdict.headers })
}
