import { describe, expect, it } from 'vitest'
import { parseCsv } from './datasets.js'
import { splitByHash } from './experiments.js'
import { exactNeighbours, nearestNeighbours } from './neighbours.js'
import { scorePairs, scoreTraffic, servedFrom } from './scoring.js'

describe('scoreTraffic', () => {
  it('counts a hit right only for the same intent, and an out-of-scope query right only when it misses', () => {
    const score = scoreTraffic(['card', 'card', 'atm', 'atm', undefined, undefined], ['card', 'atm', null, 'atm', 'card', null])
    expect(score).toMatchObject({ queries: 6, hits: 4, right: 2, wrong: 2, outOfScopeQueries: 2, outOfScopeServed: 1 })
    expect(score.hitRate).toBeCloseTo(4 / 6)
    expect(score.precision).toBeCloseTo(2 / 4)
    expect(score.precisionTimesHitRate).toBeCloseTo(2 / 6)
    expect(score.outOfScopeServedRate).toBeCloseTo(1 / 2)
  })
  it('calls precision 1 when nothing was served', () => {
    expect(scoreTraffic(['a'], [null])).toMatchObject({ hits: 0, precision: 1, hitRate: 0 })
  })
})

describe('scorePairs', () => {
  it('scores by the text of the served origin, as GPTCache does', () => {
    expect(scorePairs(['x', 'y', 'z'], ['x', 'x', undefined])).toEqual({ right: 1, wrong: 1, missed: 1 })
  })
})

describe('servedFrom', () => {
  const texts = ['refused', 'accepted', 'far']
  const judge = {
    judge: (_query: string, neighbour: { text: string; similarity: number }, threshold: number) =>
      neighbour.similarity < threshold ? 'threshold' : neighbour.text === 'refused' ? 'numbers' : undefined,
  }
  const neighbours = [
    { index: 0, similarity: 0.95 },
    { index: 1, similarity: 0.9 },
    { index: 2, similarity: 0.5 },
  ]
  it('serves the first neighbour the judge accepts and reports why the nearest was refused', () => {
    expect(servedFrom('q', neighbours, texts, judge, { threshold: 0.8, candidates: 3 })).toEqual({ index: 1, rejection: 'numbers' })
  })
  it('tries no more neighbours than asked, and none below the threshold', () => {
    expect(servedFrom('q', neighbours, texts, judge, { threshold: 0.8, candidates: 1 })).toEqual({ index: undefined, rejection: 'numbers' })
    expect(servedFrom('q', neighbours, texts, judge, { threshold: 0.99, candidates: 3 })).toEqual({ index: undefined, rejection: 'threshold' })
  })
})

describe('nearestNeighbours', () => {
  it('finds the k most similar by cosine, most similar first', () => {
    const cached = [new Float32Array([1, 0]), new Float32Array([0, 1]), new Float32Array([1, 1])]
    const [found] = nearestNeighbours(cached, [new Float32Array([2, 0.2])], 2)
    expect(found!.map((candidate) => candidate.index)).toEqual([0, 2])
    expect(found![0]!.similarity).toBeCloseTo(2 / Math.sqrt(4.04))
  })
  it('gives the same neighbours through usearch exact search as the plain loop', () => {
    let seed = 7
    const random = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648 - 0.5
    const cached = Array.from({ length: 300 }, () => Float32Array.from({ length: 32 }, random))
    const queries = Array.from({ length: 20 }, () => Float32Array.from({ length: 32 }, random))
    const plain = nearestNeighbours(cached, queries, 3)
    const fast = exactNeighbours(cached, queries, 3)
    fast.forEach((list, q) => {
      expect(list.map((candidate) => candidate.index)).toEqual(plain[q]!.map((candidate) => candidate.index))
      list.forEach((candidate, i) => expect(candidate.similarity).toBeCloseTo(plain[q]![i]!.similarity, 4))
    })
  })
})

describe('data helpers', () => {
  it('parses quoted CSV fields with commas, quotes and line breaks', () => {
    expect(parseCsv('text,category\n"a, ""b""\nc",x\nplain,y\n')).toEqual([
      ['text', 'category'],
      ['a, "b"\nc', 'x'],
      ['plain', 'y'],
    ])
  })
  it('splits by a hash of the text: stable, and about the share asked', () => {
    const items = Array.from({ length: 2000 }, (_, i) => ({ text: `query ${i}` }))
    const [first, second] = splitByHash(items, 0.2)
    expect(first.length + second.length).toBe(2000)
    expect(second.length / 2000).toBeGreaterThan(0.15)
    expect(second.length / 2000).toBeLessThan(0.25)
    expect(splitByHash(items, 0.2)[1]).toEqual(second)
  })
})
