import { AiCacheError } from '../errors.js'
import type { ExchangeRequest } from '../exchange/types.js'
import { digest } from '../request/key.js'

/**
 * Who a rate limit counts a request against.
 * - `'scope'`: the cache key's scope (by default a hash of the caller's
 *   credential). Right when the credential is checked by someone: the
 *   upstream, when callers send their own keys.
 * - `'address'`: the address of the peer on the socket. A caller cannot
 *   choose it per request; behind a proxy it is the proxy's, so every
 *   caller shares one budget.
 * - `{ header }`: a header a trusted proxy in front sets (and overwrites
 *   when a client sends it), such as an authenticated user id.
 */
export type RateLimitIdentity = 'scope' | 'address' | { readonly header: string }

/** Checks `rateLimit.identity` (`name` is the option's path, for the message). */
export function resolveRateLimitIdentity(name: string, value: unknown, fallback: RateLimitIdentity): RateLimitIdentity {
  if (value === undefined) return fallback
  if (value === 'scope' || value === 'address') return value
  const header = (value as { header?: unknown } | null)?.header
  if (typeof value === 'object' && typeof header === 'string' && /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(header)) {
    return Object.freeze({ header: header.toLowerCase() })
  }
  throw new AiCacheError('invalid_option', `Option '${name}' must be 'scope', 'address' or { header: '<header name>' }, got ${JSON.stringify(value)}`, {
    param: name,
  })
}

/**
 * The identity a request's rate limits are counted against. Raw values (a
 * header, an address) are hashed like credentials, so keys never hold them
 * and a value cannot break out of its Redis key.
 */
export function callerOf(identity: RateLimitIdentity, request: ExchangeRequest, scope: string): string {
  if (identity === 'scope') return scope
  if (identity === 'address') return 'address:' + digest(request.remoteAddress ?? 'unknown').slice(0, 32)
  const value = request.headers[identity.header]
  const first = Array.isArray(value) ? value[0] : value
  // Requests without the header did not come through the proxy: one budget for all of them.
  return first ? 'caller:' + digest(first).slice(0, 32) : 'caller:none'
}
