/**
 * Scenario 2: what aicache adds to a cache miss. Every request is unique, so
 * each one through aicache goes to the upstream; the baseline calls that
 * upstream directly.
 */
import { setTimeout as sleep } from 'node:timers/promises'
import { startBenchServer } from '../bench-server.js'
import { countFailures, describeFailures, formatFailures } from '../failures.js'
import { startFakeUpstream, type FakeUpstreamProcess } from '../fake-upstream.js'
import { formatMs, formatRate, formatSignedMs } from '../format.js'
import { runLoad, type LoadResult } from '../load.js'
import type { RunPlan } from '../plan.js'
import { assertChatCompletion, sendChatRequest } from '../probe.js'
import type { RunningProcess } from '../process.js'
import { resultsOf, runInterleavedRounds, type RoundResults, type Target } from '../rounds.js'
import type { Scenario, ScenarioReport } from '../scenario.js'
import { median, medianIndex } from '../statistics.js'
import { CHAT_COMPLETIONS_PATH, REQUEST_HEADERS, uniqueChatRequestBodies } from '../workload.js'

const UPSTREAM_LATENCY_MS = 20
// Low and fixed, so latency is the upstream's delay plus overhead rather than time spent queueing.
const CONNECTIONS = 8
// Lets the calls that were in flight when a run stopped finish before the upstream's call count is read.
const SETTLE_MS = UPSTREAM_LATENCY_MS * 5 + 100
const DIRECT_INDEX = 0
const AICACHE_INDEX = 1

/** Upstream calls seen while aicache was measured, against the responses aicache gave. */
interface MissTally {
  upstreamCalls: number
  aicacheResponses: number
}

/** One side of the comparison: where its requests go, and what to do with each run's upstream call count. */
interface MissTarget {
  name: string
  origin: string
  /** The process behind `origin` besides the fake, if any. */
  server?: RunningProcess
  onRun(result: LoadResult, upstreamCalls: number): void
}

/** A target whose every run starts with a fresh upstream and ends once the upstream is idle. */
function targetOf(target: MissTarget, fake: FakeUpstreamProcess, nextBody: () => string): Target<LoadResult> {
  return {
    name: target.name,
    measure: async (durationSeconds) => {
      target.server?.assertRunning()
      fake.process.assertRunning()
      await fake.reset()
      const result = await runLoad({
        origin: target.origin,
        path: CHAT_COMPLETIONS_PATH,
        headers: REQUEST_HEADERS,
        body: nextBody,
        connections: CONNECTIONS,
        durationSeconds,
      })
      await sleep(SETTLE_MS)
      target.onRun(result, await fake.callCount())
      return result
    },
  }
}

function addedP50sMs(results: RoundResults<LoadResult>): number[] {
  return results.rounds.map((round) => round[AICACHE_INDEX]!.p50Ms - round[DIRECT_INDEX]!.p50Ms)
}

function tallyNote(tally: MissTally): string {
  return (
    `Upstream calls during aicache runs (warm-up included): ${tally.upstreamCalls} for ${tally.aicacheResponses} aicache responses ` +
    `(every response a miss; a few more calls can be in flight when a run stops).`
  )
}

function reportOf(results: RoundResults<LoadResult>, plan: RunPlan, tally: MissTally): ScenarioReport {
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
      `Every request unique, upstream latency ${UPSTREAM_LATENCY_MS} ms, ${CONNECTIONS} connections; ` +
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
    notes: [tallyNote(tally), `Goal added p50 < 1 ms: ${addedP50Ms < 1 ? 'met' : 'not met'} (${formatSignedMs(addedP50Ms)} ms).`],
    failures,
  }
}

/** Checks that both targets answer, and that aicache answers a new request with a miss. */
async function probe(directOrigin: string, aicacheOrigin: string, nextBody: () => string): Promise<void> {
  assertChatCompletion('direct', await sendChatRequest(directOrigin, nextBody()))
  const throughAicache = await sendChatRequest(aicacheOrigin, nextBody())
  assertChatCompletion('aicache-express', throughAicache)
  if (!throughAicache.cacheStatus.includes('fwd=uri-miss')) {
    throw new Error(`aicache-express did not forward a new request as a miss (cache-status: '${throughAicache.cacheStatus}')`)
  }
}

async function runMissOverhead(plan: RunPlan): Promise<ScenarioReport> {
  const stoppables: Array<{ stop(): Promise<void> }> = []
  try {
    const fake = await startFakeUpstream('slow-fake-upstream', UPSTREAM_LATENCY_MS)
    stoppables.push(fake.process)
    const server = await startBenchServer('aicache-express', fake.url)
    stoppables.push(server.process)
    // One sequence for both targets, so no body is ever sent twice.
    const nextBody = uniqueChatRequestBodies()
    await probe(fake.origin, server.origin, nextBody)
    const tally: MissTally = { upstreamCalls: 0, aicacheResponses: 0 }
    const countMisses = (result: LoadResult, upstreamCalls: number): void => {
      tally.upstreamCalls += upstreamCalls
      tally.aicacheResponses += result.responseCount
    }
    const targets = [
      targetOf({ name: 'direct', origin: fake.origin, onRun: () => undefined }, fake, nextBody),
      targetOf({ name: 'aicache-express', origin: server.origin, server: server.process, onRun: countMisses }, fake, nextBody),
    ]
    return reportOf(await runInterleavedRounds(targets, plan), plan, tally)
  } finally {
    await Promise.all(stoppables.map((stoppable) => stoppable.stop()))
  }
}

/** Latency aicache adds to a miss, against calling the upstream directly. */
export const missOverheadScenario: Scenario = {
  name: 'miss-overhead',
  fullPlan: { warmUpSeconds: 3, roundCount: 5, roundSeconds: 4 },
  run: runMissOverhead,
}
