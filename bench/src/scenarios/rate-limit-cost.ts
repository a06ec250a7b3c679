/**
 * Scenario: what inbound rate limits cost on a hit. aicache-express with
 * limits so high that nothing is refused (a hit still counts as a request,
 * so the limiter runs on every one), with its counters in memory and in
 * Redis, against the same server without limits. The cache itself is the
 * memory tier (L1) in all three.
 */
import type { Redis } from 'ioredis'
import { type BenchServer, startBenchServer } from '../bench-server.js'
import { type FakeUpstreamProcess, startFakeUpstream } from '../fake-upstream.js'
import { startTogether } from '../process.js'
import { formatMicroseconds, formatRatio } from '../format.js'
import type { LoadResult } from '../load.js'
import type { RunPlan } from '../plan.js'
import { sendChatRequest } from '../probe.js'
import { type BenchRedis, describeCommandsPerResponse, redisClient, redisCommandCalls, type RedisShare, startRedis } from '../redis.js'
import { runInterleavedRounds, type RoundResults } from '../rounds.js'
import { describeGoal, type Goal, type Headline, type Scenario, type ScenarioReport, verdict } from '../scenario.js'
import { AICACHE_OPTIONS_VARIABLE } from '../servers/environment.js'
import { fixedRequestTarget, primeJsonHit } from '../targets.js'
import {
  type Comparison,
  cpuRatio,
  medianPerResponse,
  medianRoundOf,
  THROUGHPUT_METHOD_TAIL,
  throughputFailures,
  throughputRatio,
  throughputTable,
} from '../throughput-table.js'
import { CHAT_COMPLETIONS_PATH, chatRequestBody } from '../workload.js'

const CONNECTIONS = 10
// High enough that nothing is ever refused, so every request is a hit that goes through the limiter.
const RATE_LIMIT = { requestsPerMinute: 1e9, tokensPerMinute: 1e12 }
const MEMORY_GOAL: Goal = { value: 0.9, direction: 'at-least' }

const BASELINE = 'aicache-express'
const MEMORY = 'aicache-express-rl-memory'
const REDIS = 'aicache-express-rl-redis'
const BASELINE_INDEX = 0
const MEMORY_INDEX = 1
const REDIS_INDEX = 2

type RateResult = LoadResult & RedisShare

/** Checks that the limiter answered a hit: it adds OpenAI's x-ratelimit-* headers. */
async function assertLimitedHit(server: BenchServer, name: string, body: string): Promise<void> {
  const response = await sendChatRequest(server.origin, body)
  if (!response.cacheStatus.includes('hit') || response.headers.get('x-ratelimit-limit-requests') === null) {
    throw new Error(`${name} answered a hit without rate-limit headers (cache-status: '${response.cacheStatus}')`)
  }
}

function comparisons(): Comparison[] {
  return [
    { targetIndex: BASELINE_INDEX, baselineIndex: undefined },
    { targetIndex: MEMORY_INDEX, baselineIndex: BASELINE_INDEX },
    { targetIndex: REDIS_INDEX, baselineIndex: BASELINE_INDEX },
  ]
}

function rateReport(results: RoundResults<RateResult>, plan: RunPlan, body: string, primingScriptCalls: number): ScenarioReport {
  const memory = comparisons()[1]!
  const redis = comparisons()[2]!
  const memoryRatio = throughputRatio(results, memory)
  const redisRatio = throughputRatio(results, redis)
  const commands = medianPerResponse(results, REDIS_INDEX, (result) => result.redisCommands)
  const redisCpuMicroseconds = medianPerResponse(results, REDIS_INDEX, (result) => result.redisCpuSeconds) * 1e6
  const redisRound = medianRoundOf(results, REDIS_INDEX)
  const headlines: Headline[] = [
    { label: `rate-limit-cost: memory limiter ÷ none, req/s`, value: memoryRatio, goal: MEMORY_GOAL },
    { label: `rate-limit-cost: Redis limiter ÷ none, req/s`, value: redisRatio },
  ]
  return {
    title: 'Rate-limit cost on a hit',
    method:
      `Same POST ${CHAT_COMPLETIONS_PATH} (${Buffer.byteLength(body)} B JSON), an L1 hit, ${CONNECTIONS} connections. ` +
      `${MEMORY} and ${REDIS} have rateLimit { requestsPerMinute: 1e9, tokensPerMinute: 1e12 }: nothing is refused, and a hit counts as a request, ` +
      `so the limiter admits and settles every one (x-ratelimit-* headers on the hit, checked). ${MEMORY} keeps its counters in memory; ` +
      `${REDIS} has redis set (one local redis-server), so its counters are in Redis while hits still come from the memory tier. ${BASELINE} has no limits. ` +
      `warm-up ${plan.warmUpSeconds} s, then ${plan.roundCount} interleaved rounds of ${plan.roundSeconds} s per target. ${THROUGHPUT_METHOD_TAIL}`,
    table: throughputTable(results, comparisons()),
    notes: [
      `Goal ${MEMORY} ${describeGoal(MEMORY_GOAL)} ${BASELINE}: ${verdict(memoryRatio, MEMORY_GOAL)} on req/s (${formatRatio(memoryRatio)}), ` +
        `${verdict(cpuRatio(results, memory), MEMORY_GOAL)} on req / server CPU-s (${formatRatio(cpuRatio(results, memory))}).`,
      `${REDIS} (no goal set) vs ${BASELINE}: ${formatRatio(redisRatio)} on req/s, ${formatRatio(cpuRatio(results, redis))} on req / server CPU-s. ` +
        `Redis per hit (median over rounds): ${Number.isFinite(commands) ? commands.toFixed(2) : 'n/a'} commands (INFO commandstats, which counts the commands a Lua script runs too; in the median round ` +
        `${describeCommandsPerResponse(redisRound, redisRound.responseCount)}), ` +
        `${formatMicroseconds(redisCpuMicroseconds)} µs of redis-server CPU (priming: ${primingScriptCalls} EVALSHA of the limiter’s script for 3 requests).`,
    ],
    failures: throughputFailures(results),
    headlines,
    rounds: results,
  }
}

async function runRateLimitCost(plan: RunPlan): Promise<ScenarioReport> {
  const stoppables: Array<{ stop(): Promise<void> }> = []
  let client: Redis | undefined
  try {
    const [fake, redis] = (await startTogether<FakeUpstreamProcess | BenchRedis>([startFakeUpstream('fake-upstream', 0), startRedis()], stoppables)) as [
      FakeUpstreamProcess,
      BenchRedis,
    ]
    client = redisClient(redis)
    const optionsOf = (options: object) => ({ [AICACHE_OPTIONS_VARIABLE]: JSON.stringify(options) })
    const servers = (await startTogether(
      [
        startBenchServer('aicache-express', fake.url),
        startBenchServer('aicache-express-options', fake.url, optionsOf({ rateLimit: RATE_LIMIT }), MEMORY),
        startBenchServer('aicache-express-options', fake.url, optionsOf({ rateLimit: RATE_LIMIT, redis: redis.url }), REDIS),
      ],
      stoppables,
    )) as [BenchServer, BenchServer, BenchServer]
    const body = chatRequestBody()
    const names = [BASELINE, MEMORY, REDIS]
    for (const [index, server] of servers.entries()) await primeJsonHit(server, names[index]!, body, true)
    await assertLimitedHit(servers[MEMORY_INDEX], MEMORY, body)
    await assertLimitedHit(servers[REDIS_INDEX], REDIS, body)
    // Its counters expire within a second at these limits: the evidence is the limiter's script having run in Redis.
    const scriptCalls = (await redisCommandCalls(client))['evalsha'] ?? 0
    if (scriptCalls === 0) throw new Error(`${REDIS} ran no rate-limit script in Redis: its limiter is not the Redis one`)
    const share = { server: redis, client }
    // Every target's Redis share is read, so the Redis one is measured the same way as the others.
    const targets = servers.map((server, index) => fixedRequestTarget(names[index]!, server, body, CONNECTIONS, { redis: share }))
    const results = await runInterleavedRounds(targets, plan)
    return rateReport(results, plan, body, scriptCalls)
  } finally {
    client?.disconnect()
    await Promise.all(stoppables.map((stoppable) => stoppable.stop()))
  }
}

/** Throughput of a hit with rate limits in memory and in Redis, against none. */
export const rateLimitCostScenario: Scenario = {
  name: 'rate-limit-cost',
  // Six rounds: the limiter costs a few percent, less than one round's noise on a shared machine.
  fullPlan: { warmUpSeconds: 2, roundCount: 6, roundSeconds: 2.5 },
  run: runRateLimitCost,
}
