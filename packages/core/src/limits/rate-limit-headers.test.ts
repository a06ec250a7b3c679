import { describe, expect, it } from 'vitest'
import { formatResetDuration, rateLimitHeaders, retryAfterHeader } from './rate-limit-headers.js'

describe('formatResetDuration', () => {
  it('writes durations as OpenAI (Go) does', () => {
    expect(formatResetDuration(0)).toBe('0s')
    expect(formatResetDuration(6)).toBe('6ms')
    expect(formatResetDuration(5.2)).toBe('6ms')
    expect(formatResetDuration(999)).toBe('999ms')
    expect(formatResetDuration(1_000)).toBe('1s')
    expect(formatResetDuration(1_200)).toBe('1.2s')
    expect(formatResetDuration(8_640)).toBe('8.64s')
    expect(formatResetDuration(59_999)).toBe('59.999s')
    expect(formatResetDuration(60_000)).toBe('1m0s')
    expect(formatResetDuration(360_000)).toBe('6m0s')
    expect(formatResetDuration(90_500)).toBe('1m30.5s')
    expect(formatResetDuration(3_723_500)).toBe('1h2m3.5s')
  })
})

describe('rateLimitHeaders', () => {
  it('names the headers as OpenAI does and never reports negative remaining', () => {
    expect(
      rateLimitHeaders([
        { name: 'requests', limit: 60, remaining: 59, resetMs: 1_000 },
        { name: 'tokens', limit: 150_000, remaining: -3, resetMs: 6 },
      ]),
    ).toEqual({
      'x-ratelimit-limit-requests': '60',
      'x-ratelimit-remaining-requests': '59',
      'x-ratelimit-reset-requests': '1s',
      'x-ratelimit-limit-tokens': '150000',
      'x-ratelimit-remaining-tokens': '0',
      'x-ratelimit-reset-tokens': '6ms',
    })
  })

  it('rounds Retry-After up to whole seconds', () => {
    expect(retryAfterHeader(1)).toEqual({ 'retry-after': '1' })
    expect(retryAfterHeader(2_001)).toEqual({ 'retry-after': '3' })
  })
})
