/**
 * The judges the evaluation compares: the raw cosine rule, each guard alone,
 * the guards together, and the guards with a second opinion on borderline
 * scores.
 */
import { createGuardedJudge, entitiesGuard, negationGuard, numbersGuard, type SemanticGuard, thresholdJudge } from '@aicache/core'
import type { JudgeVariant } from './sweep.js'

/** A judge of the comparison, with how the chart draws it. */
export interface ChartedVariant extends JudgeVariant {
  readonly color: string
  /** Drawn in the chart (the single-guard variants are in the tables only). */
  readonly charted: boolean
}

// A guard's verdict depends on the two texts only: remembered, so a sweep of 50 thresholds checks each pair once.
function remembered(guard: SemanticGuard): SemanticGuard {
  const verdicts = new Map<string, boolean>()
  return {
    name: guard.name,
    agrees(query, stored) {
      const key = `${query}\u0000${stored}`
      let verdict = verdicts.get(key)
      if (verdict === undefined) {
        verdict = guard.agrees(query, stored)
        verdicts.set(key, verdict)
      }
      return verdict
    },
  }
}

const numbers = remembered(numbersGuard)
const negation = remembered(negationGuard)
const entities = remembered(entitiesGuard)

/** The variant whose operating point is the default. */
export const DEFAULT_VARIANT = 'guards + second opinion'

export const variants: readonly ChartedVariant[] = [
  { name: 'cosine only', judge: thresholdJudge, color: '#9e9e9e', charted: true },
  { name: 'numbers', judge: createGuardedJudge({ guards: [numbers], borderlineBand: 0 }), color: '#8d6e63', charted: false },
  { name: 'negation', judge: createGuardedJudge({ guards: [negation], borderlineBand: 0 }), color: '#7e57c2', charted: false },
  { name: 'entities', judge: createGuardedJudge({ guards: [entities], borderlineBand: 0 }), color: '#26a69a', charted: false },
  { name: 'guards', judge: createGuardedJudge({ guards: [numbers, negation, entities], borderlineBand: 0 }), color: '#1e88e5', charted: true },
  {
    name: DEFAULT_VARIANT,
    // The core's defaults for the second opinion, so the evaluation measures what users get.
    judge: createGuardedJudge({ guards: [numbers, negation, entities] }),
    color: '#d81b60',
    charted: true,
  },
]
