/**
 * The table of the miss overhead scenario: latency through aicache against
 * calling the upstream directly, against Portkey's gateway proxying it, and
 * against a bare node:http proxy, the floor of any proxy here.
 */
import { BARE_PROXY_METHOD } from '../bench-server.js'
import { countFailures, describeFailures, formatFailures } from '../failures.js'
import { formatMicroseconds, formatMs, formatRate, formatRatio, formatSignedMs } from '../format.js'
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

/** Upstream calls seen while aicache and Portkey were measured, against the responses each gave. */
export interface MissTally {
  upstreamCalls: number
  aicacheResponses: number
  portkeyUpstreamCalls: number
  portkeyResponses: number
}

// The order in which the scenario lists its targets.
const DIRECT_INDEX = 0
const AICACHE_INDEX = 1
const PORTKEY_INDEX = 2
const BARE_PROXY_INDEX = 3

/** Per round, the target's p50 minus the other's in the same round. */
function p50DifferencesMs(results: RoundResults<LoadResult>, targetIndex: number, otherIndex: number): number[] {
  return results.rounds.map((round) => round[targetIndex]!.p50Ms - round[otherIndex]!.p50Ms)
}

function addedP50sMs(results: RoundResults<LoadResult>): number[] {
  return p50DifferencesMs(results, AICACHE_INDEX, DIRECT_INDEX)
}

/** Median over rounds of the CPU the target's server spent per request, in microseconds. */
function cpuPerRequestMicroseconds(results: RoundResults<LoadResult>, targetIndex: number): number {
  const perRound = resultsOf(results, targetIndex).map((result) => ((result.serverCpuSeconds ?? Number.NaN) / result.responseCount) * 1e6)
  return median(perRound)
}

function portkeyNote(results: RoundResults<LoadResult>): string {
  const name = results.targetNames[PORTKEY_INDEX]!
  const p50DifferenceMs = median(p50DifferencesMs(results, AICACHE_INDEX, PORTKEY_INDEX))
  const aicacheMicroseconds = cpuPerRequestMicroseconds(results, AICACHE_INDEX)
  const portkeyMicroseconds = cpuPerRequestMicroseconds(results, PORTKEY_INDEX)
  return (
    `aicache-express against ${name} (median over rounds, same round): p50 ${formatSignedMs(p50DifferenceMs)} ms; ` +
    `server CPU per request ${formatMicroseconds(aicacheMicroseconds)} µs against ${formatMicroseconds(portkeyMicroseconds)} µs ` +
    `(aicache ÷ Portkey ${formatRatio(aicacheMicroseconds / portkeyMicroseconds)}).`
  )
}

function floorNote(results: RoundResults<LoadResult>): string {
  const overProxyMs = median(p50DifferencesMs(results, AICACHE_INDEX, BARE_PROXY_INDEX))
  const proxyAddedMs = median(p50DifferencesMs(results, BARE_PROXY_INDEX, DIRECT_INDEX))
  return (
    `Floor (no goal set; medians over rounds, same round): bare-proxy adds ${formatSignedMs(proxyAddedMs)} ms to direct; ` +
    `aicache-express adds ${formatSignedMs(overProxyMs)} ms to bare-proxy, its own work beyond the extra hop.`
  )
}

function tallyNote(tally: MissTally): string {
  return (
    `Upstream calls during aicache runs (warm-up included): ${tally.upstreamCalls} for ${tally.aicacheResponses} aicache responses ` +
    `(every response a miss; a few more calls can be in flight when a run stops). During Portkey runs: ${tally.portkeyUpstreamCalls} ` +
    `for ${tally.portkeyResponses} responses (it proxies every request).`
  )
}

/**
 * For the chart, the goal "less than 1 ms added" as a ratio: aicache p50 ÷ direct p50, against
 * (direct p50 + 1 ms) ÷ direct p50; and aicache's CPU per miss against Portkey's, without a goal.
 */
function headlinesOf(results: RoundResults<LoadResult>): Headline[] {
  const ratio = median(results.rounds.map((round) => round[AICACHE_INDEX]!.p50Ms / round[DIRECT_INDEX]!.p50Ms))
  const directP50Ms = median(resultsOf(results, DIRECT_INDEX).map((result) => result.p50Ms))
  const cpuPerRequest = (result: LoadResult) => (result.serverCpuSeconds ?? Number.NaN) / result.responseCount
  const cpuRatio = median(results.rounds.map((round) => cpuPerRequest(round[AICACHE_INDEX]!) / cpuPerRequest(round[PORTKEY_INDEX]!)))
  return [
    {
      label: 'miss-overhead: aicache p50 ÷ direct p50 (goal +1 ms)',
      value: ratio,
      goal: { value: (directP50Ms + 1) / directP50Ms, direction: 'at-most' },
    },
    { label: `miss-overhead: CPU per miss, aicache ÷ ${results.targetNames[PORTKEY_INDEX]!} (lower is better)`, value: cpuRatio },
  ]
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
    const added = targetIndex === DIRECT_INDEX ? '—' : formatSignedMs(median(p50DifferencesMs(results, targetIndex, DIRECT_INDEX)))
    return [
      name,
      formatRate(medianRound.requestsPerSecond),
      formatMs(medianRound.p50Ms),
      formatMs(medianRound.p99Ms),
      added,
      formatMicroseconds(cpuPerRequestMicroseconds(results, targetIndex)),
      formatFailures(failureCount),
    ]
  })
  if (tally.upstreamCalls < tally.aicacheResponses) {
    failures.push(`aicache-express gave ${tally.aicacheResponses} responses but the upstream saw only ${tally.upstreamCalls} calls: some were hits`)
  }
  return {
    title: 'Miss overhead',
    method:
      `Every request unique, upstream latency ${setup.upstreamLatencyMs} ms, ${setup.connections} connections; ` +
      `warm-up ${plan.warmUpSeconds} s, then ${plan.roundCount} interleaved rounds of ${plan.roundSeconds} s per target. ` +
      `${results.targetNames[PORTKEY_INDEX]!} is Portkey’s open-source gateway from npm (node build/start-server.js), ` +
      'told per request to use provider openai at the fake upstream (x-portkey-provider, x-portkey-custom-host). ' +
      `${BARE_PROXY_METHOD}: the least any proxy adds here. ` +
      'Columns are from the median round by p50; added p50 is the median over rounds of target p50 − direct p50 in the same round. ' +
      'Server CPU is of the process answering the client (the fake upstream for direct), per request, median over rounds.',
    table: {
      columns: [
        { title: 'target', align: 'left' },
        { title: 'req/s', align: 'right' },
        { title: 'p50 ms', align: 'right' },
        { title: 'p99 ms', align: 'right' },
        { title: 'added p50 ms', align: 'right' },
        { title: 'server CPU µs / request', align: 'right' },
        { title: 'errors / non-2xx', align: 'right' },
      ],
      rows,
    },
    notes: [
      tallyNote(tally),
      portkeyNote(results),
      floorNote(results),
      `Goal aicache-express added p50 < 1 ms: ${addedP50Ms < 1 ? 'met' : 'not met'} (${formatSignedMs(addedP50Ms)} ms).`,
    ],
    failures,
    headlines: headlinesOf(results),
    rounds: results,
  }
}
