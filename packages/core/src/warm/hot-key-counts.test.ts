import { describe, expect, it } from 'vitest'
import { HotKeyCounts } from './hot-key-counts.js'

describe('HotKeyCounts', () => {
  it('counts requests per key and namespace, and starts from zero after a drain', () => {
    const counts = new HotKeyCounts(100)
    counts.count('default', 0, 'a')
    counts.count('default', 0, 'a')
    counts.count('default', 0, 'b')
    counts.count('docs', 3, 'c')
    expect(counts.drain()).toEqual([
      {
        namespace: 'default',
        generation: 0,
        counts: [
          ['a', 2],
          ['b', 1],
        ],
      },
      { namespace: 'docs', generation: 3, counts: [['c', 1]] },
    ])
    expect(counts.size).toBe(0)
    expect(counts.drain()).toEqual([])
  })

  it('holds at most maxKeys distinct keys, and keeps counting the keys it holds', () => {
    const counts = new HotKeyCounts(2)
    counts.count('default', 0, 'a')
    counts.count('default', 0, 'b')
    counts.count('default', 0, 'c')
    counts.count('other', 0, 'd')
    counts.count('default', 0, 'a')
    expect(counts.size).toBe(2)
    expect(counts.drain()).toEqual([
      {
        namespace: 'default',
        generation: 0,
        counts: [
          ['a', 2],
          ['b', 1],
        ],
      },
    ])
  })

  it('drops the counts of a namespace whose generation moved on (its keys can no longer be hit)', () => {
    const counts = new HotKeyCounts(10)
    counts.count('default', 0, 'old')
    counts.count('default', 1, 'new')
    expect(counts.size).toBe(1)
    expect(counts.drain()).toEqual([{ namespace: 'default', generation: 1, counts: [['new', 1]] }])
  })
})
