/**
 * Scenario: a cache hit from memory (L1) through each adapter, against that
 * framework's own bare route parsing the same JSON and sending the same
 * bytes; the standalone gateway against bare Express; plain node:http as the
 * ceiling. Same request and load as `l1-hit`.
 */
import { startBenchServer, startGateway, type BenchServer, type BenchServerName } from '../bench-server.js'
import { startFakeUpstream } from '../fake-upstream.js'
import type { LoadResult } from '../load.js'
import type { RunPlan } from '../plan.js'
import { runInterleavedRounds, type RoundResults } from '../rounds.js'
import { describeGoal, type Goal, type Headline, type Scenario, type ScenarioReport, verdict } from '../scenario.js'
import { fixedRequestTarget, primeJsonHit } from '../targets.js'
import { formatRatio } from '../format.js'
import { type Comparison, cpuRatio, THROUGHPUT_METHOD_TAIL, throughputFailures, throughputRatio, throughputTable } from '../throughput-table.js'
import { CHAT_COMPLETIONS_PATH, chatRequestBody } from '../workload.js'

/** A target: a bench server, or the example gateway. */
interface TargetSpec {
  name: BenchServerName | 'gateway'
  /** The target this one is compared with. */
  baseline?: BenchServerName
  /** Whether it is aicache, whose repeated request must be a hit. */
  aicache: boolean
  goal?: Goal
}

// Each adapter right after its baseline, so drift hits the pair alike.
const TARGETS: readonly TargetSpec[] = [
  { name: 'bare-express', aicache: false },
  { name: 'aicache-express', baseline: 'bare-express', aicache: true, goal: { value: 1, direction: 'at-least' } },
  { name: 'bare-koa', aicache: false },
  { name: 'aicache-koa', baseline: 'bare-koa', aicache: true, goal: { value: 1, direction: 'at-least' } },
  { name: 'bare-fastify', aicache: false },
  { name: 'aicache-fastify', baseline: 'bare-fastify', aicache: true, goal: { value: 0.9, direction: 'at-least' } },
  { name: 'gateway', baseline: 'bare-express', aicache: true },
  { name: 'bare-node', baseline: 'bare-express', aicache: false },
]
// As in l1-hit: enough to keep one server core busy without queueing so deep that p99 only measures the queue.
const CONNECTIONS = 10

function comparisons(): Comparison[] {
  const names = TARGETS.map((target) => target.name)
  return TARGETS.map((target, targetIndex) => ({
    targetIndex,
    baselineIndex: target.baseline === undefined ? undefined : names.indexOf(target.baseline),
  }))
}

async function startTarget(spec: TargetSpec, upstreamUrl: string): Promise<BenchServer> {
  return spec.name === 'gateway' ? startGateway(upstreamUrl) : startBenchServer(spec.name, upstreamUrl)
}

function headlinesOf(results: RoundResults<LoadResult>): Headline[] {
  return comparisons().flatMap((comparison) => {
    const spec = TARGETS[comparison.targetIndex]!
    if (!spec.aicache || comparison.baselineIndex === undefined) return []
    const headline: Headline = { label: `l1-hit-adapters: ${spec.name} ÷ ${spec.baseline}, req/s`, value: throughputRatio(results, comparison) }
    return [spec.goal ? { ...headline, goal: spec.goal } : headline]
  })
}

function goalNotes(results: RoundResults<LoadResult>): string[] {
  return comparisons().flatMap((comparison) => {
    const spec = TARGETS[comparison.targetIndex]!
    if (!spec.aicache) return []
    const ratio = throughputRatio(results, comparison)
    const cpu = cpuRatio(results, comparison)
    if (spec.goal === undefined) {
      return [`${spec.name} (no goal set) vs ${spec.baseline}: ${formatRatio(ratio)} on req/s, ${formatRatio(cpu)} on req / server CPU-s.`]
    }
    return [
      `Goal ${spec.name} ${describeGoal(spec.goal)} ${spec.baseline}: ${verdict(ratio, spec.goal)} on req/s (${formatRatio(ratio)}), ` +
        `${verdict(cpu, spec.goal)} on req / server CPU-s (${formatRatio(cpu)}).`,
    ]
  })
}

async function runAdapters(plan: RunPlan): Promise<ScenarioReport> {
  const stoppables: Array<{ stop(): Promise<void> }> = []
  try {
    const fake = await startFakeUpstream('fake-upstream', 0)
    stoppables.push(fake.process)
    const body = chatRequestBody()
    // Started together: start-up is mostly module loading, and the run is bounded in time.
    const started = await Promise.allSettled(TARGETS.map((spec) => startTarget(spec, fake.url)))
    for (const result of started) if (result.status === 'fulfilled') stoppables.push(result.value.process)
    const servers = started.map((result) => {
      if (result.status === 'rejected') throw result.reason
      return result.value
    })
    for (const [index, spec] of TARGETS.entries()) await primeJsonHit(servers[index]!, spec.name, body, spec.aicache)
    const targets = TARGETS.map((spec, index) => fixedRequestTarget(spec.name, servers[index]!, body, CONNECTIONS))
    const results = await runInterleavedRounds(targets, plan)
    return {
      title: 'L1 hit through each adapter',
      method:
        `Same POST ${CHAT_COMPLETIONS_PATH} (${Buffer.byteLength(body)} B JSON) every time, as in l1-hit, ${CONNECTIONS} connections; ` +
        `warm-up ${plan.warmUpSeconds} s, then ${plan.roundCount} interleaved rounds of ${plan.roundSeconds} s per target. ` +
        'Baselines parse the JSON body with the framework’s usual parser and send the upstream’s bytes from memory: ' +
        'bare-koa with @koa/bodyparser and @koa/router, bare-fastify with its own JSON parser. ' +
        'The aicache adapters run in proxy mode; gateway is examples/gateway as shipped (node dist/main.js). ' +
        THROUGHPUT_METHOD_TAIL,
      table: throughputTable(results, comparisons()),
      notes: goalNotes(results),
      failures: throughputFailures(results),
      headlines: headlinesOf(results),
      rounds: results,
    }
  } finally {
    await Promise.all(stoppables.map((stoppable) => stoppable.stop()))
  }
}

/** Throughput of a hit through Express, Koa, Fastify and the gateway, each against its own bare route. */
export const l1HitAdaptersScenario: Scenario = {
  name: 'l1-hit-adapters',
  // Many short rounds rather than a few long ones, in the same time: on a shared
  // machine one round's ratio swings by ±25% even between two identical
  // servers, and the median of 24 such ratios strays about 0.6 times as far as
  // the median of 6 (docs/decisions/0014-many-short-rounds.md).
  fullPlan: { warmUpSeconds: 2, roundCount: 24, roundSeconds: 0.5 },
  run: runAdapters,
}
