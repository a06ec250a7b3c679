import { describe, expect, it } from 'vitest'
import type { CacheEntry } from './entry.js'
import { entryMemo } from './entry-memo.js'

function entry(model: string): CacheEntry {
  return {
    version: 1,
    format: 'json',
    events: undefined,
    status: 200,
    headers: {},
    body: Buffer.from('{}'),
    model,
    usage: undefined,
    createdAt: Date.now(),
    ttlMs: 60_000,
  }
}

describe('entryMemo', () => {
  it('gives each entry its own memo, the same one every time, however entries alternate', () => {
    const entries = [entry('a'), entry('b'), entry('c')]
    const memos = entries.map((each) => entryMemo(each))
    expect(new Set(memos).size).toBe(3)
    for (const index of [0, 0, 1, 2, 1, 0, 2, 2]) expect(entryMemo(entries[index]!)).toBe(memos[index])
  })

  it('keeps what was put in a memo for that entry only', () => {
    const first = entry('a')
    const second = entry('a')
    entryMemo(first).savedCost = { usd: 1 }
    expect(entryMemo(second).savedCost).toBeUndefined()
    expect(entryMemo(first).savedCost).toEqual({ usd: 1 })
  })
})
