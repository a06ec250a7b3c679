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
import { fixedRequestTarget, primeJsonHit, primeRequestHit } from '../targets.js'
import { formatRatio } from '../format.js'
import { type Comparison, cpuRatio, THROUGHPUT_METHOD_TAIL, throughputFailures, throughputRatio, throughputTable } from '../throughput-table.js'
import { benchRequest, CHAT_COMPLETIONS_PATH, chatRequestBody, MESSAGES_PATH, type RequestFormat, RESPONSES_PATH } from '../workload.js'

/** A target: a bench server, or the example gateway, loaded with the request of one format. */
interface TargetSpec {
  server: BenchServerName | 'gateway'
  /** The row's name: the server's, with the format when it is not chat completions. */
  name: string
  /** The format of the request it is loaded with. @default 'chat' */
  format?: RequestFormat
  /** The target this one is compared with (its name). */
  baseline?: string
  /** Whether it is aicache, whose repeated request must be a hit. */
  aicache: boolean
  goal?: Goal
}

// Each adapter right after its baseline, so drift hits the pair alike.
const TARGETS: readonly TargetSpec[] = [
  { server: 'bare-express', name: 'bare-express', aicache: false },
  { server: 'aicache-express', name: 'aicache-express', baseline: 'bare-express', aicache: true, goal: { value: 1, direction: 'at-least' } },
  { server: 'bare-koa', name: 'bare-koa', aicache: false },
  { server: 'aicache-koa', name: 'aicache-koa', baseline: 'bare-koa', aicache: true, goal: { value: 1, direction: 'at-least' } },
  { server: 'bare-fastify', name: 'bare-fastify', aicache: false },
  { server: 'aicache-fastify', name: 'aicache-fastify', baseline: 'bare-fastify', aicache: true, goal: { value: 0.9, direction: 'at-least' } },
  { server: 'gateway', name: 'gateway', baseline: 'bare-express', aicache: true },
  { server: 'bare-node', name: 'bare-node', baseline: 'bare-express', aicache: false },
  // The same Express servers with a Responses and a Messages request: a hit of each format against the bare route of that format.
  { server: 'bare-express', name: 'bare-express responses', format: 'responses', aicache: false },
  { server: 'aicache-express', name: 'aicache-express responses', format: 'responses', baseline: 'bare-express responses', aicache: true },
  { server: 'bare-express', name: 'bare-express messages', format: 'messages', aicache: false },
  { server: 'aicache-express', name: 'aicache-express messages', format: 'messages', baseline: 'bare-express messages', aicache: true },
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

async function startTarget(server: TargetSpec['server'], upstreamUrl: string): Promise<BenchServer> {
  return server === 'gateway' ? startGateway(upstreamUrl) : startBenchServer(server, upstreamUrl)
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
    // One process per server, whatever formats it is loaded with; started together: start-up is mostly module loading.
    const serverNames = [...new Set(TARGETS.map((spec) => spec.server))]
    const started = await Promise.allSettled(serverNames.map((server) => startTarget(server, fake.url)))
    for (const result of started) if (result.status === 'fulfilled') stoppables.push(result.value.process)
    const servers = new Map(
      started.map((result, index) => {
        if (result.status === 'rejected') throw result.reason
        return [serverNames[index]!, result.value] as const
      }),
    )
    const targets = []
    for (const spec of TARGETS) {
      const server = servers.get(spec.server)!
      if (spec.format === undefined) {
        await primeJsonHit(server, spec.name, body, spec.aicache)
        targets.push(fixedRequestTarget(spec.name, server, body, CONNECTIONS))
      } else {
        const request = benchRequest(spec.format)
        await primeRequestHit(server, spec.name, request, spec.aicache)
        targets.push(fixedRequestTarget(spec.name, server, request.body, CONNECTIONS, { request }))
      }
    }
    const results = await runInterleavedRounds(targets, plan)
    return {
      title: 'L1 hit through each adapter',
      method:
        `Same POST ${CHAT_COMPLETIONS_PATH} (${Buffer.byteLength(body)} B JSON) every time, as in l1-hit, ${CONNECTIONS} connections; ` +
        `the rows named responses and messages send the same question as POST ${RESPONSES_PATH} (${Buffer.byteLength(benchRequest('responses').body)} B) ` +
        `and POST ${MESSAGES_PATH} (${Buffer.byteLength(benchRequest('messages').body)} B, x-api-key and anthropic-version) to the same two Express servers; ` +
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
