import { entitiesGuard, negationGuard, numbersGuard, type SemanticGuard } from './guards.js'
import { lexicalSimilarity } from './lexical.js'
import type { SemanticJudge } from './types.js'

/** Options of {@link createGuardedJudge}. */
export interface GuardedJudgeOptions {
  /**
   * Checks a neighbour at or above the threshold must pass, in order; the
   * first that refuses names the rejection.
   * @default [numbersGuard, negationGuard, entitiesGuard]
   */
  readonly guards?: readonly SemanticGuard[]
  /**
   * Width of the borderline band above the threshold: a neighbour whose
   * similarity is below `threshold + borderlineBand` is served only if the
   * second opinion (word overlap) agrees. 0 turns the second opinion off.
   * @default 0.05
   */
  readonly borderlineBand?: number
  /**
   * Least word overlap (Dice coefficient of content-word stems, 0-1) a
   * borderline neighbour needs.
   * @default 0.4
   */
  readonly borderlineMinOverlap?: number
}

/**
 * The default similarity threshold of the semantic tier, for the offline
 * embedder (`use-lite-512`) and {@link defaultSemanticJudge}: the operating
 * point `pnpm eval` chose on training data (docs/decisions/0063): the
 * lowest threshold with precision ≥ 0.95 on Banking77 and at most 1% of
 * CLINC150's out-of-scope questions served.
 */
export const defaultSemanticThreshold = 0.92

/** The guards {@link createGuardedJudge} applies by default. */
export const defaultGuards: readonly SemanticGuard[] = Object.freeze([numbersGuard, negationGuard, entitiesGuard])

/**
 * A judge that serves a neighbour only when its similarity reaches the
 * threshold, every guard agrees, and, in the borderline band just above the
 * threshold, the two questions also share most of their words. Rejections
 * are `threshold`, a guard's name, or `borderline`.
 */
export function createGuardedJudge(options: GuardedJudgeOptions = {}): SemanticJudge {
  const guards = [...(options.guards ?? defaultGuards)]
  const band = options.borderlineBand ?? 0.05
  const minOverlap = options.borderlineMinOverlap ?? 0.4
  if (!(band >= 0 && band <= 1)) throw new RangeError(`borderlineBand must be between 0 and 1, got ${band}`)
  if (!(minOverlap >= 0 && minOverlap <= 1)) throw new RangeError(`borderlineMinOverlap must be between 0 and 1, got ${minOverlap}`)
  return {
    judge(query, neighbour, threshold) {
      if (neighbour.similarity < threshold) return 'threshold'
      for (const guard of guards) if (!guard.agrees(query, neighbour.text)) return guard.name
      if (neighbour.similarity < threshold + band && lexicalSimilarity(query, neighbour.text) < minOverlap) return 'borderline'
      return undefined
    },
  }
}

/** The default judge: every default guard and the borderline second opinion. */
export const defaultSemanticJudge: SemanticJudge = createGuardedJudge()
