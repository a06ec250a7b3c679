/** What every scenario produces. */
import type { LoadResult } from './load.js'
import type { RunPlan } from './plan.js'
import type { RoundResults } from './rounds.js'
import type { Table } from './table.js'

/** A scenario's results, ready to print. */
export interface ScenarioReport {
  title: string
  /** How it was measured, one line, printed under the title. */
  method: string
  table: Table
  /** Lines printed under the table. */
  notes: string[]
  /** Reasons the numbers cannot be trusted (failed requests); the run then exits non-zero. */
  failures: string[]
  /** Every round's raw numbers, saved for anyone who doubts the median. */
  rounds: RoundResults<LoadResult>
}

/** A named scenario, runnable alone with `--only <name>`. */
export interface Scenario {
  name: string
  /** Durations in full mode; quick mode uses QUICK_PLAN. */
  fullPlan: RunPlan
  run(plan: RunPlan): Promise<ScenarioReport>
}
