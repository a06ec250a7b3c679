import { describe, expect, it } from 'vitest'
import { readCacheStatus } from './cache-status.js'

describe('readCacheStatus', () => {
  it.each([
    ['aicache; hit; ttl=3599; detail=l1', { result: 'hit', tier: 'l1' }],
    ['aicache; hit; ttl=10; detail=l2', { result: 'hit', tier: 'l2' }],
    ['aicache; fwd=uri-miss; fwd-status=200; stored', { result: 'miss' }],
    ['aicache; fwd=uri-miss; fwd-status=200; collapsed', { result: 'coalesced' }],
    ['aicache; fwd=bypass; detail=no-store', { result: 'bypass' }],
    ['cdn; hit, aicache; fwd=stale; fwd-status=200', { result: 'miss' }],
    [null, { result: 'none' }],
  ])('reads %s', (header, verdict) => {
    expect(readCacheStatus(header)).toEqual(verdict)
  })
})
