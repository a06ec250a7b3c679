import type { SemanticJudge } from './types.js'

/** Serves any neighbour at or above the threshold: the raw cosine rule other semantic caches use. */
export const thresholdJudge: SemanticJudge = {
  judge(_query, neighbour, threshold) {
    return neighbour.similarity >= threshold ? undefined : 'threshold'
  },
}
