/**
 * Scenario: the circuit breaker against a partly failing and then a dead
 * upstream. A steady 50 requests/s (each a new question, so every one is a
 * miss) go through aicache in three phases: the fake upstream fails 30% of
 * calls with 503 (a seeded pattern), then every call, then none. Is a
 * partial failure absorbed (the breaker stays closed, retries answer), is a
 * dead upstream cut off (how many calls until the breaker opens, how much
 * load it sheds), and how soon is it used again once it is back?
 */
import { type BenchServer, startBenchServer } from '../bench-server.js'
import { type FakeUpstreamProcess, startFakeUpstream } from '../fake-upstream.js'
import { type PacedReply, runPacedLoad } from '../paced-load.js'
import type { RunPlan } from '../plan.js'
import { startTogether } from '../process.js'
import type { Scenario, ScenarioReport } from '../scenario.js'
import { AICACHE_OPTIONS_VARIABLE } from '../servers/environment.js'
import { CHAT_COMPLETIONS_PATH, REQUEST_HEADERS, uniqueChatRequestBodies } from '../workload.js'
import { breakerReport, type BreakerResult } from './breaker-report.js'

const REQUESTS_PER_SECOND = 50
// A quick model: long enough that retries and fresh requests overlap, short enough for 50 requests/s.
const UPSTREAM_LATENCY_MS = 50
const REQUEST_TIMEOUT_MS = 30_000
const FAILURE_SHARE = 0.3
// The same pattern of failures in every run.
const FAULT_SEED = 18
// The fake's `times` must be finite in JSON: more calls than any run makes.
const FOREVER = 1_000_000_000

/** Phase lengths and the breaker's windows: the defaults in full mode, shortened in quick mode. */
export interface BreakerPlan {
  partialSeconds: number
  deadSeconds: number
  backSeconds: number
  coolDownMs: number
  /** Overrides of the breaker's defaults that quick mode needs to fit its phases. */
  breakerOverrides: Readonly<Record<string, number>>
}

const PLANS: Record<'full' | 'quick', BreakerPlan> = {
  // The dead phase outlasts one cool-down (failed probes re-open it); the last one, one cool-down and some.
  full: { partialSeconds: 20, deadSeconds: 15, backSeconds: 13, coolDownMs: 10_000, breakerOverrides: {} },
  quick: { partialSeconds: 3, deadSeconds: 3, backSeconds: 3, coolDownMs: 2_000, breakerOverrides: { coolDownMs: 2_000, windowMs: 2_000 } },
}

/** A configuration of aicache to put through the phases. */
export interface BreakerTarget {
  name: string
  /** The rule, for the table. */
  rule: string
  options: (plan: BreakerPlan) => Record<string, unknown>
}

const TARGETS: readonly BreakerTarget[] = [
  {
    name: 'aicache (defaults)',
    rule: '≥ 50% of ≥ 100 calls in 10 s, or 20 in a row; 3 probes; retry budget 50%',
    options: (plan) => (Object.keys(plan.breakerOverrides).length === 0 ? {} : { circuitBreaker: plan.breakerOverrides }),
  },
  {
    name: 'consecutive 5 (the old rule)',
    rule: '5 failures in a row; 1 probe; retry budget 20%',
    options: (plan) => ({
      circuitBreaker: { ...plan.breakerOverrides, consecutiveFailures: 5, failureRateThreshold: 1, halfOpenProbes: 1 },
      retry: { budgetRatio: 0.2 },
    }),
  },
]

async function phase(server: BenchServer, seconds: number, nextBody: () => string, onReply?: (reply: PacedReply) => void): Promise<PacedReply[]> {
  return runPacedLoad({
    origin: server.origin,
    path: CHAT_COMPLETIONS_PATH,
    headers: REQUEST_HEADERS,
    body: nextBody,
    requestsPerSecond: REQUESTS_PER_SECOND,
    durationSeconds: seconds,
    timeoutMs: REQUEST_TIMEOUT_MS,
    onReply,
  })
}

async function measure(server: BenchServer, fake: FakeUpstreamProcess, plan: BreakerPlan, nextBody: () => string): Promise<BreakerResult> {
  await fake.reset()
  await fake.inject({ status: 503, probability: FAILURE_SHARE, seed: FAULT_SEED, times: FOREVER })
  const partial = await phase(server, plan.partialSeconds, nextBody)
  const partialUpstreamCalls = await fake.callCount()

  await fake.reset()
  await fake.inject({ status: 503, times: FOREVER })
  // The fake's count when the first request was refused by the open breaker.
  let callsAtOpen: Promise<number> | undefined
  const dead = await phase(server, plan.deadSeconds, nextBody, (reply) => {
    if (reply.errorCode === 'circuit_open') callsAtOpen ??= fake.callCount()
  })
  const deadUpstreamCalls = await fake.callCount()

  await fake.reset()
  const back = await phase(server, plan.backSeconds, nextBody)
  server.process.assertRunning()
  return { partial, partialUpstreamCalls, dead, deadUpstreamCalls, upstreamCallsUntilOpen: await callsAtOpen, back }
}

async function runBreaker(_plan: RunPlan, mode: 'full' | 'quick'): Promise<ScenarioReport> {
  const plan = PLANS[mode]
  const stoppables: Array<{ stop(): Promise<void> }> = []
  try {
    const [fake] = (await startTogether([startFakeUpstream('fake-upstream', UPSTREAM_LATENCY_MS)], stoppables)) as [FakeUpstreamProcess]
    const servers = await startTogether(
      TARGETS.map((target) =>
        startBenchServer('aicache-express-options', fake.url, { [AICACHE_OPTIONS_VARIABLE]: JSON.stringify(target.options(plan)) }, target.name),
      ),
      stoppables,
    )
    const nextBody = uniqueChatRequestBodies()
    const results: BreakerResult[] = []
    // One target after the other: each has the fake (and the machine) to itself.
    for (const server of servers) results.push(await measure(server, fake, plan, nextBody))
    return breakerReport(TARGETS, results, {
      ...plan,
      requestsPerSecond: REQUESTS_PER_SECOND,
      failureShare: FAILURE_SHARE,
      seed: FAULT_SEED,
      latencyMs: UPSTREAM_LATENCY_MS,
    })
  } finally {
    await Promise.all(stoppables.map((stoppable) => stoppable.stop()))
  }
}

/** Success at 30% 5xx, calls until open and shed load at 100%, and recovery time, for the breaker's rule and the old one. */
export const breakerScenario: Scenario = {
  name: 'breaker',
  // Unused: the phases have their own lengths (PLANS).
  fullPlan: { warmUpSeconds: 0, roundCount: 1, roundSeconds: 0 },
  run: runBreaker,
}
