/** How long each part of a scenario runs, in full and quick mode. */

/** Durations and round count of a scenario. */
export interface RunPlan {
  /** Load per target before measuring, discarded: lets the JIT and connection pools settle. */
  warmUpSeconds: number
  roundCount: number
  /** Load per target per round. */
  roundSeconds: number
}

/**
 * Quick mode, run by CI so the benches never rot: every step briefly (the
 * whole run in about a minute), numbers only indicative.
 */
export const QUICK_PLAN: RunPlan = { warmUpSeconds: 0.3, roundCount: 2, roundSeconds: 0.4 }
