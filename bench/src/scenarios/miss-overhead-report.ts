/** The table of the miss overhead scenario: latency through aicache against calling the upstream directly. */
import { countFailures, describeFailures, formatFailures } from '../failures.js'
import { formatMicroseconds, formatMs, formatRate, formatSignedMs } from '../format.js'
import type { LoadResult } from '../load.js'
import type { RunPlan } from '../plan.js'
import { resultsOf, type RoundResults } from '../rounds.js'
import type { Headline, ScenarioReport } from '../scenario.js'
import { median, medianIndex } from '../statistics.js'

/** Everything the report needs besides the results. */
export interface MissOverheadSetup {
  plan: RunPlan
  upstreamLatencyMs: number
  connections: number
}

/** Upstream calls seen while aicache was measured, against the responses aicache gave. */
export interface MissTally {
  upstreamCalls: number
  aicacheResponses: number
}

// The order in which the scenario lists its targets.
const DIRECT_INDEX = 0
const AICACHE_INDEX = 1

function addedP50sMs(results: RoundResults<LoadResult>): number[] {
  return results.rounds.map((round) => round[AICACHE_INDEX]!.p50Ms - round[DIRECT_INDEX]!.p50Ms)
}

/** Median over rounds of the CPU the target's server spent per request, in microseconds. */
function cpuPerRequestMicroseconds(results: RoundResults<LoadResult>, targetIndex: number): number {
  const perRound = resultsOf(results, targetIndex).map((result) => ((result.serverCpuSeconds ?? Number.NaN) / result.responseCount) * 1e6)
  return median(perRound)
}

function cpuNote(results: RoundResults<LoadResult>): string {
  const aicacheMicroseconds = cpuPerRequestMicroseconds(results, AICACHE_INDEX)
  const fakeMicroseconds = cpuPerRequestMicroseconds(results, DIRECT_INDEX)
  return `CPU per request (median round, from /proc): aicache-express ${formatMicroseconds(aicacheMicroseconds)} µs per miss; the fake upstream ${formatMicroseconds(fakeMicroseconds)} µs per call.`
}

function tallyNote(tally: MissTally): string {
  return (
    `Upstream calls during aicache runs (warm-up included): ${tally.upstreamCalls} for ${tally.aicacheResponses} aicache responses ` +
    `(every response a miss; a few more calls can be in flight when a run stops).`
  )
}

/**
 * For the chart, the goal "less than 1 ms added" as a ratio: aicache p50 ÷ direct p50, against
 * (direct p50 + 1 ms) ÷ direct p50.
 */
function headlineOf(results: RoundResults<LoadResult>): Headline {
  const ratio = median(results.rounds.map((round) => round[AICACHE_INDEX]!.p50Ms / round[DIRECT_INDEX]!.p50Ms))
  const directP50Ms = median(resultsOf(results, DIRECT_INDEX).map((result) => result.p50Ms))
  return {
    label: 'miss-overhead: aicache p50 ÷ direct p50 (goal +1 ms)',
    value: ratio,
    goal: { value: (directP50Ms + 1) / directP50Ms, direction: 'at-most' },
  }
}

/** The scenario's report from its rounds and the upstream calls counted while aicache was measured. */
export function missOverheadReport(results: RoundResults<LoadResult>, setup: MissOverheadSetup, tally: MissTally): ScenarioReport {
  const { plan } = setup
  const failures: string[] = []
  const addedP50Ms = median(addedP50sMs(results))
  const rows = results.targetNames.map((name, targetIndex) => {
    const rounds = resultsOf(results, targetIndex)
    const medianRound = rounds[medianIndex(rounds, (result) => result.p50Ms)]!
    const failureCount = countFailures(rounds)
    const failure = describeFailures(name, failureCount)
    if (failure !== undefined) failures.push(failure)
    const added = targetIndex === AICACHE_INDEX ? formatSignedMs(addedP50Ms) : '—'
    return [name, formatRate(medianRound.requestsPerSecond), formatMs(medianRound.p50Ms), formatMs(medianRound.p99Ms), added, formatFailures(failureCount)]
  })
  if (tally.upstreamCalls < tally.aicacheResponses) {
    failures.push(`aicache-express gave ${tally.aicacheResponses} responses but the upstream saw only ${tally.upstreamCalls} calls: some were hits`)
  }
  return {
    title: 'Miss overhead',
    method:
      `Every request unique, upstream latency ${setup.upstreamLatencyMs} ms, ${setup.connections} connections; ` +
      `warm-up ${plan.warmUpSeconds} s, then ${plan.roundCount} interleaved rounds of ${plan.roundSeconds} s per target. ` +
      'Columns are from the median round by p50; added p50 is the median over rounds of aicache p50 − direct p50 in the same round.',
    table: {
      columns: [
        { title: 'target', align: 'left' },
        { title: 'req/s', align: 'right' },
        { title: 'p50 ms', align: 'right' },
        { title: 'p99 ms', align: 'right' },
        { title: 'added p50 ms', align: 'right' },
        { title: 'errors / non-2xx', align: 'right' },
      ],
      rows,
    },
    notes: [tallyNote(tally), cpuNote(results), `Goal added p50 < 1 ms: ${addedP50Ms < 1 ? 'met' : 'not met'} (${formatSignedMs(addedP50Ms)} ms).`],
    failures,
    headlines: [headlineOf(results)],
    rounds: results,
  }
}
