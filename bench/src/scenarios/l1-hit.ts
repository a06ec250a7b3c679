/**
 * Scenario 1: a cache hit from memory (L1) through Express, against Express
 * sending the same bytes without any cache, a tutorial LRU cache and plain
 * node:http.
 */
import { startBenchServer, type BenchServer, type BenchServerName } from '../bench-server.js'
import { countFailures, describeFailures, formatFailures } from '../failures.js'
import { startFakeUpstream, type FakeUpstreamProcess } from '../fake-upstream.js'
import { formatMs, formatRate, formatRatio } from '../format.js'
import { runLoad, type LoadResult } from '../load.js'
import type { RunPlan } from '../plan.js'
import { assertChatCompletion, sendChatRequest } from '../probe.js'
import { resultsOf, runInterleavedRounds, type RoundResults, type Target } from '../rounds.js'
import type { Scenario, ScenarioReport } from '../scenario.js'
import { median, medianIndex } from '../statistics.js'
import { CHAT_COMPLETIONS_PATH, chatRequestBody, REQUEST_HEADERS } from '../workload.js'

const TARGET_NAMES: readonly BenchServerName[] = ['bare-express', 'aicache-express', 'lru-middleware', 'bare-node']
const BASELINE_INDEX = 0
// Enough to keep one server core busy without queueing so deep that p99 only measures the queue.
const CONNECTIONS = 10

/** Sends the request once so it is cached, then checks that aicache really answers it from its cache. */
async function primeCache(server: BenchServer, name: BenchServerName): Promise<void> {
  assertChatCompletion(name, await sendChatRequest(server.origin, chatRequestBody()))
  const second = await sendChatRequest(server.origin, chatRequestBody())
  assertChatCompletion(name, second)
  if (name === 'aicache-express' && !second.cacheStatus.includes('hit')) {
    throw new Error(`aicache-express did not answer the repeated request from its cache (cache-status: '${second.cacheStatus}')`)
  }
}

function targetOf(server: BenchServer, name: BenchServerName): Target<LoadResult> {
  const body = chatRequestBody()
  return {
    name,
    measure: (durationSeconds) => {
      server.process.assertRunning()
      return runLoad({ origin: server.origin, path: CHAT_COMPLETIONS_PATH, headers: REQUEST_HEADERS, body, connections: CONNECTIONS, durationSeconds })
    },
  }
}

/** Per round, a target's req/s divided by the baseline's in the same round. */
function ratiosOf(results: RoundResults<LoadResult>, targetIndex: number): number[] {
  return results.rounds.map((round) => round[targetIndex]!.requestsPerSecond / round[BASELINE_INDEX]!.requestsPerSecond)
}

function reportOf(results: RoundResults<LoadResult>, plan: RunPlan): ScenarioReport {
  const failures: string[] = []
  const rows = results.targetNames.map((name, targetIndex) => {
    const rounds = resultsOf(results, targetIndex)
    const medianRound = rounds[medianIndex(rounds, (result) => result.requestsPerSecond)]!
    const ratios = ratiosOf(results, targetIndex)
    const failureCount = countFailures(rounds)
    const failure = describeFailures(name, failureCount)
    if (failure !== undefined) failures.push(failure)
    return [
      name,
      formatRate(medianRound.requestsPerSecond),
      formatRatio(median(ratios)),
      `${formatRatio(Math.min(...ratios))}–${formatRatio(Math.max(...ratios))}`,
      formatMs(medianRound.p50Ms),
      formatMs(medianRound.p99Ms),
      formatFailures(failureCount),
    ]
  })
  const aicacheRatio = median(ratiosOf(results, TARGET_NAMES.indexOf('aicache-express')))
  return {
    title: 'L1 hit through Express',
    method:
      `Same POST ${CHAT_COMPLETIONS_PATH} (${Buffer.byteLength(chatRequestBody())} B JSON) every time, ${CONNECTIONS} connections; ` +
      `warm-up ${plan.warmUpSeconds} s, then ${plan.roundCount} interleaved rounds of ${plan.roundSeconds} s per target. ` +
      'req/s, p50 and p99 are from the median round; the ratio is the median over rounds of req/s ÷ bare-express req/s in the same round.',
    table: {
      columns: [
        { title: 'target', align: 'left' },
        { title: 'req/s', align: 'right' },
        { title: 'vs bare-express', align: 'right' },
        { title: 'ratio range', align: 'right' },
        { title: 'p50 ms', align: 'right' },
        { title: 'p99 ms', align: 'right' },
        { title: 'errors / non-2xx', align: 'right' },
      ],
      rows,
    },
    notes: [`Goal aicache-express ≥ 1.00x bare-express: ${aicacheRatio >= 1 ? 'met' : 'not met'} (${formatRatio(aicacheRatio)}).`],
    failures,
  }
}

async function runL1Hit(plan: RunPlan): Promise<ScenarioReport> {
  const stoppables: Array<{ stop(): Promise<void> }> = []
  try {
    const fake: FakeUpstreamProcess = await startFakeUpstream('fake-upstream', 0)
    stoppables.push(fake.process)
    const targets: Target<LoadResult>[] = []
    for (const name of TARGET_NAMES) {
      const server = await startBenchServer(name, fake.url)
      stoppables.push(server.process)
      await primeCache(server, name)
      targets.push(targetOf(server, name))
    }
    return reportOf(await runInterleavedRounds(targets, plan), plan)
  } finally {
    await Promise.all(stoppables.map((stoppable) => stoppable.stop()))
  }
}

/** Throughput and latency of a cache hit, as ratios against bare Express. */
export const l1HitScenario: Scenario = {
  name: 'l1-hit',
  fullPlan: { warmUpSeconds: 3, roundCount: 5, roundSeconds: 5 },
  run: runL1Hit,
}
