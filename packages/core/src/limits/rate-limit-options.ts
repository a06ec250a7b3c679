import { type RateLimitIdentity, resolveRateLimitIdentity } from './caller-identity.js'
import { booleanOption, objectOption, positiveIntegerOption, positiveNumberOption } from '../option-checks.js'

/** Which cache hits spend from a scope's limits. */
export interface CountHitsOptions {
  /** A hit counts as a request. @default true */
  requests: boolean
  /** A hit spends the tokens of the answer it replays. @default false */
  tokens: boolean
}

/**
 * Inbound rate limits, per scope (the same scope as the cache key: a
 * credential hash, a tenant, or shared). `rateLimit` in `AiCacheOptions`.
 * A limit left unset is not enforced.
 *
 * @example
 * ```ts
 * createAiCache({ upstream: 'https://api.openai.com/v1', rateLimit: { requestsPerMinute: 60, tokensPerMinute: 90_000 } })
 * ```
 */
export interface RateLimitOptions {
  /** Requests a scope may send per minute. @default undefined (no limit) */
  requestsPerMinute?: number
  /** Tokens (prompt + most it may generate) a scope may spend per minute. @default undefined (no limit) */
  tokensPerMinute?: number
  /** What a cache hit spends. @default { requests: true, tokens: false } */
  countHits?: Partial<CountHitsOptions>
  /** Completion tokens reserved for a request without `max_tokens`. @default 1024 */
  defaultMaxTokens?: number
  /**
   * Who the limits are counted against (see {@link RateLimitIdentity}).
   * With `upstreamApiKey` and the default credential scope, callers'
   * credentials are checked by nobody and could be made up per request, so
   * the default there is `'address'` and `'scope'` is refused.
   * @default 'scope' ('address' with `upstreamApiKey` and `scope: 'credential'`)
   */
  identity?: RateLimitIdentity
}

/** {@link RateLimitOptions} after validation, every default filled in. */
export interface ResolvedRateLimitOptions {
  readonly requestsPerMinute: number | undefined
  readonly tokensPerMinute: number | undefined
  readonly countHits: Readonly<CountHitsOptions>
  readonly defaultMaxTokens: number
  readonly identity: RateLimitIdentity
}

/**
 * Validates rate-limit options once, at start-up. A bad value throws
 * `AiCacheError('invalid_option')` naming it (`rateLimit.tokensPerMinute`).
 * The result is frozen; the input is not touched.
 */
export function resolveRateLimitOptions(
  input: RateLimitOptions = {},
  name = 'rateLimit',
  defaultIdentity: RateLimitIdentity = 'scope',
): ResolvedRateLimitOptions {
  const options = objectOption(name, input) as RateLimitOptions
  const countHits = objectOption(`${name}.countHits`, options.countHits) as Partial<CountHitsOptions>
  return Object.freeze({
    requestsPerMinute: positiveNumberOption(`${name}.requestsPerMinute`, options.requestsPerMinute, undefined),
    tokensPerMinute: positiveNumberOption(`${name}.tokensPerMinute`, options.tokensPerMinute, undefined),
    countHits: Object.freeze({
      requests: booleanOption(`${name}.countHits.requests`, countHits.requests, true),
      tokens: booleanOption(`${name}.countHits.tokens`, countHits.tokens, false),
    }),
    defaultMaxTokens: positiveIntegerOption(`${name}.defaultMaxTokens`, options.defaultMaxTokens, 1024),
    identity: resolveRateLimitIdentity(`${name}.identity`, options.identity, defaultIdentity),
  })
}
