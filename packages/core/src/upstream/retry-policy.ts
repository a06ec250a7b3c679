import { AiCacheError } from '../errors.js'
import type { AttemptOutcome } from '../resilience/retry.js'
import { peekBody } from './response-body.js'
import type { UpstreamResponse } from './types.js'

/** An upstream response with what the retry policy read from it. */
export interface InspectedResponse {
  /** The response; its body is whole even if the policy peeked at it. */
  response: UpstreamResponse
  retryable: boolean
  /** The wait the upstream asked for (`retry-after-ms` or `Retry-After`), if any. */
  retryAfterMs: number | undefined
}

// An error body is a few hundred bytes; a larger one is not the JSON we look for.
const maxPeekBytes = 16_384

/**
 * Statuses an LLM upstream answers when trying again may succeed: 408 request
 * timeout, 409 conflict (OpenAI's lock contention), 429 too many requests
 * and every 5xx. The official OpenAI clients retry the same set. Other 4xx
 * say the request itself is wrong and would fail again.
 */
export function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 409 || status === 429 || status >= 500
}

/** Network errors and timeouts before the response headers are worth another attempt. */
export function isRetryableError(error: unknown): boolean {
  return AiCacheError.isInstance(error) && (error.code === 'upstream_unreachable' || error.code === 'upstream_timeout')
}

/**
 * Whether an error body says the account is out of credit
 * (`insufficient_quota`, as `error.code` or `error.type`). OpenAI answers that
 * with a 429 too, but waiting does not refill an account.
 */
export function isQuotaExhausted(body: Buffer): boolean {
  let parsed: unknown
  try {
    parsed = JSON.parse(body.toString('utf8'))
  } catch {
    return false
  }
  const error = (parsed as { error?: { code?: unknown; type?: unknown } } | null)?.error
  return error?.code === 'insufficient_quota' || error?.type === 'insufficient_quota'
}

function header(headers: UpstreamResponse['headers'], name: string): string | undefined {
  const value = headers[name]
  return Array.isArray(value) ? value[0] : value
}

/**
 * The wait an upstream asked for: `retry-after-ms` (OpenAI and Azure send
 * it, in milliseconds), else `Retry-After` as delay-seconds or an HTTP date
 * (RFC 9110 section 10.2.3). `undefined` when absent or unreadable.
 */
export function retryAfterMs(headers: UpstreamResponse['headers'], nowMs: number): number | undefined {
  const milliseconds = header(headers, 'retry-after-ms')
  if (milliseconds !== undefined && milliseconds.trim() !== '') {
    const value = Number(milliseconds)
    if (Number.isFinite(value) && value >= 0) return value
  }
  const retryAfter = header(headers, 'retry-after')?.trim()
  if (retryAfter === undefined || retryAfter === '') return undefined
  if (/^\d+(\.\d+)?$/.test(retryAfter)) return Number(retryAfter) * 1000
  const dateMs = Date.parse(retryAfter)
  return Number.isNaN(dateMs) ? undefined : Math.max(0, dateMs - nowMs)
}

/**
 * Classifies a response for retrying. A 429 has its body peeked (and kept
 * whole) to tell a rate limit, worth waiting for, from exhausted quota.
 */
export async function inspectResponse(response: UpstreamResponse, nowMs: number): Promise<InspectedResponse> {
  const waitMs = retryAfterMs(response.headers, nowMs)
  if (response.status !== 429) return { response, retryable: isRetryableStatus(response.status), retryAfterMs: waitMs }
  let peeked
  try {
    peeked = await peekBody(response.body, maxPeekBytes)
  } catch (cause) {
    // The connection broke while the answer was read: a network failure like any other.
    throw new AiCacheError('upstream_unreachable', `The upstream's 429 answer broke off: ${String(cause)}`, { cause })
  }
  return {
    response: { ...response, body: peeked.body },
    retryable: !isQuotaExhausted(peeked.head),
    retryAfterMs: waitMs,
  }
}

/** The retry policy of an LLM upstream, over outcomes of {@link inspectResponse}. */
export function isRetryableUpstreamOutcome(outcome: AttemptOutcome<InspectedResponse>): boolean {
  return outcome.ok ? outcome.value.retryable : isRetryableError(outcome.error)
}
