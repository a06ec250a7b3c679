/** Which limit a header set describes. */
export type LimitName = 'requests' | 'tokens'

/** The state of one limit after an admission decision. */
export interface LimitState {
  name: LimitName
  /** The limit per minute. */
  limit: number
  /** What can still be spent right now. */
  remaining: number
  /** Time until the budget is whole again. */
  resetMs: number
}

/**
 * A duration the way OpenAI writes `x-ratelimit-reset-*`, which is Go's
 * `time.Duration` format: `6ms`, `1.2s`, `1m0s`, `1h2m3.5s`. Rounded up to the
 * millisecond so a client that waits this long finds the budget restored.
 *
 * @example
 * ```ts
 * formatResetDuration(60_000) // '1m0s'
 * ```
 */
export function formatResetDuration(durationMs: number): string {
  const totalMs = Math.max(0, Math.ceil(durationMs))
  if (totalMs === 0) return '0s'
  if (totalMs < 1_000) return `${totalMs}ms`
  const hours = Math.floor(totalMs / 3_600_000)
  const minutes = Math.floor((totalMs % 3_600_000) / 60_000)
  const seconds = formatSeconds(totalMs % 60_000)
  if (hours > 0) return `${hours}h${minutes}m${seconds}`
  if (minutes > 0) return `${minutes}m${seconds}`
  return seconds
}

// Go prints seconds with the fraction it has and no trailing zeros: `0s`, `1.2s`, `59.999s`.
function formatSeconds(milliseconds: number): string {
  const fraction = milliseconds % 1000
  const decimals = fraction === 0 ? '' : `.${String(fraction).padStart(3, '0').replace(/0+$/, '')}`
  return `${Math.floor(milliseconds / 1000)}${decimals}s`
}

/**
 * The OpenAI rate-limit headers for the limits that are configured:
 * `x-ratelimit-limit-requests`, `x-ratelimit-remaining-requests`,
 * `x-ratelimit-reset-requests`, and the same for `-tokens`.
 */
export function rateLimitHeaders(states: readonly LimitState[]): Record<string, string> {
  const headers: Record<string, string> = {}
  for (const state of states) {
    const names = headerNames[state.name]
    headers[names.limit] = String(state.limit)
    headers[names.remaining] = String(Math.max(0, Math.floor(state.remaining)))
    headers[names.reset] = formatResetDuration(state.resetMs)
  }
  return headers
}

// Written out rather than built per call: a hit with limits on sends all six.
const headerNames: Record<LimitName, { limit: string; remaining: string; reset: string }> = {
  requests: { limit: 'x-ratelimit-limit-requests', remaining: 'x-ratelimit-remaining-requests', reset: 'x-ratelimit-reset-requests' },
  tokens: { limit: 'x-ratelimit-limit-tokens', remaining: 'x-ratelimit-remaining-tokens', reset: 'x-ratelimit-reset-tokens' },
}

/** `Retry-After` in whole seconds, rounded up (RFC 9110 section 10.2.3 has no fractions). */
export function retryAfterHeader(retryAfterMs: number): Record<string, string> {
  return { 'retry-after': String(Math.max(1, Math.ceil(retryAfterMs / 1000))) }
}
