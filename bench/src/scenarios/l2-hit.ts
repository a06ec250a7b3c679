/**
 * Scenario: a cache hit from Redis (L2). aicache-express with its memory tier
 * off, so that every hit is read from Redis, against the Redis cache a
 * competent user would write by hand with Express and ioredis, on the same
 * Redis. redis-benchmark's GET and a single GET from Node are the ceiling.
 */
import type { Redis } from 'ioredis'
import { type BenchServer, startBenchServer } from '../bench-server.js'
import { type FakeUpstreamProcess, startFakeUpstream } from '../fake-upstream.js'
import { startTogether } from '../process.js'
import { formatMicroseconds, formatMs, formatRate, formatRatio } from '../format.js'
import type { LoadResult } from '../load.js'
import type { RunPlan } from '../plan.js'
import { sendChatRequest } from '../probe.js'
import {
  type BenchRedis,
  describeCommandsPerResponse,
  redisClient,
  type RedisShare,
  runRedisBenchmark,
  scanKeys,
  startRedis,
  timeSequentialGets,
} from '../redis.js'
import { runInterleavedRounds, type RoundResults } from '../rounds.js'
import { describeGoal, type Goal, type Scenario, type ScenarioReport, verdict } from '../scenario.js'
import { AICACHE_OPTIONS_VARIABLE, REDIS_URL_VARIABLE } from '../servers/environment.js'
import { fixedRequestTarget, primeJsonHit } from '../targets.js'
import {
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
const GOAL: Goal = { value: 1, direction: 'at-least' }
const HANDWRITTEN = 'ioredis-express'
const AICACHE = 'aicache-express-l2'
const HANDWRITTEN_INDEX = 0
const AICACHE_INDEX = 1
// The ceiling: redis-benchmark as the brief of the issue runs it, and single GETs from Node one after another.
const REDIS_BENCHMARK_CONNECTIONS = 10
const REDIS_BENCHMARK_REQUESTS = { full: 100_000, quick: 20_000 } as const
const SEQUENTIAL_GETS = { full: 2_000, quick: 500 } as const

type L2Result = LoadResult & RedisShare

/** What the ceiling measured, after the rounds. */
interface Ceiling {
  aicacheEntryBytes: number
  handwrittenEntryBytes: number
  benchmark: Awaited<ReturnType<typeof runRedisBenchmark>>
  sequential: Awaited<ReturnType<typeof timeSequentialGets>>
  sequentialCount: number
  benchmarkRequests: number
}

/** The one key each server stored for the benchmark request, and its size. */
async function storedEntry(client: Redis, pattern: string, name: string): Promise<{ key: string; bytes: number }> {
  const keys = await scanKeys(client, pattern)
  if (keys.length !== 1) throw new Error(`Expected exactly one ${name} entry in Redis (${pattern}), found ${keys.length}`)
  return { key: keys[0]!, bytes: await client.strlen(keys[0]!) }
}

async function assertL2Hit(server: BenchServer, body: string): Promise<void> {
  const response = await sendChatRequest(server.origin, body)
  if (!response.cacheStatus.includes('hit') || !response.cacheStatus.includes('detail=l2')) {
    throw new Error(`${AICACHE} did not answer from Redis (cache-status: '${response.cacheStatus}')`)
  }
}

async function measureCeiling(client: Redis, redis: BenchRedis, mode: 'full' | 'quick'): Promise<Ceiling> {
  const aicacheEntry = await storedEntry(client, 'aicache:*:entry', 'aicache')
  const handwrittenEntry = await storedEntry(client, 'handwritten:*', HANDWRITTEN)
  const sequentialCount = SEQUENTIAL_GETS[mode]
  const benchmarkRequests = REDIS_BENCHMARK_REQUESTS[mode]
  // The very entry aicache reads on a hit.
  const sequential = await timeSequentialGets(client, aicacheEntry.key, sequentialCount)
  const benchmark = await runRedisBenchmark(client, redis.port, {
    requests: benchmarkRequests,
    connections: REDIS_BENCHMARK_CONNECTIONS,
    valueBytes: aicacheEntry.bytes,
  })
  return { aicacheEntryBytes: aicacheEntry.bytes, handwrittenEntryBytes: handwrittenEntry.bytes, benchmark, sequential, sequentialCount, benchmarkRequests }
}

function redisRow(results: RoundResults<L2Result>, targetIndex: number, entryBytes: number): string[] {
  const round = medianRoundOf(results, targetIndex)
  const commands = medianPerResponse(results, targetIndex, (result) => result.redisCommands)
  const cpuMicroseconds = medianPerResponse(results, targetIndex, (result) => result.redisCpuSeconds) * 1e6
  return [
    `${results.targetNames[targetIndex]!} hit, ${CONNECTIONS} connections (median round)`,
    formatRate(round.requestsPerSecond),
    formatMs(round.p50Ms),
    formatMs(round.p99Ms),
    Number.isFinite(commands) ? commands.toFixed(2) : 'n/a',
    formatMicroseconds(cpuMicroseconds),
    String(entryBytes),
  ]
}

function ceilingRows(ceiling: Ceiling): string[][] {
  const { benchmark, sequential } = ceiling
  return [
    [
      `ioredis GET from Node, one at a time (${ceiling.sequentialCount})`,
      formatRate(ceiling.sequentialCount / (sequential.totalMs / 1000)),
      formatMs(sequential.p50Ms),
      formatMs(sequential.p99Ms),
      '1.00',
      '—',
      String(ceiling.aicacheEntryBytes),
    ],
    [
      `redis-benchmark GET, ${REDIS_BENCHMARK_CONNECTIONS} connections (${ceiling.benchmarkRequests})`,
      formatRate(benchmark.getsPerSecond),
      benchmark.p50Ms === undefined ? 'n/a' : formatMs(benchmark.p50Ms),
      '—',
      '1.00',
      '—',
      String(ceiling.aicacheEntryBytes),
    ],
  ]
}

function l2Report(results: RoundResults<L2Result>, ceiling: Ceiling, plan: RunPlan, body: string): ScenarioReport {
  const comparison = { targetIndex: AICACHE_INDEX, baselineIndex: HANDWRITTEN_INDEX }
  const ratio = throughputRatio(results, comparison)
  const cpu = cpuRatio(results, comparison)
  const aicacheRound = medianRoundOf(results, AICACHE_INDEX)
  const handwrittenRound = medianRoundOf(results, HANDWRITTEN_INDEX)
  return {
    title: 'L2 hit (Redis) through Express',
    method:
      `Same POST ${CHAT_COMPLETIONS_PATH} (${Buffer.byteLength(body)} B JSON) every time, ${CONNECTIONS} connections, one local redis-server (no persistence) for both. ` +
      `${AICACHE} is aicache-express with redis set and memoryTier: false, so every hit is read from Redis (Cache-Status detail=l2, checked). ` +
      `${HANDWRITTEN} is Express with express.json(), the SHA-256 of JSON.stringify(req.body) as key, one GET with ioredis, JSON.parse and res.json (SET with EX on a miss). ` +
      `warm-up ${plan.warmUpSeconds} s, then ${plan.roundCount} interleaved rounds of ${plan.roundSeconds} s per target. ${THROUGHPUT_METHOD_TAIL}`,
    table: throughputTable(results, [{ targetIndex: HANDWRITTEN_INDEX, baselineIndex: undefined }, comparison]),
    notes: [
      `Goal ${AICACHE} ${describeGoal(GOAL)} ${HANDWRITTEN}: ${verdict(ratio, GOAL)} on req/s (${formatRatio(ratio)}), ` +
        `${verdict(cpu, GOAL)} on req / server CPU-s (${formatRatio(cpu)}).`,
    ],
    moreSections: [
      {
        title: 'Redis per hit, and the Redis ceiling',
        method:
          'Redis commands per request are from INFO commandstats (INFO itself left out; the commands a Lua script runs count too) and Redis CPU from /proc of redis-server, both over each round, medians over rounds. ' +
          'After the rounds, on the same Redis: GETs of the entry aicache reads on a hit, one at a time from the runner with ioredis; ' +
          `then redis-benchmark -t get -c ${REDIS_BENCHMARK_CONNECTIONS} -q, whose key holds a value of that entry’s size. ` +
          'value B is the size of the value read from Redis per hit.',
        table: {
          columns: [
            { title: 'what', align: 'left' },
            { title: 'ops/s', align: 'right' },
            { title: 'p50 ms', align: 'right' },
            { title: 'p99 ms', align: 'right' },
            { title: 'Redis commands / request', align: 'right' },
            { title: 'Redis CPU µs / request', align: 'right' },
            { title: 'value B', align: 'right' },
          ],
          rows: [
            redisRow(results, HANDWRITTEN_INDEX, ceiling.handwrittenEntryBytes),
            redisRow(results, AICACHE_INDEX, ceiling.aicacheEntryBytes),
            ...ceilingRows(ceiling),
          ],
        },
        notes: [
          `A single GET round trip from Node takes ${formatMs(ceiling.sequential.p50Ms)} ms (p50); an L2 hit through ${AICACHE} takes ${formatMs(aicacheRound.p50Ms)} ms ` +
            `and through ${HANDWRITTEN} ${formatMs(handwrittenRound.p50Ms)} ms at ${CONNECTIONS} connections, so Redis is a small part of a hit: the rest is the HTTP server, ` +
            'the framework and the cache’s own work, and queueing behind the other connections.',
          `Redis commands per request in the median round: ${HANDWRITTEN} ${describeCommandsPerResponse(handwrittenRound, handwrittenRound.responseCount)}; ` +
            `${AICACHE} ${describeCommandsPerResponse(aicacheRound, aicacheRound.responseCount)}.`,
          `redis-benchmark: ${ceiling.benchmark.line}`,
        ],
      },
    ],
    failures: throughputFailures(results),
    headlines: [{ label: `l2-hit: ${AICACHE} ÷ ${HANDWRITTEN}, req/s`, value: ratio, goal: GOAL }],
    rounds: { results, ceiling },
  }
}

async function runL2Hit(plan: RunPlan, mode: 'full' | 'quick'): Promise<ScenarioReport> {
  const stoppables: Array<{ stop(): Promise<void> }> = []
  let client: Redis | undefined
  try {
    const [fake, redis] = (await startTogether<FakeUpstreamProcess | BenchRedis>([startFakeUpstream('fake-upstream', 0), startRedis()], stoppables)) as [
      FakeUpstreamProcess,
      BenchRedis,
    ]
    client = redisClient(redis)
    const [handwritten, aicache] = (await startTogether(
      [
        startBenchServer('ioredis-express', fake.url, { [REDIS_URL_VARIABLE]: redis.url }),
        startBenchServer('aicache-express-options', fake.url, { [AICACHE_OPTIONS_VARIABLE]: JSON.stringify({ redis: redis.url, memoryTier: false }) }, AICACHE),
      ],
      stoppables,
    )) as [BenchServer, BenchServer]
    const body = chatRequestBody()
    await primeJsonHit(handwritten, HANDWRITTEN, body, true)
    await primeJsonHit(aicache, AICACHE, body, true)
    await assertL2Hit(aicache, body)
    const share = { server: redis, client }
    const targets = [
      fixedRequestTarget(HANDWRITTEN, handwritten, body, CONNECTIONS, { redis: share }),
      fixedRequestTarget(AICACHE, aicache, body, CONNECTIONS, { redis: share }),
    ]
    const results = await runInterleavedRounds(targets, plan)
    // The ceiling is measured after the rounds, so it never competes with them for the machine.
    const ceiling = await measureCeiling(client, redis, mode)
    return l2Report(results, ceiling, plan, body)
  } finally {
    client?.disconnect()
    await Promise.all(stoppables.map((stoppable) => stoppable.stop()))
  }
}

/** Throughput and latency of a Redis hit, against a hand-written Express + ioredis cache on the same Redis. */
export const l2HitScenario: Scenario = {
  name: 'l2-hit',
  fullPlan: { warmUpSeconds: 2, roundCount: 3, roundSeconds: 3 },
  run: runL2Hit,
}
