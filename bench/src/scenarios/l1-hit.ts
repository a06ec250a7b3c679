/**
 * Scenario 1: a cache hit from memory (L1) through Express, against Express
 * sending the same bytes without any cache, a tutorial LRU cache and plain
 * node:http.
 */
import { startBenchServer, type BenchServer, type BenchServerName } from '../bench-server.js'
import { withServerCpu } from '../cpu-time.js'
import { startFakeUpstream } from '../fake-upstream.js'
import { runLoad, type LoadResult } from '../load.js'
import type { RunPlan } from '../plan.js'
import { startTogether } from '../process.js'
import { assertChatCompletion, sendChatRequest } from '../probe.js'
import { runInterleavedRounds, type Target } from '../rounds.js'
import type { Scenario, ScenarioReport } from '../scenario.js'
import { CHAT_COMPLETIONS_PATH, chatRequestBody, REQUEST_HEADERS } from '../workload.js'
import { l1HitReport } from './l1-hit-report.js'

const TARGET_NAMES: readonly BenchServerName[] = ['bare-express', 'aicache-express', 'lru-middleware', 'bare-node']
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
  const load = (durationSeconds: number) => () =>
    runLoad({ origin: server.origin, path: CHAT_COMPLETIONS_PATH, headers: REQUEST_HEADERS, body, connections: CONNECTIONS, durationSeconds })
  return {
    name,
    measure: (durationSeconds) => {
      server.process.assertRunning()
      return withServerCpu(server.process.pid, load(durationSeconds))
    },
  }
}

async function runL1Hit(plan: RunPlan): Promise<ScenarioReport> {
  const stoppables: Array<{ stop(): Promise<void> }> = []
  try {
    const fake = await startFakeUpstream('fake-upstream', 0)
    stoppables.push(fake.process)
    const servers = await startTogether(
      TARGET_NAMES.map((name) => startBenchServer(name, fake.url)),
      stoppables,
    )
    const targets: Target<LoadResult>[] = []
    for (const [index, name] of TARGET_NAMES.entries()) {
      await primeCache(servers[index]!, name)
      targets.push(targetOf(servers[index]!, name))
    }
    const results = await runInterleavedRounds(targets, plan)
    return l1HitReport(results, { plan, connections: CONNECTIONS, baselineIndex: 0, aicacheIndex: TARGET_NAMES.indexOf('aicache-express') })
  } finally {
    await Promise.all(stoppables.map((stoppable) => stoppable.stop()))
  }
}

/** Throughput and latency of a cache hit, as ratios against bare Express. */
export const l1HitScenario: Scenario = {
  name: 'l1-hit',
  // Many short rounds rather than a few long ones: the median then shrugs off a burst of noise from a neighbour.
  fullPlan: { warmUpSeconds: 3, roundCount: 8, roundSeconds: 3 },
  run: runL1Hit,
}
