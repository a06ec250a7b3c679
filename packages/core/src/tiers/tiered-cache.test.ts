import { describe, expect, it } from 'vitest'
import type { CacheEntry } from '../store/entry.js'
import { type LookupObserver, TieredCache } from './tiered-cache.js'

const options = { memoryTier: true, maxBytes: 1024 * 1024, lockWaitMs: 1_000 }
const unobserved: LookupObserver = { lookedUp: () => {} }

function sampleEntry(overrides: Partial<CacheEntry> = {}): CacheEntry {
  return {
    version: 1,
    format: 'json',
    status: 200,
    headers: { 'content-type': 'application/json' },
    body: Buffer.from('{"choices":[{"message":{"content":"Hi"}}]}'),
    events: undefined,
    model: 'gpt-4o-mini',
    usage: { inputTokens: 12, outputTokens: 3 },
    createdAt: Date.now(),
    ttlMs: 60_000,
    ...overrides,
  }
}

/** A promise of an entry, and the function that delivers it. */
function later(): { counted: Promise<CacheEntry | undefined>; deliver: (entry: CacheEntry | undefined) => void } {
  let deliver: (entry: CacheEntry | undefined) => void = () => {}
  const counted = new Promise<CacheEntry | undefined>((resolve) => (deliver = resolve))
  return { counted, deliver }
}

describe('TieredCache without a remote tier', () => {
  it('answers a memory hit with the entry itself, synchronously', async () => {
    const tiers = new TieredCache(options)
    const entry = sampleEntry()
    await tiers.keep('k', entry)
    expect(tiers.lookUp('k', Date.now(), unobserved)).toBe(entry)
    expect(tiers.lookUp('other', Date.now(), unobserved)).toBeUndefined()
  })

  it('replaces a stored entry with its counted version when that arrives', async () => {
    const tiers = new TieredCache(options)
    const { counted, deliver } = later()
    const stored = tiers.keep('k', sampleEntry({ usage: undefined }), counted)
    deliver(sampleEntry({ usage: { inputTokens: 5, outputTokens: 7 } }))
    await stored
    expect(tiers.memory.get('k')?.usage).toEqual({ inputTokens: 5, outputTokens: 7 })
  })

  it('does not bring back an entry dropped before its counted version arrived', async () => {
    const tiers = new TieredCache(options)
    const { counted, deliver } = later()
    const stored = tiers.keep('k', sampleEntry({ usage: undefined }), counted)
    tiers.clear()
    deliver(sampleEntry({ usage: { inputTokens: 5, outputTokens: 7 } }))
    await stored
    expect(tiers.memory.get('k')).toBeUndefined()
  })

  it('keeps nothing in memory when the memory tier is off', async () => {
    const tiers = new TieredCache({ ...options, memoryTier: false })
    await tiers.keep('k', sampleEntry())
    expect(tiers.lookUp('k', Date.now(), unobserved)).toBeUndefined()
    expect(tiers.memory.entries).toBe(0)
  })

  it('bumps one namespace, or every namespace with { all: true }', async () => {
    const tiers = new TieredCache(options)
    expect(tiers.generation('docs')).toBe(0)
    await tiers.invalidate({}, 'docs')
    expect(tiers.generation('docs')).toBe(1)
    expect(tiers.generation('faq')).toBe(0)
    const [docs, faq] = [tiers.generation('docs'), tiers.generation('faq')]
    await tiers.invalidate({ all: true }, 'docs')
    expect(tiers.generation('docs')).not.toBe(docs)
    expect(tiers.generation('faq')).not.toBe(faq)
  })

  it("refuses a namespace together with all, and '*' as a namespace", async () => {
    const tiers = new TieredCache(options)
    await expect(tiers.invalidate({ namespace: 'docs', all: true }, 'default')).rejects.toMatchObject({ code: 'invalid_value' })
    await expect(tiers.invalidate({ namespace: '*' }, 'default')).rejects.toMatchObject({ code: 'invalid_value' })
  })

  it('claims nothing across instances without Redis: the miss is produced here', async () => {
    expect(await new TieredCache(options).claim('k')).toEqual({})
  })
})
