import { describe, expect, it, vi } from 'vitest'
import type { CacheEntry } from './entry.js'
import { createMemoryTier } from './memory-tier.js'

function entry(bodyBytes: number, options: Partial<CacheEntry> = {}): CacheEntry {
  return {
    version: 1,
    format: 'json',
    events: undefined,
    status: 200,
    headers: { 'content-type': 'application/json' },
    body: Buffer.alloc(bodyBytes, 'a'),
    model: 'm',
    usage: undefined,
    createdAt: Date.now(),
    ttlMs: 60_000,
    ...options,
  }
}

describe('memory tier', () => {
  it('sets no timer to store or read an entry, so a hit costs the event loop no wake-up', () => {
    vi.useFakeTimers()
    try {
      const tier = createMemoryTier({ maxBytes: 10_000 })
      tier.set('k', entry(100))
      for (let index = 0; index < 3; index++) {
        expect(tier.get('k')).toBeDefined()
        expect(vi.getTimerCount()).toBe(0)
        vi.advanceTimersByTime(5)
      }
    } finally {
      vi.useRealTimers()
    }
  })

  it('never holds more than maxBytes, dropping the least recently used first', () => {
    const tier = createMemoryTier({ maxBytes: 10_000 })
    for (let index = 0; index < 50; index++) {
      tier.set(`k${index}`, entry(1_000))
      if (index === 10) tier.get('k0')
      expect(tier.bytes).toBeLessThanOrEqual(10_000)
    }
    expect(tier.entries).toBeLessThan(10)
    expect(tier.get('k49')).toBeDefined()
    expect(tier.get('k1')).toBeUndefined()
  })

  it('does not keep an entry larger than the whole tier', () => {
    const tier = createMemoryTier({ maxBytes: 1_000 })
    tier.set('big', entry(5_000))
    expect(tier.get('big')).toBeUndefined()
    expect(tier.bytes).toBe(0)
  })

  it('expires an entry after its own TTL', async () => {
    const tier = createMemoryTier({ maxBytes: 1_000_000 })
    tier.set('short', entry(10, { ttlMs: 30 }))
    tier.set('long', entry(10))
    expect(tier.get('short')).toBeDefined()
    await new Promise((resolve) => setTimeout(resolve, 60))
    expect(tier.get('short')).toBeUndefined()
    expect(tier.get('long')).toBeDefined()
  })

  it('deletes an expired entry when it is read, giving back its bytes', () => {
    vi.useFakeTimers()
    try {
      const tier = createMemoryTier({ maxBytes: 1_000_000 })
      tier.set('short', entry(100, { ttlMs: 1_000 }))
      const bytes = tier.bytes
      expect(bytes).toBeGreaterThan(100)
      vi.advanceTimersByTime(999)
      expect(tier.get('short')).toBeDefined()
      vi.advanceTimersByTime(1)
      expect(tier.get('short')).toBeUndefined()
      expect(tier.entries).toBe(0)
      expect(tier.bytes).toBe(0)
    } finally {
      vi.useRealTimers()
    }
  })

  it('counts TTL from when the answer was made, not when it was stored', () => {
    const tier = createMemoryTier({ maxBytes: 1_000_000 })
    tier.set('old', entry(10, { createdAt: Date.now() - 120_000, ttlMs: 60_000 }))
    expect(tier.get('old')).toBeUndefined()
  })
})
