/**
 * The `Cache-Status` response header (RFC 9211). aicache names itself
 * `aicache`; the tier that answered a hit is given in `detail`.
 */

/** Cache tiers, fastest first; `semantic`: an entry stored for a request of the same meaning (docs/semantic-cache.md). */
export type Tier = 'l1' | 'l2' | 'semantic'

/** RFC 9211 section 2.2 forward reasons that aicache uses. */
export type ForwardReason = 'uri-miss' | 'stale' | 'request' | 'bypass'

const cacheName = 'aicache'

/** `aicache; hit; ttl=N; detail=l1` */
export function hitStatus(tier: Tier, ttlSeconds: number): string {
  return `${cacheName}; hit; ttl=${ttlSeconds}; detail=${tier}`
}

/**
 * `aicache; hit; ttl=-N; detail=stale-if-error`: a stale answer (RFC 9211
 * section 2.3: a negative `ttl` says how many seconds stale), and why.
 */
export function staleHitStatus(staleSeconds: number, reason: 'error' | 'revalidate'): string {
  return `${cacheName}; hit; ttl=-${staleSeconds}; detail=${reason === 'error' ? 'stale-if-error' : 'stale-while-revalidate'}`
}

/** What a forwarded (not hit) request reports. */
export interface ForwardStatus {
  reason: ForwardReason
  /** Status the upstream (or handler) answered with. */
  forwardStatus?: number
  /** The answer was stored. */
  stored?: boolean
  /** The request shared the forward of another identical request. */
  collapsed?: boolean
  /** Why, in one token (`no-store`, `stream`, `invalid-request`). */
  detail?: string
}

/** `aicache; fwd=uri-miss; fwd-status=200; stored` */
export function forwardStatus(status: ForwardStatus): string {
  let value = `${cacheName}; fwd=${status.reason}`
  if (status.forwardStatus !== undefined) value += `; fwd-status=${status.forwardStatus}`
  if (status.stored) value += '; stored'
  if (status.collapsed) value += '; collapsed'
  if (status.detail !== undefined) value += `; detail=${status.detail}`
  return value
}
