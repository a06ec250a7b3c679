import { AiCacheError } from '../errors.js'
import type { RequestHeaders, RouteDirectives } from '../exchange/types.js'

/** What a request asks of the cache, from its headers. */
export interface RequestDirectives {
  /** `Cache-Control: no-store`: neither read nor write. */
  readonly noStore: boolean
  /** `Cache-Control: no-cache`: do not read, do write (refresh). */
  readonly noCache: boolean
  /** `Cache-Control: only-if-cached`: answer from the cache or 504. */
  readonly onlyIfCached: boolean
  /** `Cache-Control: max-age=N`: accept only entries at most N seconds old. */
  readonly maxAgeSeconds: number | undefined
  /**
   * `Cache-Control: stale-if-error=N` (RFC 5861 section 4, honoured on
   * requests): an answer up to N seconds stale will do if the upstream fails.
   */
  readonly staleIfErrorSeconds: number | undefined
  /**
   * `Cache-Control: stale-while-revalidate=N` (RFC 5861 section 3, honoured
   * on requests): an answer up to N seconds stale will do now while it is refreshed.
   */
  readonly staleWhileRevalidateSeconds: number | undefined
  /** `x-aicache-ttl: N` (seconds): how long to keep the answer. */
  readonly ttlMs: number | undefined
  /** `x-aicache-namespace`. */
  readonly namespace: string | undefined
}

const none: RequestDirectives = Object.freeze({
  noStore: false,
  noCache: false,
  onlyIfCached: false,
  maxAgeSeconds: undefined,
  staleIfErrorSeconds: undefined,
  staleWhileRevalidateSeconds: undefined,
  ttlMs: undefined,
  namespace: undefined,
})

/**
 * What a namespace may be, from a header or from options: 1 to 128 letters,
 * digits, `.`, `_`, `:` or `-`. No separator of the key's parts (a newline)
 * can appear in one, so no namespace can pass for another key's parts.
 */
export const namespacePattern = /^[A-Za-z0-9._:-]{1,128}$/

function header(headers: RequestHeaders, name: string): string | undefined {
  const value = headers[name]
  return Array.isArray(value) ? value.join(',') : value
}

/**
 * The largest delta-seconds a cache must represent: RFC 9111 section 1.2.2
 * says a larger value is to be taken as 2^31, not refused.
 */
const maxDeltaSeconds = 2 ** 31

function seconds(value: string, param: string): number {
  const digits = value.trim()
  if (!/^\d{1,10}$/.test(digits)) {
    throw new AiCacheError('invalid_value', `Invalid '${param}': expected a whole number of seconds, got '${value}'.`, {
      param,
    })
  }
  return Number(digits)
}

/** `max-age=N` (RFC 9111 section 1.2.2): any run of digits, clamped to 2^31. */
function deltaSeconds(value: string, param: string): number {
  const digits = value.trim()
  if (!/^\d+$/.test(digits)) return seconds(value, param)
  // Compared as text first: a run of a thousand digits is no number at all.
  return digits.replace(/^0+(?=\d)/, '').length > 10 ? maxDeltaSeconds : Math.min(Number(digits), maxDeltaSeconds)
}

/**
 * Reads the per-request cache controls. Cache-Control follows RFC 9111
 * section 5.2.1; unknown directives are ignored as the RFC requires.
 */
export function parseDirectives(headers: RequestHeaders, route?: RouteDirectives): RequestDirectives {
  const cacheControl = header(headers, 'cache-control')
  const ttl = header(headers, 'x-aicache-ttl')
  const namespace = header(headers, 'x-aicache-namespace') ?? route?.namespace
  if (cacheControl === undefined && ttl === undefined && namespace === undefined && route?.ttlMs === undefined) {
    return none
  }

  let noStore = false
  let noCache = false
  let onlyIfCached = false
  let maxAgeSeconds: number | undefined
  let staleIfErrorSeconds: number | undefined
  let staleWhileRevalidateSeconds: number | undefined
  for (const part of (cacheControl ?? '').split(',')) {
    const [name = '', value] = part.trim().toLowerCase().split('=', 2)
    if (name === 'no-store') noStore = true
    else if (name === 'no-cache') noCache = true
    else if (name === 'only-if-cached') onlyIfCached = true
    else if (name === 'max-age' && value !== undefined) maxAgeSeconds = deltaSeconds(value.replace(/"/g, ''), 'max-age')
    else if (name === 'stale-if-error' && value !== undefined) staleIfErrorSeconds = deltaSeconds(value.replace(/"/g, ''), 'stale-if-error')
    else if (name === 'stale-while-revalidate' && value !== undefined) {
      staleWhileRevalidateSeconds = deltaSeconds(value.replace(/"/g, ''), 'stale-while-revalidate')
    }
  }
  if (namespace !== undefined && !namespacePattern.test(namespace)) {
    throw new AiCacheError('invalid_value', "Invalid 'x-aicache-namespace': use 1 to 128 letters, digits, '.', '_', ':' or '-'.", {
      param: 'x-aicache-namespace',
    })
  }
  return {
    noStore,
    noCache,
    onlyIfCached,
    maxAgeSeconds,
    staleIfErrorSeconds,
    staleWhileRevalidateSeconds,
    ttlMs: ttl === undefined ? route?.ttlMs : seconds(ttl, 'x-aicache-ttl') * 1000,
    namespace,
  }
}
