/**
 * A production that failed, as the instance that made the call tells the
 * instances whose requests waited on its lock: they answer with it instead
 * of calling the upstream again. Kept in Redis only for the moment waiters
 * need to read it (see `RedisLocks`), never served to a later request.
 */
export type SharedFailure =
  /** The upstream's last answer was an error: its status, the headers a client acts on, its body. */
  | { readonly kind: 'response'; readonly status: number; readonly headers: Readonly<Record<string, string>>; readonly body: Buffer }
  /** aicache gave up without an answer (`upstream_unreachable`, `upstream_timeout`, `circuit_open`, ...). */
  | { readonly kind: 'error'; readonly code: string; readonly message: string; readonly retryAfterMs?: number }

// What a client needs to act on an error answer: its type, when to retry, its id for support, the limits.
const sharedHeaderNames = new Set(['content-type', 'retry-after', 'retry-after-ms', 'x-request-id'])
const sharedHeaderPrefixes = ['x-ratelimit-', 'openai-']

// An error body is a few hundred bytes; a proxy's HTML error page can be far more, and is not worth a Redis write.
const maxSharedBodyBytes = 64 * 1024

/** An error answer to share with the waiters, or `undefined` when its body is too large to be worth it (they then call again). */
export function responseFailure(status: number, headers: Readonly<Record<string, string | string[] | undefined>>, body: Buffer): SharedFailure | undefined {
  if (body.byteLength > maxSharedBodyBytes) return undefined
  return { kind: 'response', status, headers: sharedFailureHeaders(headers), body }
}

/** The headers of an error answer worth passing on to other instances' waiters. */
export function sharedFailureHeaders(headers: Readonly<Record<string, string | string[] | undefined>>): Record<string, string> {
  const kept: Record<string, string> = {}
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) continue
    const lower = name.toLowerCase()
    if (!sharedHeaderNames.has(lower) && !sharedHeaderPrefixes.some((prefix) => lower.startsWith(prefix))) continue
    kept[lower] = Array.isArray(value) ? value.join(', ') : value
  }
  return kept
}

/** The failure as stored in Redis (JSON, the body in base64). */
export function encodeSharedFailure(failure: SharedFailure): string {
  if (failure.kind === 'error') return JSON.stringify(failure)
  return JSON.stringify({ ...failure, body: failure.body.toString('base64') })
}

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null

/** The stored failure, or `undefined` for anything malformed: the waiter then makes the call itself. */
export function decodeSharedFailure(text: string | null | undefined): SharedFailure | undefined {
  if (typeof text !== 'string') return undefined
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    return undefined
  }
  if (!isRecord(value)) return undefined
  if (value['kind'] === 'error' && typeof value['code'] === 'string' && typeof value['message'] === 'string') {
    const retryAfterMs = value['retryAfterMs']
    return {
      kind: 'error',
      code: value['code'],
      message: value['message'],
      ...(typeof retryAfterMs === 'number' && Number.isFinite(retryAfterMs) ? { retryAfterMs } : {}),
    }
  }
  const { status, headers, body } = value
  if (value['kind'] !== 'response' || typeof status !== 'number' || typeof body !== 'string' || !isRecord(headers)) return undefined
  if (!Number.isInteger(status) || status < 100 || status > 599) return undefined
  const textHeaders = Object.fromEntries(Object.entries(headers).filter((pair): pair is [string, string] => typeof pair[1] === 'string'))
  return { kind: 'response', status, headers: textHeaders, body: Buffer.from(body, 'base64') }
}
