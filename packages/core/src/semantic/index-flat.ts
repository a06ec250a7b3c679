import type { SemanticIndex, SemanticNeighbour } from './types.js'

/** A vector scaled to unit length (a zero vector stays zero). */
export function normalise(vector: Float32Array): Float32Array {
  let sum = 0
  for (let i = 0; i < vector.length; i++) sum += vector[i]! * vector[i]!
  const norm = Math.sqrt(sum)
  const unit = new Float32Array(vector.length)
  if (norm > 0) for (let i = 0; i < vector.length; i++) unit[i] = vector[i]! / norm
  return unit
}

/** An exact (brute-force) index: every stored vector is compared with the query. */
export function createFlatIndex(): SemanticIndex {
  const entries = new Map<string, { text: string; unit: Float32Array }>()
  return {
    add(key, text, vector) {
      entries.set(key, { text, unit: normalise(vector) })
    },
    remove(key) {
      return entries.delete(key)
    },
    nearest(vector, k) {
      const query = normalise(vector)
      const found: SemanticNeighbour[] = []
      for (const [key, entry] of entries) {
        if (entry.unit.length !== query.length) continue
        let dot = 0
        for (let i = 0; i < query.length; i++) dot += query[i]! * entry.unit[i]!
        found.push({ key, text: entry.text, similarity: dot })
      }
      found.sort((a, b) => b.similarity - a.similarity)
      return found.slice(0, k)
    },
    get size() {
      return entries.size
    },
  }
}
