import { describe, expect, it } from 'vitest'
import { AiCacheError } from '../errors.js'
import { readAll } from './headers.js'
import { inspectResponse, isQuotaExhausted, isRetryableError, isRetryableStatus, retryAfterMs } from './retry-policy.js'
import type { UpstreamResponse } from './types.js'

async function* chunks(...parts: string[]): AsyncGenerator<Uint8Array> {
  for (const part of parts) yield Buffer.from(part)
}

function response(status: number, body: string, headers: Record<string, string> = {}): UpstreamResponse {
  return { status, headers, body: chunks(body.slice(0, 10), body.slice(10)) }
}

describe('what an LLM upstream retries', () => {
  it('retries 408, 409, 429 and every 5xx, and no other 4xx', () => {
    expect([408, 409, 429, 500, 502, 503, 504, 529].every(isRetryableStatus)).toBe(true)
    expect([200, 400, 401, 403, 404, 413, 422].some(isRetryableStatus)).toBe(false)
  })

  it('retries network errors and timeouts, not aborts or other errors', () => {
    expect(isRetryableError(new AiCacheError('upstream_unreachable', 'x'))).toBe(true)
    expect(isRetryableError(new AiCacheError('upstream_timeout', 'x'))).toBe(true)
    expect(isRetryableError(new AiCacheError('upstream_overloaded', 'x'))).toBe(false)
    expect(isRetryableError(new DOMException('aborted', 'AbortError'))).toBe(false)
  })

  it('recognises an exhausted quota by error code or type', () => {
    expect(isQuotaExhausted(Buffer.from('{"error":{"code":"insufficient_quota","type":"insufficient_quota"}}'))).toBe(true)
    expect(isQuotaExhausted(Buffer.from('{"error":{"code":null,"type":"insufficient_quota"}}'))).toBe(true)
    expect(isQuotaExhausted(Buffer.from('{"error":{"code":"rate_limit_exceeded","type":"requests"}}'))).toBe(false)
    expect(isQuotaExhausted(Buffer.from('not json'))).toBe(false)
  })

  it('a 429 for quota is not retryable and keeps its whole body', async () => {
    const body = JSON.stringify({ error: { message: 'You exceeded your current quota', type: 'insufficient_quota', code: 'insufficient_quota' } })
    const inspected = await inspectResponse(response(429, body), 0)
    expect(inspected.retryable).toBe(false)
    expect((await readAll(inspected.response.body)).toString()).toBe(body)
  })

  it('a 429 for rate is retryable and carries the wait it asked for', async () => {
    const inspected = await inspectResponse(response(429, '{"error":{"code":"rate_limit_exceeded"}}', { 'retry-after': '2' }), 0)
    expect(inspected).toMatchObject({ retryable: true, retryAfterMs: 2_000 })
  })
})

describe('retryAfterMs', () => {
  it('prefers retry-after-ms, then reads seconds or an HTTP date', () => {
    expect(retryAfterMs({ 'retry-after-ms': '1500', 'retry-after': '9' }, 0)).toBe(1_500)
    expect(retryAfterMs({ 'retry-after': '2' }, 0)).toBe(2_000)
    expect(retryAfterMs({ 'retry-after': '0.5' }, 0)).toBe(500)
    const nowMs = Date.parse('Wed, 21 Oct 2015 07:28:00 GMT')
    expect(retryAfterMs({ 'retry-after': 'Wed, 21 Oct 2015 07:28:05 GMT' }, nowMs)).toBe(5_000)
    expect(retryAfterMs({ 'retry-after': 'Wed, 21 Oct 2015 07:27:00 GMT' }, nowMs)).toBe(0)
  })

  it('ignores absent or unreadable values', () => {
    expect(retryAfterMs({}, 0)).toBeUndefined()
    expect(retryAfterMs({ 'retry-after': 'soon' }, 0)).toBeUndefined()
    expect(retryAfterMs({ 'retry-after-ms': '-3' }, 0)).toBeUndefined()
  })
})
