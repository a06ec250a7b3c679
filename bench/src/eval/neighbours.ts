/**
 * Exact nearest neighbours of every query among the cached questions, in one
 * pass over unit vectors: the evaluation scores judges over these lists, so
 * a sweep of thresholds and guards never searches again.
 */
import usearch, { type BatchMatches } from 'usearch'

/** A cached question near a query: its position in the cached list and their cosine similarity. */
export interface Candidate {
  readonly index: number
  readonly similarity: number
}

function unit(vector: Float32Array): Float32Array {
  let sum = 0
  for (let i = 0; i < vector.length; i++) sum += vector[i]! * vector[i]!
  const norm = Math.sqrt(sum) || 1
  const scaled = new Float32Array(vector.length)
  for (let i = 0; i < vector.length; i++) scaled[i] = vector[i]! / norm
  return scaled
}

/** Packs unit vectors into one row-major matrix. */
function matrix(vectors: readonly Float32Array[]): { rows: Float32Array; dimensions: number } {
  const dimensions = vectors[0]?.length ?? 0
  const rows = new Float32Array(vectors.length * dimensions)
  vectors.forEach((vector, i) => rows.set(unit(vector), i * dimensions))
  return { rows, dimensions }
}

/**
 * The `k` cached questions nearest to each query, most similar first, by
 * usearch's exact (brute-force, SIMD) search: the same answer as
 * {@link nearestNeighbours}, many times faster on the data sets' sizes.
 */
export function exactNeighbours(cached: readonly Float32Array[], queries: readonly Float32Array[], k: number): Candidate[][] {
  const { rows, dimensions } = matrix(cached)
  const batch = usearch.exactSearch(rows, matrix(queries).rows, dimensions, k, usearch.MetricKind.Cos, 2) as BatchMatches
  return queries.map((_, q) => {
    const matches = batch.get(q)
    return Array.from(matches.keys, (key, i) => ({ index: Number(key), similarity: 1 - matches.distances[i]! }))
  })
}

/**
 * The `k` cached questions nearest to each query, most similar first. With
 * `exclude`, a query never finds the cached question at the same position
 * (leave-one-out over a single list).
 */
export function nearestNeighbours(cached: readonly Float32Array[], queries: readonly Float32Array[], k: number, exclude = false): Candidate[][] {
  const { rows, dimensions } = matrix(cached)
  const count = cached.length
  const result: Candidate[][] = []
  for (let q = 0; q < queries.length; q++) {
    const query = unit(queries[q]!)
    const bestIndex = new Int32Array(k).fill(-1)
    const bestSimilarity = new Float32Array(k).fill(-Infinity)
    for (let c = 0; c < count; c++) {
      if (exclude && c === q) continue
      let dot = 0
      const offset = c * dimensions
      for (let d = 0; d < dimensions; d++) dot += query[d]! * rows[offset + d]!
      if (dot <= bestSimilarity[k - 1]!) continue
      let slot = k - 1
      while (slot > 0 && bestSimilarity[slot - 1]! < dot) {
        bestSimilarity[slot] = bestSimilarity[slot - 1]!
        bestIndex[slot] = bestIndex[slot - 1]!
        slot--
      }
      bestSimilarity[slot] = dot
      bestIndex[slot] = c
    }
    const found: Candidate[] = []
    for (let slot = 0; slot < k; slot++) if (bestIndex[slot]! >= 0) found.push({ index: bestIndex[slot]!, similarity: bestSimilarity[slot]! })
    result.push(found)
  }
  return result
}
