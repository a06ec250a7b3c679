/**
 * Scenario: a stampede. N identical requests for an answer nobody has yet,
 * all at once: how many of them reach the upstream? aicache in one process,
 * aicache in three processes sharing one Redis (requests spread round-robin
 * over them), and the peers that cache on Express, each burst with a fresh
 * question, the upstream's calls counted by the fake itself.
 */
import { setTimeout as sleep } from 'node:timers/promises'
import { type BenchServer, startBenchServer } from '../bench-server.js'
import { processCpuSeconds } from '../cpu-time.js'
import { type BurstResult, runBurst } from '../burst-load.js'
import { formatFailures } from '../failures.js'
import { type FakeUpstreamProcess, startFakeUpstream } from '../fake-upstream.js'
import { formatMicroseconds, formatMs } from '../format.js'
import type { RunPlan } from '../plan.js'
import { type BenchRedis, startRedis } from '../redis.js'
import { startTogether } from '../process.js'
import { resultsOf, runInterleavedRounds, type RoundResults, type Target } from '../rounds.js'
import type { Scenario, ScenarioReport } from '../scenario.js'
import { AICACHE_OPTIONS_VARIABLE } from '../servers/environment.js'
import { median } from '../statistics.js'
import { CHAT_COMPLETIONS_PATH, REQUEST_HEADERS, uniqueChatRequestBodies } from '../workload.js'

const BURST_SIZE = 200
// An upstream call takes long enough for the whole burst to arrive while the first call is in flight, as a real model's would.
const UPSTREAM_LATENCY_MS = 1_000
const REQUEST_TIMEOUT_MS = 20_000
// Lets calls still in flight when the last answer came back finish before the fake's count is read.
const SETTLE_MS = 50
const AICACHE_PROCESSES = 3

/** Bursts per target: the median of three in full mode; in quick mode one, without warm-up, since each burst lasts the upstream's second. */
interface BurstPlan {
  warmUpBursts: 0 | 1
  bursts: number
}
const BURST_PLANS: Record<'full' | 'quick', BurstPlan> = { full: { warmUpBursts: 1, bursts: 3 }, quick: { warmUpBursts: 0, bursts: 1 } }

/** A burst's result with the upstream calls it caused. */
interface StampedeResult extends BurstResult {
  upstreamCalls: number
  /** CPU seconds the target's server processes used over the burst, all together; undefined without /proc. */
  serverCpuSeconds: number | undefined
}

/** CPU seconds used so far by all `servers` together, or undefined where /proc cannot tell. */
function totalCpuSeconds(servers: readonly BenchServer[]): number | undefined {
  let total = 0
  for (const server of servers) {
    const seconds = processCpuSeconds(server.process.pid)
    if (seconds === undefined) return undefined
    total += seconds
  }
  return total
}

interface StampedeTarget {
  name: string
  /** What it is, for the table. */
  setup: string
  servers: BenchServer[]
  /** Whether it promises one upstream call per burst. */
  coalesces: boolean
}

function targetOf(target: StampedeTarget, fake: FakeUpstreamProcess, nextBody: () => string): Target<StampedeResult> {
  return {
    name: target.name,
    measure: async () => {
      for (const server of target.servers) server.process.assertRunning()
      fake.process.assertRunning()
      await fake.reset()
      const cpuBefore = totalCpuSeconds(target.servers)
      const result = await runBurst({
        origins: target.servers.map((server) => server.origin),
        path: CHAT_COMPLETIONS_PATH,
        headers: REQUEST_HEADERS,
        body: nextBody(),
        count: BURST_SIZE,
        timeoutMs: REQUEST_TIMEOUT_MS,
      })
      await sleep(SETTLE_MS)
      const cpuAfter = totalCpuSeconds(target.servers)
      const serverCpuSeconds = cpuBefore === undefined || cpuAfter === undefined ? undefined : cpuAfter - cpuBefore
      return { ...result, upstreamCalls: await fake.callCount(), serverCpuSeconds }
    },
  }
}

function formatCount(value: number): string {
  return Number.isInteger(value) ? String(value) : value.toFixed(1)
}

/** Cache-Status values over all measured bursts, most frequent first, aicache's parameters shortened. */
function describeStatuses(results: StampedeResult[]): string {
  const totals = new Map<string, number>()
  for (const result of results) {
    for (const [status, count] of Object.entries(result.cacheStatuses)) {
      const short = status === '' ? '(none)' : status.replace(/^aicache; /, '').replace(/; ttl=\d+/, '')
      totals.set(short, (totals.get(short) ?? 0) + count)
    }
  }
  return [...totals.entries()]
    .sort((left, right) => right[1] - left[1])
    .map(([status, count]) => `${count} × '${status}'`)
    .join(', ')
}

function stampedeReport(results: RoundResults<StampedeResult>, targets: readonly StampedeTarget[], plan: BurstPlan): ScenarioReport {
  const failures: string[] = []
  const notes: string[] = []
  const rows = targets.map((target, targetIndex) => {
    const bursts = resultsOf(results, targetIndex)
    const calls = bursts.map((burst) => burst.upstreamCalls)
    const errors = bursts.reduce((sum, burst) => sum + burst.errors, 0)
    const non2xx = bursts.reduce((sum, burst) => sum + burst.non2xx, 0)
    if (errors + non2xx > 0) failures.push(`${target.name}: ${errors} errors and ${non2xx} non-2xx responses in measured bursts`)
    if (target.coalesces) {
      const medianCalls = median(calls)
      notes.push(
        `Goal ${target.name}: 1 upstream call per burst of ${BURST_SIZE}: ${medianCalls <= 1 ? 'met' : 'not met'} (median ${formatCount(medianCalls)}; per burst ${calls.join(', ')}).`,
      )
      notes.push(`${target.name} Cache-Status over the measured bursts: ${describeStatuses(bursts)}.`)
    }
    return [
      target.name,
      target.setup,
      formatCount(median(calls)),
      calls.join(', '),
      formatCount(median(bursts.map((burst) => burst.distinctBodies))),
      formatMs(median(bursts.map((burst) => burst.p50Ms))),
      formatMs(median(bursts.map((burst) => burst.p99Ms))),
      formatMicroseconds(median(bursts.map((burst) => ((burst.serverCpuSeconds ?? Number.NaN) / BURST_SIZE) * 1e6))),
      formatFailures({ errors, non2xx }),
    ]
  })
  notes.push(
    'Portkey’s gateway is not in this table: its published build has no response cache (checked in peers), so it forwards every request; ' +
      'miss-overhead counts its upstream calls.',
  )
  return {
    title: 'Stampede: identical cold requests at once',
    method:
      `${BURST_SIZE} identical POST ${CHAT_COMPLETIONS_PATH} sent at once, each on its own new connection, for a question no target has seen (a new one every burst); ` +
      `the fake upstream answers after ${UPSTREAM_LATENCY_MS} ms and counts its calls (reset before every burst). ` +
      `${plan.warmUpBursts === 1 ? 'One unmeasured burst per target, then ' : 'No warm-up, '}${plan.bursts} interleaved burst(s) per target. ` +
      `aicache ×${AICACHE_PROCESSES} is three aicache-express processes with redis set (one local redis-server), memory tier on, the requests spread round-robin over them. ` +
      'Columns are medians over the measured bursts; p50 and p99 are of the requests of a burst, from sending to the last byte. ' +
      'distinct answers counts different response bodies within a burst (every upstream call has its own id). ' +
      'Server CPU is of the target’s server processes together (from /proc, over the burst and the settling after it), per request of the burst.',
    table: {
      columns: [
        { title: 'target', align: 'left' },
        { title: 'setup', align: 'left' },
        { title: 'upstream calls', align: 'right' },
        { title: 'calls per burst', align: 'right' },
        { title: 'distinct answers', align: 'right' },
        { title: 'p50 ms', align: 'right' },
        { title: 'p99 ms', align: 'right' },
        { title: 'server CPU µs / request', align: 'right' },
        { title: 'errors / non-2xx', align: 'right' },
      ],
      rows,
    },
    notes,
    failures,
    // Counts of calls are not ratios: the table says it all.
    headlines: [],
    rounds: results,
  }
}

async function runStampede(_plan: RunPlan, mode: 'full' | 'quick'): Promise<ScenarioReport> {
  const stoppables: Array<{ stop(): Promise<void> }> = []
  try {
    const [fake, redis] = (await startTogether<FakeUpstreamProcess | BenchRedis>(
      [startFakeUpstream('slow-fake-upstream', UPSTREAM_LATENCY_MS), startRedis()],
      stoppables,
    )) as [FakeUpstreamProcess, BenchRedis]
    const redisOptions = { [AICACHE_OPTIONS_VARIABLE]: JSON.stringify({ redis: redis.url }) }
    const [single, apicache, lru, ...shared] = await startTogether(
      [
        startBenchServer('aicache-express', fake.url),
        startBenchServer('apicache-express', fake.url, {}, 'apicache'),
        startBenchServer('lru-middleware', fake.url),
        ...Array.from({ length: AICACHE_PROCESSES }, (_unused, index) =>
          startBenchServer('aicache-express-options', fake.url, redisOptions, `aicache-express-redis-${index + 1}`),
        ),
      ],
      stoppables,
    )
    const targets: StampedeTarget[] = [
      { name: 'aicache-express', setup: '1 process', servers: [single!], coalesces: true },
      { name: `aicache-express ×${AICACHE_PROCESSES}`, setup: `${AICACHE_PROCESSES} processes, one Redis`, servers: shared, coalesces: true },
      { name: 'apicache', setup: '1 process, appendKey by body', servers: [apicache!], coalesces: false },
      { name: 'lru-middleware', setup: '1 process', servers: [lru!], coalesces: false },
    ]
    // One sequence for every target: no two bursts ever share a question.
    const nextBody = uniqueChatRequestBodies()
    const burstPlan = BURST_PLANS[mode]
    const results = await runInterleavedRounds(
      targets.map((target) => targetOf(target, fake, nextBody)),
      // Durations mean nothing to a burst: a warm-up burst when warmUpSeconds is not 0, then roundCount bursts per target.
      { warmUpSeconds: burstPlan.warmUpBursts, roundCount: burstPlan.bursts, roundSeconds: 0 },
    )
    return stampedeReport(results, targets, burstPlan)
  } finally {
    await Promise.all(stoppables.map((stoppable) => stoppable.stop()))
  }
}

/** Upstream calls caused by N identical cold requests at once, for aicache (one and three processes) and its peers. */
export const stampedeScenario: Scenario = {
  name: 'stampede',
  // Unused: bursts are counted, not timed (BURST_PLANS).
  fullPlan: { warmUpSeconds: 1, roundCount: 3, roundSeconds: 0 },
  run: runStampede,
}
