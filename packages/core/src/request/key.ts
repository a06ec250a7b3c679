import crypto, { createHash } from 'node:crypto'
import { LRUCache } from 'lru-cache'
import type { ExchangeRequest, RequestHeaders } from '../exchange/types.js'
import type { ScopeOption } from '../options.js'

type OneShotHash = (algorithm: string, data: string | Uint8Array, outputEncoding: 'base64url') => string

// Node 20.12+ hashes in one call, about twice as fast as createHash for short inputs.
const oneShot = (crypto as { hash?: OneShotHash }).hash

/** SHA-256 of the input, base64url (43 characters). */
export function digest(input: string | Uint8Array): string {
  return oneShot ? oneShot('sha256', input, 'base64url') : createHash('sha256').update(input).digest('base64url')
}

function firstHeader(headers: RequestHeaders, name: string): string | undefined {
  const value = headers[name]
  return Array.isArray(value) ? value[0] : value
}

const anonymousScope = 'anonymous'

/**
 * The headers a credential is read from, in this order: the first one that
 * holds a real credential wins (OpenAI's `Authorization`, then Azure's
 * `api-key`, then Anthropic's `x-api-key`).
 */
export const credentialHeaderNames: readonly string[] = ['authorization', 'api-key', 'x-api-key']

// What SDKs and templates send when no key was configured: `Bearer ${undefined}`,
// `Bearer null`, an empty or blank value. None of them identifies a caller.
const placeholderCredential = /^\s*(?:bearer\s*)?(?:undefined|null)?\s*$/i

/**
 * Whether a header value identifies a caller: not empty, not only white
 * space, and not a placeholder such as `Bearer undefined` or `Bearer null`.
 * A placeholder is treated as absent, so the next credential header decides;
 * otherwise callers that differ only in their `api-key` would share one scope.
 */
export function isCredential(value: string | undefined): value is string {
  if (value === undefined) return false
  // Every request asks this: most keys end in a printable character that cannot
  // end a placeholder ('bearer', 'null', 'undefined'), which settles it without the pattern.
  const last = value.charCodeAt(value.length - 1)
  const lowerCased = last | 0x20
  if (last > 0x20 && last < 0x7f && lowerCased !== 0x72 && lowerCased !== 0x6c && lowerCased !== 0x64) return true
  return !placeholderCredential.test(value)
}

/** The credential of a request: the first real one of {@link credentialHeaderNames}, or `undefined`. */
export function credentialOf(headers: RequestHeaders): string | undefined {
  // Written out rather than looped: this runs on every request, hits included.
  const authorization = firstHeader(headers, 'authorization')
  if (isCredential(authorization)) return authorization
  const apiKey = firstHeader(headers, 'api-key')
  if (isCredential(apiKey)) return apiKey
  const xApiKey = firstHeader(headers, 'x-api-key')
  if (isCredential(xApiKey)) return xApiKey
  return undefined
}

// A server sees few distinct credentials and each many times: hash each once.
// The memo is keyed by the credential, so it holds them in memory exactly as
// the request headers already do, and is bounded.
const scopeOfCredential = new LRUCache<string, string>({ max: 10_000 })

/**
 * The scope of a request whose callers share answers only with holders of
 * the same credential (see {@link credentialOf}). Only a hash goes into
 * keys, never the credential.
 */
export function credentialScope(headers: RequestHeaders): string {
  const credential = credentialOf(headers)
  if (credential === undefined) return anonymousScope
  let scope = scopeOfCredential.get(credential)
  if (scope === undefined) {
    scope = 'credential:' + digest(credential).slice(0, 32)
    scopeOfCredential.set(credential, scope)
  }
  return scope
}

/** Applies the `scope` option to a request. */
export function resolveScope(option: ScopeOption, request: ExchangeRequest): string {
  if (option === 'credential') return credentialScope(request.headers)
  if (option === 'shared') return 'shared'
  return 'custom:' + String(option(request))
}

/** The parts that make up a cache key. */
export interface KeyParts {
  namespace: string
  /** Generation of the namespace; bumping it invalidates the namespace. */
  generation: number
  scope: string
  /** Digest of what was asked (operation and canonical body). */
  requestDigest: string
}

// The key last made for a request digest, with the parts it was made of: a
// repeated request usually comes from the same scope into the same namespace
// generation, and then needs no second hash.
const lastKeyOfDigest = new LRUCache<string, Readonly<KeyParts> & { key: string }>({ max: 10_000 })

/** The cache key: a digest of its parts, safe to use in any store. */
export function cacheKey(parts: KeyParts): string {
  const last = lastKeyOfDigest.get(parts.requestDigest)
  if (last !== undefined && last.scope === parts.scope && last.namespace === parts.namespace && last.generation === parts.generation) {
    return last.key
  }
  const key = digest(`${parts.namespace}\n${parts.generation}\n${parts.scope}\n${parts.requestDigest}`)
  lastKeyOfDigest.set(parts.requestDigest, { ...parts, key })
  return key
}

/**
 * The key last made from one request body, with the parts it was made of.
 * The body memo keeps one per distinct body, so a repeated request finds its
 * key without a lookup.
 */
export interface KeySlot {
  namespace?: string
  generation?: number
  scope?: string
  key?: string
}

/** {@link cacheKey}, remembered in `slot` while the scope, namespace and generation stay the same. */
export function cacheKeyOf(slot: KeySlot, namespace: string, generation: number, scope: string, requestDigest: string): string {
  if (slot.key !== undefined && slot.scope === scope && slot.namespace === namespace && slot.generation === generation) {
    return slot.key
  }
  const key = cacheKey({ namespace, generation, scope, requestDigest })
  slot.namespace = namespace
  slot.generation = generation
  slot.scope = scope
  slot.key = key
  return key
}
