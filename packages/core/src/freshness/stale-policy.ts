import type { RouteDirectives } from '../exchange/types.js'
import type { RequestDirectives } from '../request/directives.js'
import type { CacheEntry } from '../store/entry.js'
import type { ResolvedFreshnessOptions } from './freshness-options.js'

/** How stale an answer one request accepts, and how long its answer is kept for stale answers. */
export interface StalePolicy {
  /** ms past expiry an entry may answer when the upstream fails. */
  readonly staleIfErrorMs: number
  /** ms past expiry an entry is answered at once while it is refreshed. */
  readonly staleWhileRevalidateMs: number
  /**
   * ms an answer stored for this request is kept past its freshness: the
   * longer of the route's (else the engine's) two windows. A request's own
   * `Cache-Control` never lengthens it: callers cannot make the cache keep more.
   */
  readonly graceMs: number
}

/** What an expired entry can do for a request: answer now and be refreshed, answer only if the upstream fails, or nothing. */
export type StaleUse = 'revalidate' | 'if-error' | undefined

/**
 * The windows of one request: its `Cache-Control: stale-if-error=N,
 * stale-while-revalidate=N` (RFC 5861, honoured on requests) when it sends
 * them, else its route's, else the engine's. A request may ask for more
 * than configured, but an entry is only there while it is kept (`graceMs`
 * of the request that stored it).
 */
export function stalePolicyOf(options: ResolvedFreshnessOptions, route: RouteDirectives | undefined, directives: RequestDirectives): StalePolicy {
  const configuredIfError = route?.staleIfErrorMs ?? options.staleIfErrorMs
  const configuredRevalidate = route?.staleWhileRevalidateMs ?? options.staleWhileRevalidateMs
  const { staleIfErrorSeconds, staleWhileRevalidateSeconds } = directives
  return {
    staleIfErrorMs: staleIfErrorSeconds === undefined ? configuredIfError : staleIfErrorSeconds * 1000,
    staleWhileRevalidateMs: staleWhileRevalidateSeconds === undefined ? configuredRevalidate : staleWhileRevalidateSeconds * 1000,
    graceMs: Math.max(configuredIfError, configuredRevalidate),
  }
}

/**
 * What an entry past its freshness may do for a request (RFC 5861): within
 * the stale-while-revalidate window, answer at once; within the
 * stale-if-error window, answer only if the upstream fails. Never for a
 * request that said `no-cache` (it is never looked up) or whose `max-age`
 * the entry is older than (checked before, as for any entry).
 */
export function staleUseOf(policy: StalePolicy, entry: CacheEntry, nowMs: number): StaleUse {
  const staleMs = nowMs - (entry.createdAt + entry.ttlMs)
  if (staleMs < 0) return undefined
  if (staleMs <= policy.staleWhileRevalidateMs) return 'revalidate'
  if (staleMs <= policy.staleIfErrorMs) return 'if-error'
  return undefined
}

/** Whole seconds an entry is past its freshness, at least 1 (the `ttl` of `Cache-Status` is then negative). */
export function staleSeconds(entry: CacheEntry, nowMs: number): number {
  return Math.max(1, Math.ceil((nowMs - (entry.createdAt + entry.ttlMs)) / 1000))
}
