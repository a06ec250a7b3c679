/**
 * Tables of throughput runs where each target is compared with its own
 * baseline measured in the same rounds (aicache-koa with bare-koa, ...).
 */
import { countFailures, describeFailures, formatFailures } from './failures.js'
import { formatMs, formatRate, formatRatio } from './format.js'
import type { LoadResult } from './load.js'
import { resultsOf, type RoundResults } from './rounds.js'
import { median, medianIndex } from './statistics.js'
import type { Column, Table } from './table.js'

/** A row: a target and the baseline it is compared with (none for a baseline itself). */
export interface Comparison {
  targetIndex: number
  baselineIndex: number | undefined
}

const COLUMNS: readonly Column[] = [
  { title: 'target', align: 'left' },
  { title: 'baseline', align: 'left' },
  { title: 'req/s', align: 'right' },
  { title: 'vs baseline', align: 'right' },
  { title: 'ratio range', align: 'right' },
  { title: 'req / server CPU-s', align: 'right' },
  { title: 'CPU vs baseline', align: 'right' },
  { title: 'p50 ms', align: 'right' },
  { title: 'p99 ms', align: 'right' },
  { title: 'errors / non-2xx', align: 'right' },
]

/** Requests the server answered per second of its own CPU time; NaN where CPU time was not measured. */
export function requestsPerCpuSecond(result: LoadResult): number {
  return result.serverCpuSeconds ? result.responseCount / result.serverCpuSeconds : Number.NaN
}

/** Per round, a target's value divided by its baseline's in the same round, which cancels drift between rounds. */
export function ratiosOf(results: RoundResults<LoadResult>, targetIndex: number, baselineIndex: number, value: (result: LoadResult) => number): number[] {
  return results.rounds.map((round) => value(round[targetIndex]!) / value(round[baselineIndex]!))
}

/** Median over rounds of target req/s ÷ baseline req/s. */
export function throughputRatio(results: RoundResults<LoadResult>, comparison: Comparison): number {
  if (comparison.baselineIndex === undefined) return 1
  return median(ratiosOf(results, comparison.targetIndex, comparison.baselineIndex, (result) => result.requestsPerSecond))
}

/** Median over rounds of target req per CPU-s ÷ baseline req per CPU-s. */
export function cpuRatio(results: RoundResults<LoadResult>, comparison: Comparison): number {
  if (comparison.baselineIndex === undefined) return 1
  return median(ratiosOf(results, comparison.targetIndex, comparison.baselineIndex, requestsPerCpuSecond))
}

function rowOf(results: RoundResults<LoadResult>, comparison: Comparison): string[] {
  const { targetIndex, baselineIndex } = comparison
  const rounds = resultsOf(results, targetIndex)
  const medianRound = rounds[medianIndex(rounds, (result) => result.requestsPerSecond)]!
  const ratios = baselineIndex === undefined ? [] : ratiosOf(results, targetIndex, baselineIndex, (result) => result.requestsPerSecond)
  const isBaseline = baselineIndex === undefined
  return [
    results.targetNames[targetIndex]!,
    isBaseline ? '—' : results.targetNames[baselineIndex]!,
    formatRate(medianRound.requestsPerSecond),
    isBaseline ? '—' : formatRatio(median(ratios)),
    isBaseline ? '—' : `${formatRatio(Math.min(...ratios))}–${formatRatio(Math.max(...ratios))}`,
    formatRate(median(rounds.map(requestsPerCpuSecond))),
    isBaseline ? '—' : formatRatio(cpuRatio(results, comparison)),
    formatMs(medianRound.p50Ms),
    formatMs(medianRound.p99Ms),
    formatFailures(countFailures(rounds)),
  ]
}

/** The table, one row per comparison in the order given. */
export function throughputTable(results: RoundResults<LoadResult>, comparisons: readonly Comparison[]): Table {
  return { columns: COLUMNS, rows: comparisons.map((comparison) => rowOf(results, comparison)) }
}

/** A failure line per target whose measured rounds had errors or non-2xx responses. */
export function throughputFailures(results: RoundResults<LoadResult>): string[] {
  return results.targetNames
    .map((name, targetIndex) => describeFailures(name, countFailures(resultsOf(results, targetIndex))))
    .filter((failure) => failure !== undefined)
}

/** The method line shared by throughput tables. */
export const THROUGHPUT_METHOD_TAIL =
  'req/s, p50 and p99 are from the median round (by req/s); ratios are medians over rounds of target ÷ its baseline in the same round. ' +
  'req / server CPU-s is requests answered per second of CPU time of the server process (user + system, from /proc): ' +
  'the capacity of one core, much less disturbed than req/s by other load on the machine.'

/** Median over rounds of `value(result) ÷ responses` of one target (e.g. Redis commands per request); NaN where not measured. */
export function medianPerResponse<Result extends LoadResult>(
  results: RoundResults<Result>,
  targetIndex: number,
  value: (result: Result) => number | undefined,
): number {
  return median(resultsOf(results, targetIndex).map((result) => (value(result) ?? Number.NaN) / result.responseCount))
}

/** The round of a target whose req/s is the median, as the tables show it. */
export function medianRoundOf<Result extends LoadResult>(results: RoundResults<Result>, targetIndex: number): Result {
  const rounds = resultsOf(results, targetIndex)
  return rounds[medianIndex(rounds, (result) => result.requestsPerSecond)]!
}
