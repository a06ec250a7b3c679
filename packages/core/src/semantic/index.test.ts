import { describe, expect, it } from 'vitest'
import { createFlatIndex } from './index-flat.js'
import { createUsearchIndex } from './index-usearch.js'
import type { SemanticIndex } from './types.js'

const DIMENSIONS = 64

// Deterministic pseudo-random unit-ish vectors, and a neighbour of each a small step away.
function vector(seed: number, noise = 0, noiseSeed = 0): Float32Array {
  const values = new Float32Array(DIMENSIONS)
  let state = seed * 2654435761
  let noiseState = (noiseSeed + 1) * 40503
  for (let i = 0; i < DIMENSIONS; i++) {
    state = (state * 1103515245 + 12345) % 2147483648
    noiseState = (noiseState * 1103515245 + 12345) % 2147483648
    values[i] = state / 2147483648 - 0.5 + noise * (noiseState / 2147483648 - 0.5)
  }
  return values
}

// One contract for every index: the semantic tier may be given either.
describe.each([
  ['flat (exact)', () => createFlatIndex()],
  ['usearch (HNSW)', () => createUsearchIndex({ dimensions: DIMENSIONS, quantization: 'f32' })],
] as const)('%s index', (_name, create: () => SemanticIndex) => {
  it('finds the stored question nearest to a query, most similar first, with cosine similarities', () => {
    const index = create()
    for (let i = 0; i < 200; i++) index.add(`key-${i}`, `question ${i}`, vector(i))
    expect(index.size).toBe(200)
    const found = index.nearest(vector(42, 0.2, 7), 3)
    expect(found[0]).toMatchObject({ key: 'key-42', text: 'question 42' })
    expect(found[0]!.similarity).toBeGreaterThan(0.9)
    expect(found[0]!.similarity).toBeLessThanOrEqual(1.0001)
    expect(found).toHaveLength(3)
    expect(found[1]!.similarity).toBeLessThanOrEqual(found[0]!.similarity)
    expect(index.nearest(vector(42), 1)[0]!.similarity).toBeCloseTo(1, 3)
  })

  it('replaces the question stored under a key and forgets removed keys', () => {
    const index = create()
    index.add('a', 'first', vector(1))
    index.add('b', 'second', vector(2))
    index.add('a', 'first, again', vector(3))
    expect(index.size).toBe(2)
    expect(index.nearest(vector(3), 1)[0]).toMatchObject({ key: 'a', text: 'first, again' })
    expect(index.nearest(vector(1), 2).some((neighbour) => neighbour.similarity > 0.99)).toBe(false)
    expect(index.remove('a')).toBe(true)
    expect(index.remove('a')).toBe(false)
    expect(index.size).toBe(1)
    expect(index.nearest(vector(3), 5).map((neighbour) => neighbour.key)).toEqual(['b'])
  })

  it('answers an empty index, and a vector of other dimensions, with no neighbours', () => {
    const index = create()
    expect(index.nearest(vector(1), 3)).toEqual([])
    index.add('a', 'first', vector(1))
    expect(index.nearest(new Float32Array(DIMENSIONS + 1), 3)).toEqual([])
  })
})
