/**
 * Scenario 2: what aicache adds to a cache miss. Every request is unique, so
 * each one through aicache goes to the upstream; the baseline calls that
 * upstream directly. Portkey's open-source gateway proxying the same
 * upstream is the peer: the part of a cache layer every request pays.
 * bare-proxy, node:http forwarding the bytes and nothing else, is the floor:
 * what the extra hop costs any proxy on this machine (decision 12).
 */
import { setTimeout as sleep } from 'node:timers/promises'
import { type BenchServer, startBenchServer } from '../bench-server.js'
import { withServerCpu } from '../cpu-time.js'
import { startFakeUpstream, type FakeUpstreamProcess } from '../fake-upstream.js'
import { runLoad, type LoadResult } from '../load.js'
import type { RunPlan } from '../plan.js'
import { assertChatCompletion, sendChatRequest } from '../probe.js'
import { type RunningProcess, startTogether } from '../process.js'
import { runInterleavedRounds, type Target } from '../rounds.js'
import type { Scenario, ScenarioReport } from '../scenario.js'
import { PORTKEY, portkeyHeaders, startPortkey } from '../portkey.js'
import { CHAT_COMPLETIONS_PATH, REQUEST_HEADERS, uniqueChatRequestBodies } from '../workload.js'
import { missOverheadReport, type MissTally } from './miss-overhead-report.js'

const UPSTREAM_LATENCY_MS = 20
// Low and fixed, so latency is the upstream's delay plus overhead rather than time spent queueing.
const CONNECTIONS = 8
// Lets the calls that were in flight when a run stopped finish before the upstream's call count is read.
const SETTLE_MS = UPSTREAM_LATENCY_MS * 5 + 100

/** One side of the comparison: where its requests go, and what to do with each run's upstream call count. */
interface MissTarget {
  name: string
  origin: string
  /** The process listening at `origin`, whose CPU time is measured. */
  server: RunningProcess
  /** Headers of every request; the benchmark's usual ones unless set. */
  headers?: Readonly<Record<string, string>>
  onRun(result: LoadResult, upstreamCalls: number): void
}

/** A target whose every run starts with a fresh upstream and ends once the upstream is idle. */
function targetOf(target: MissTarget, fake: FakeUpstreamProcess, nextBody: () => string): Target<LoadResult> {
  return {
    name: target.name,
    measure: async (durationSeconds) => {
      target.server.assertRunning()
      fake.process.assertRunning()
      await fake.reset()
      const result = await withServerCpu(target.server.pid, () =>
        runLoad({
          origin: target.origin,
          path: CHAT_COMPLETIONS_PATH,
          headers: target.headers ?? REQUEST_HEADERS,
          body: nextBody,
          connections: CONNECTIONS,
          durationSeconds,
        }),
      )
      await sleep(SETTLE_MS)
      target.onRun(result, await fake.callCount())
      return result
    },
  }
}

/** The origins of the targets besides the direct one. */
interface ProxyOrigins {
  aicache: string
  portkey: string
  bareProxy: string
}

/** Checks that every target answers, and that aicache answers a new request with a miss. */
async function probe(directOrigin: string, origins: ProxyOrigins, upstreamUrl: string, nextBody: () => string): Promise<void> {
  assertChatCompletion('direct', await sendChatRequest(directOrigin, nextBody()))
  assertChatCompletion(PORTKEY, await sendChatRequest(origins.portkey, nextBody(), portkeyHeaders(upstreamUrl)))
  assertChatCompletion('bare-proxy', await sendChatRequest(origins.bareProxy, nextBody()))
  const throughAicache = await sendChatRequest(origins.aicache, nextBody())
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
    const [server, portkey, bareProxy] = (await startTogether(
      [startBenchServer('aicache-express', fake.url), startPortkey(fake.url), startBenchServer('bare-proxy', fake.url)],
      stoppables,
    )) as [BenchServer, BenchServer, BenchServer]
    // One sequence for every target, so no body is ever sent twice.
    const nextBody = uniqueChatRequestBodies()
    await probe(fake.origin, { aicache: server.origin, portkey: portkey.origin, bareProxy: bareProxy.origin }, fake.url, nextBody)
    const tally: MissTally = { upstreamCalls: 0, aicacheResponses: 0, portkeyUpstreamCalls: 0, portkeyResponses: 0 }
    const countMisses = (result: LoadResult, upstreamCalls: number): void => {
      tally.upstreamCalls += upstreamCalls
      tally.aicacheResponses += result.responseCount
    }
    const countPortkeyCalls = (result: LoadResult, upstreamCalls: number): void => {
      tally.portkeyUpstreamCalls += upstreamCalls
      tally.portkeyResponses += result.responseCount
    }
    const targets = [
      targetOf({ name: 'direct', origin: fake.origin, server: fake.process, onRun: () => undefined }, fake, nextBody),
      targetOf({ name: 'aicache-express', origin: server.origin, server: server.process, onRun: countMisses }, fake, nextBody),
      targetOf({ name: PORTKEY, origin: portkey.origin, server: portkey.process, headers: portkeyHeaders(fake.url), onRun: countPortkeyCalls }, fake, nextBody),
      targetOf({ name: 'bare-proxy', origin: bareProxy.origin, server: bareProxy.process, onRun: () => undefined }, fake, nextBody),
    ]
    const results = await runInterleavedRounds(targets, plan)
    return missOverheadReport(results, { plan, upstreamLatencyMs: UPSTREAM_LATENCY_MS, connections: CONNECTIONS }, tally)
  } finally {
    await Promise.all(stoppables.map((stoppable) => stoppable.stop()))
  }
}

/** Latency aicache adds to a miss, against calling the upstream directly and against Portkey proxying it. */
export const missOverheadScenario: Scenario = {
  name: 'miss-overhead',
  // A longer warm-up than for hits: at a few hundred requests per second, the JIT needs several seconds to settle.
  // Three targets since Portkey joined: one round and two seconds of warm-up fewer keep the full run within its budget; bare-proxy, the fourth, adds about 25 s.
  fullPlan: { warmUpSeconds: 6, roundCount: 6, roundSeconds: 3 },
  run: runMissOverhead,
}
