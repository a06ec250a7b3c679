/** The table of the L1 hit scenario: throughput and its CPU cost, as ratios against bare Express. */
import { countFailures, describeFailures, formatFailures } from '../failures.js'
import { formatMs, formatRate, formatRatio } from '../format.js'
import type { LoadResult } from '../load.js'
import type { RunPlan } from '../plan.js'
import { resultsOf, type RoundResults } from '../rounds.js'
import type { Goal, ScenarioReport } from '../scenario.js'
import { median, medianIndex } from '../statistics.js'
import type { Column } from '../table.js'
import { CHAT_COMPLETIONS_PATH, chatRequestBody } from '../workload.js'

/** Everything the report needs besides the results. */
export interface L1HitSetup {
  plan: RunPlan
  connections: number
  baselineIndex: number
  aicacheIndex: number
}

const COLUMNS: readonly Column[] = [
  { title: 'target', align: 'left' },
  { title: 'req/s', align: 'right' },
  { title: 'vs bare-express', align: 'right' },
  { title: 'ratio range', align: 'right' },
  { title: 'req / server CPU-s', align: 'right' },
  { title: 'CPU vs bare-express', align: 'right' },
  { title: 'p50 ms', align: 'right' },
  { title: 'p99 ms', align: 'right' },
  { title: 'errors / non-2xx', align: 'right' },
]

/** Requests the server answered per second of its own CPU time; NaN where CPU time was not measured. */
function requestsPerCpuSecond(result: LoadResult): number {
  return result.serverCpuSeconds ? result.responseCount / result.serverCpuSeconds : Number.NaN
}

/** Per round, a target's value divided by the baseline's in the same round, which cancels drift between rounds. */
function ratiosOf(results: RoundResults<LoadResult>, targetIndex: number, baselineIndex: number, value: (result: LoadResult) => number): number[] {
  return results.rounds.map((round) => value(round[targetIndex]!) / value(round[baselineIndex]!))
}

function rowOf(results: RoundResults<LoadResult>, targetIndex: number, setup: L1HitSetup): string[] {
  const rounds = resultsOf(results, targetIndex)
  const medianRound = rounds[medianIndex(rounds, (result) => result.requestsPerSecond)]!
  const ratios = ratiosOf(results, targetIndex, setup.baselineIndex, (result) => result.requestsPerSecond)
  const cpuRatios = ratiosOf(results, targetIndex, setup.baselineIndex, requestsPerCpuSecond)
  return [
    results.targetNames[targetIndex]!,
    formatRate(medianRound.requestsPerSecond),
    formatRatio(median(ratios)),
    `${formatRatio(Math.min(...ratios))}–${formatRatio(Math.max(...ratios))}`,
    formatRate(median(rounds.map(requestsPerCpuSecond))),
    formatRatio(median(cpuRatios)),
    formatMs(medianRound.p50Ms),
    formatMs(medianRound.p99Ms),
    formatFailures(countFailures(rounds)),
  ]
}

function methodOf(setup: L1HitSetup): string {
  const { plan } = setup
  return (
    `Same POST ${CHAT_COMPLETIONS_PATH} (${Buffer.byteLength(chatRequestBody())} B JSON) every time, ${setup.connections} connections; ` +
    `warm-up ${plan.warmUpSeconds} s, then ${plan.roundCount} interleaved rounds of ${plan.roundSeconds} s per target. ` +
    'req/s, p50 and p99 are from the median round (by req/s); ratios are medians over rounds of target ÷ bare-express in the same round. ' +
    'req / server CPU-s is requests answered per second of CPU time of the server process (user + system, from /proc): ' +
    'the capacity of one core, much less disturbed than req/s by other load on the machine.'
  )
}

const GOAL: Goal = { value: 1, direction: 'at-least' }

function aicacheRatio(results: RoundResults<LoadResult>, setup: L1HitSetup): number {
  return median(ratiosOf(results, setup.aicacheIndex, setup.baselineIndex, (result) => result.requestsPerSecond))
}

function goalNote(results: RoundResults<LoadResult>, setup: L1HitSetup): string {
  const ratio = median(ratiosOf(results, setup.aicacheIndex, setup.baselineIndex, (result) => result.requestsPerSecond))
  const cpuRatio = median(ratiosOf(results, setup.aicacheIndex, setup.baselineIndex, requestsPerCpuSecond))
  const verdict = (value: number): string => (value >= 1 ? 'met' : 'not met')
  return (
    `Goal aicache-express ≥ 1.00x bare-express: ${verdict(ratio)} on req/s (${formatRatio(ratio)}), ` +
    `${verdict(cpuRatio)} on req / server CPU-s (${formatRatio(cpuRatio)}).`
  )
}

/** The scenario's report from its rounds. */
export function l1HitReport(results: RoundResults<LoadResult>, setup: L1HitSetup): ScenarioReport {
  const failures = results.targetNames
    .map((name, targetIndex) => describeFailures(name, countFailures(resultsOf(results, targetIndex))))
    .filter((failure) => failure !== undefined)
  return {
    title: 'L1 hit through Express',
    method: methodOf(setup),
    table: { columns: COLUMNS, rows: results.targetNames.map((_name, targetIndex) => rowOf(results, targetIndex, setup)) },
    notes: [goalNote(results, setup)],
    failures,
    headlines: [{ label: 'l1-hit: aicache-express ÷ bare-express, req/s', value: aicacheRatio(results, setup), goal: GOAL }],
    rounds: results,
  }
}
