/**
 * Interleaved rounds: A B C, A B C, ... so that drift on a shared, noisy
 * machine (another tenant, thermal throttling) hits every target alike.
 */
import type { RunPlan } from './plan.js'

/** Something measured: a name and a way to run it for a while. */
export interface Target<Result> {
  name: string
  measure(durationSeconds: number): Promise<Result>
}

/** Every round's result per target, in target order; `rounds[i]` is round i. */
export interface RoundResults<Result> {
  targetNames: string[]
  /** `rounds[roundIndex][targetIndex]`. */
  rounds: Result[][]
}

/** Warms up every target once (unless `plan.warmUpSeconds` is 0), then runs `plan.roundCount` interleaved rounds. */
export async function runInterleavedRounds<Result>(targets: readonly Target<Result>[], plan: RunPlan): Promise<RoundResults<Result>> {
  for (const target of plan.warmUpSeconds > 0 ? targets : []) {
    process.stdout.write(`  warm-up ${target.name}\n`)
    await target.measure(plan.warmUpSeconds)
  }
  const rounds: Result[][] = []
  for (let roundIndex = 0; roundIndex < plan.roundCount; roundIndex++) {
    process.stdout.write(`  round ${roundIndex + 1}/${plan.roundCount}\n`)
    const round: Result[] = []
    for (const target of targets) round.push(await target.measure(plan.roundSeconds))
    rounds.push(round)
  }
  return { targetNames: targets.map((target) => target.name), rounds }
}

/** The results of one target over all rounds. */
export function resultsOf<Result>(results: RoundResults<Result>, targetIndex: number): Result[] {
  return results.rounds.map((round) => round[targetIndex]!)
}
