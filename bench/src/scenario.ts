/** What every scenario produces. */
import type { RunPlan } from './plan.js'
import type { Table } from './table.js'

/** A goal a headline number is held to. */
export interface Goal {
  value: number
  /** 'at-least': the number must be ≥ value (throughput); 'at-most': ≤ value (latency, memory). */
  direction: 'at-least' | 'at-most'
}

/** A scenario's key number, drawn as a bar in the chart and checked against its goal. */
export interface Headline {
  /** Short, e.g. 'aicache-koa ÷ bare-koa, req/s'. */
  label: string
  /** A ratio (1.00 = as good as the baseline). */
  value: number
  /** Undefined where no goal was set: the number is only reported. */
  goal?: Goal
}

/** A titled table with its method and notes; scenarios with several measurements have several. */
export interface ReportSection {
  title: string
  /** How it was measured, printed under the title. */
  method: string
  table: Table
  /** Lines printed under the table. */
  notes: string[]
}

/** A scenario's results, ready to print. */
export interface ScenarioReport extends ReportSection {
  /** Further tables, printed after the first one under their own titles. */
  moreSections?: ReportSection[]
  /** Reasons the numbers cannot be trusted (failed requests); the run then exits non-zero. */
  failures: string[]
  /** The numbers the chart shows, in order. */
  headlines: Headline[]
  /** Every round's raw numbers (or a probe's raw output), saved for anyone who doubts the median. */
  rounds: unknown
}

/** A named scenario, runnable alone with `--only <name>`. */
export interface Scenario {
  name: string
  /** Durations in full mode; quick mode uses QUICK_PLAN. */
  fullPlan: RunPlan
  run(plan: RunPlan, mode: 'full' | 'quick'): Promise<ScenarioReport>
}

/** Whether `value` meets `goal`. */
export function meetsGoal(value: number, goal: Goal): boolean {
  return goal.direction === 'at-least' ? value >= goal.value : value <= goal.value
}

/** 'met' or 'not met', for notes. */
export function verdict(value: number, goal: Goal): string {
  return meetsGoal(value, goal) ? 'met' : 'not met'
}

/** '≥ 1.00x' or '≤ 1.05x'. */
export function describeGoal(goal: Goal): string {
  return `${goal.direction === 'at-least' ? '≥' : '≤'} ${goal.value.toFixed(2)}x`
}
