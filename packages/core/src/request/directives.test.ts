import { describe, expect, it } from 'vitest'
import { AiCacheError } from '../errors.js'
import { parseDirectives } from './directives.js'

describe('parseDirectives', () => {
  it('reads no-store, no-cache, only-if-cached and max-age from Cache-Control', () => {
    expect(parseDirectives({ 'cache-control': 'No-Cache, max-age=60' })).toMatchObject({
      noCache: true,
      noStore: false,
      maxAgeSeconds: 60,
    })
    expect(parseDirectives({ 'cache-control': 'no-store' }).noStore).toBe(true)
    expect(parseDirectives({ 'cache-control': 'only-if-cached' }).onlyIfCached).toBe(true)
  })

  it('ignores directives it does not know (RFC 9111 section 5.2)', () => {
    expect(parseDirectives({ 'cache-control': 'stale-if-error=30, private' })).toMatchObject({
      noCache: false,
      noStore: false,
      maxAgeSeconds: undefined,
    })
  })

  it('reads the TTL in seconds and the namespace', () => {
    expect(parseDirectives({ 'x-aicache-ttl': '90', 'x-aicache-namespace': 'support-bot' })).toMatchObject({
      ttlMs: 90_000,
      namespace: 'support-bot',
    })
  })

  it.each([
    ['4294967296', 2 ** 31],
    ['2147483649', 2 ** 31],
    ['99999999999999999999999999', 2 ** 31],
    ['2147483647', 2 ** 31 - 1],
    ['000000000000000042', 42],
  ])('takes max-age=%s as %d: a larger delta-seconds is 2^31, not an error (RFC 9111 section 1.2.2)', (value, seconds) => {
    expect(parseDirectives({ 'cache-control': `max-age=${value}` }).maxAgeSeconds).toBe(seconds)
  })

  it.each([
    ['x-aicache-ttl', 'soon'],
    ['x-aicache-ttl', '-5'],
    ['x-aicache-namespace', 'has spaces'],
    ['cache-control', 'max-age=ten'],
  ])('refuses a bad %s with an error naming it', (header, value) => {
    try {
      parseDirectives({ [header]: value })
      expect.unreachable()
    } catch (error) {
      expect(error).toBeInstanceOf(AiCacheError)
      expect((error as AiCacheError).status).toBe(400)
      expect((error as AiCacheError).param).toBe(header === 'cache-control' ? 'max-age' : header)
    }
  })
})
