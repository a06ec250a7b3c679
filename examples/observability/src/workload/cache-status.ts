/** How the gateway answered one request, as its `Cache-Status` header says. */
export interface CacheVerdict {
  /** `hit`, `miss` (forwarded), `coalesced` (shared an identical in-flight miss), `bypass`, or `none` without the header. */
  result: 'hit' | 'miss' | 'coalesced' | 'bypass' | 'none'
  /** The tier that answered a hit (`l1`, `l2`). */
  tier?: string
}

/**
 * Reads aicache's `Cache-Status` header (RFC 9211), e.g.
 * `aicache; hit; ttl=3599; detail=l1` or `aicache; fwd=uri-miss; fwd-status=200; stored`.
 *
 * @example
 * ```ts
 * readCacheStatus('aicache; hit; ttl=60; detail=l1') // { result: 'hit', tier: 'l1' }
 * ```
 */
export function readCacheStatus(header: string | null | undefined): CacheVerdict {
  const entry = header
    ?.split(',')
    .map((part) => part.trim())
    .find((part) => part.startsWith('aicache'))
  if (!entry) return { result: 'none' }
  const parameters = entry.split(';').map((part) => part.trim())
  if (parameters.includes('hit')) {
    const tier = parameters.find((part) => part.startsWith('detail='))?.slice('detail='.length)
    return tier ? { result: 'hit', tier } : { result: 'hit' }
  }
  if (parameters.includes('collapsed')) return { result: 'coalesced' }
  if (parameters.includes('fwd=bypass')) return { result: 'bypass' }
  return { result: 'miss' }
}
