/**
 * Scenario: streaming. (a) Time to first byte of a stream miss through
 * aicache-express against calling the fake upstream directly, every request
 * unique, with a bare node:http proxy as the floor of any proxy; the same for
 * a Responses and an Anthropic Messages stream. (b) Replay of a recorded stream of about 500 events from memory
 * against a bare Express route sending the very same bytes.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { BARE_PROXY_METHOD, type BenchServer, startBenchServer } from '../bench-server.js'
import { withServerCpu } from '../cpu-time.js'
import { countFailures, describeFailures, formatFailures } from '../failures.js'
import { type FakeUpstreamProcess, startFakeUpstream } from '../fake-upstream.js'
import { formatMicroseconds, formatMs, formatRate, formatRatio, formatSignedMs } from '../format.js'
import type { RunPlan } from '../plan.js'
import { assertCompleteStream, sendStreamRequest } from '../probe.js'
import type { RunningProcess } from '../process.js'
import { resultsOf, runInterleavedRounds, type RoundResults, type Target } from '../rounds.js'
import { describeGoal, type Goal, type ReportSection, type Scenario, type ScenarioReport, verdict } from '../scenario.js'
import { median, percentile } from '../statistics.js'
import { runStreamLoad, type StreamLoadResult } from '../stream-load.js'
import { fixedRequestTarget } from '../targets.js'
import { cpuRatio, THROUGHPUT_METHOD_TAIL, throughputFailures, throughputRatio, throughputTable } from '../throughput-table.js'
import { REPLAY_BODY_FILE_VARIABLE, REPLAY_HEADERS_VARIABLE } from '../servers/environment.js'
import {
  type BenchRequest,
  benchRequest,
  CHAT_COMPLETIONS_PATH,
  chatRequestBody,
  MESSAGES_PATH,
  RESPONSES_PATH,
  uniqueChatRequestBodies,
  uniqueRequestBodies,
} from '../workload.js'

// (a) Time to first byte of a miss.
const UPSTREAM_LATENCY_MS = 20
const CHUNK_DELAY_MS = 5
// A short answer (about 18 events, ~100 ms a stream) gives many samples per round; the first byte does not depend on the length.
const TTFB_MAX_TOKENS = 16
// Low and fixed, so the first byte measures overhead rather than queueing.
const TTFB_CONNECTIONS = 8
// Lets the streams in flight when a run stopped end before the upstream's call count is read.
const SETTLE_MS = 200
const TTFB_GOAL: Goal = { value: 1.05, direction: 'at-most' }

// (b) Replay. The fake answers every choice of `n` in turn: 11 choices of the benchmark question make about 500 events (45 each).
const REPLAY_CHOICES = 11
const REPLAY_EVENTS_MIN = 450
const REPLAY_EVENTS_MAX = 550
const REPLAY_CONNECTIONS = 10
const REPLAY_GOAL: Goal = { value: 0.8, direction: 'at-least' }

const DIRECT_INDEX = 0
const AICACHE_INDEX = 1
const BARE_PROXY_INDEX = 2
// The same miss as a Responses and as a Messages stream, each against the fake called directly in that format.
const DIRECT_RESPONSES_INDEX = 3
const AICACHE_RESPONSES_INDEX = 4
const DIRECT_MESSAGES_INDEX = 5
const AICACHE_MESSAGES_INDEX = 6
/** The target each one's TTFB is compared with: its format's direct call. */
const BASELINE_OF: ReadonlyArray<number | undefined> = [
  undefined,
  DIRECT_INDEX,
  DIRECT_INDEX,
  undefined,
  DIRECT_RESPONSES_INDEX,
  undefined,
  DIRECT_MESSAGES_INDEX,
]

interface Stoppables {
  list: Array<{ stop(): Promise<void> }>
}

/** Upstream calls counted while aicache was measured, against the streams it answered. */
interface MissTally {
  upstreamCalls: number
  aicacheResponses: number
}

function ttfbTarget(
  name: string,
  origin: string,
  server: RunningProcess,
  fake: FakeUpstreamProcess,
  nextBody: () => string,
  onRun: (result: StreamLoadResult, upstreamCalls: number) => void,
  request: Pick<BenchRequest, 'path' | 'headers' | 'streamEnd'> = benchRequest('chat'),
): Target<StreamLoadResult> {
  return {
    name,
    measure: async (durationSeconds) => {
      server.assertRunning()
      fake.process.assertRunning()
      await fake.reset()
      const result = await withServerCpu(server.pid, () =>
        runStreamLoad({
          origin,
          path: request.path,
          headers: request.headers,
          streamEnd: request.streamEnd,
          body: nextBody,
          connections: TTFB_CONNECTIONS,
          durationSeconds,
        }),
      )
      await sleep(SETTLE_MS)
      onRun(result, await fake.callCount())
      return result
    },
  }
}

function pooledTtfbs(results: RoundResults<StreamLoadResult>, targetIndex: number): Float64Array {
  return Float64Array.from(resultsOf(results, targetIndex).flatMap((result) => result.ttfbsMs)).sort()
}

/** Median over rounds of the target's TTFB p50 over the baseline's, in the same round. */
function ttfbRatio(results: RoundResults<StreamLoadResult>, targetIndex = AICACHE_INDEX, baselineIndex = DIRECT_INDEX): number {
  return median(results.rounds.map((round) => round[targetIndex]!.ttfbP50Ms / round[baselineIndex]!.ttfbP50Ms))
}

function addedTtfbMs(results: RoundResults<StreamLoadResult>, targetIndex: number, baselineIndex = DIRECT_INDEX): number {
  return median(results.rounds.map((round) => round[targetIndex]!.ttfbP50Ms - round[baselineIndex]!.ttfbP50Ms))
}

function ttfbSection(results: RoundResults<StreamLoadResult>, plan: RunPlan, tally: MissTally): { section: ReportSection; failures: string[] } {
  const failures: string[] = []
  const ratio = ttfbRatio(results)
  const addedMs = addedTtfbMs(results, AICACHE_INDEX)
  const overProxy = ttfbRatio(results, AICACHE_INDEX, BARE_PROXY_INDEX)
  const rows = results.targetNames.map((name, targetIndex) => {
    const rounds = resultsOf(results, targetIndex)
    const pooled = pooledTtfbs(results, targetIndex)
    const failureCount = countFailures(rounds)
    const failure = describeFailures(name, failureCount)
    if (failure !== undefined) failures.push(failure)
    const cpuMicroseconds = median(rounds.map((result) => ((result.serverCpuSeconds ?? Number.NaN) / result.responseCount) * 1e6))
    const baselineIndex = BASELINE_OF[targetIndex]
    return [
      name,
      formatRate(median(rounds.map((result) => result.requestsPerSecond))),
      formatMs(percentile(pooled, 50)),
      formatMs(percentile(pooled, 99)),
      baselineIndex === undefined ? '—' : formatRatio(ttfbRatio(results, targetIndex, baselineIndex)),
      baselineIndex === undefined ? '—' : formatSignedMs(addedTtfbMs(results, targetIndex, baselineIndex)),
      formatMs(median(rounds.map((result) => result.totalP50Ms))),
      formatMicroseconds(cpuMicroseconds),
      formatFailures(failureCount),
    ]
  })
  if (tally.upstreamCalls < tally.aicacheResponses) {
    failures.push(`aicache-express gave ${tally.aicacheResponses} streams but the upstream saw only ${tally.upstreamCalls} calls: some were hits`)
  }
  return {
    failures,
    section: {
      title: 'Time to first byte of a stream miss',
      method:
        `Every request unique and streaming (stream: true, max_tokens ${TTFB_MAX_TOKENS}, about 18 events); the fake upstream answers after ` +
        `${UPSTREAM_LATENCY_MS} ms and sends an event every ${CHUNK_DELAY_MS} ms; ${TTFB_CONNECTIONS} streams in flight. ` +
        `warm-up ${plan.warmUpSeconds * 2} s, then ${plan.roundCount} interleaved rounds of ${plan.roundSeconds} s per target. ` +
        'TTFB is timed per request in the runner with node:http, from the request handed to the socket to the first body byte. ' +
        'TTFB p50 and p99 are over all measured streams; the ratio and added p50 are medians over rounds of each target against direct in the same round. ' +
        `${BARE_PROXY_METHOD}: the first byte through any proxy on this machine. ` +
        `The rows named responses and messages ask the same unique questions as POST ${RESPONSES_PATH} (typed events ending with response.completed; ` +
        'max_output_tokens 300, as a shorter answer would end incomplete) ' +
        `and POST ${MESSAGES_PATH} (named events ending with message_stop), each compared with the fake called directly in that format. ` +
        'Server CPU is of the process answering the client (the fake for direct, the proxy for the others), per stream.',
      table: {
        columns: [
          { title: 'target', align: 'left' },
          { title: 'streams/s', align: 'right' },
          { title: 'TTFB p50 ms', align: 'right' },
          { title: 'TTFB p99 ms', align: 'right' },
          { title: 'p50 vs its direct', align: 'right' },
          { title: 'added p50 ms', align: 'right' },
          { title: 'last byte p50 ms', align: 'right' },
          { title: 'server CPU µs / stream', align: 'right' },
          { title: 'errors / non-2xx', align: 'right' },
        ],
        rows,
      },
      notes: [
        `Upstream calls during aicache runs (warm-up included): ${tally.upstreamCalls} for ${tally.aicacheResponses} aicache streams (every one a miss).`,
        `Goal aicache TTFB p50 ${describeGoal(TTFB_GOAL)} direct: ${verdict(ratio, TTFB_GOAL)} (${formatRatio(ratio)}, ${formatSignedMs(addedMs)} ms).`,
        `Responses: aicache-express ÷ direct ${formatRatio(ttfbRatio(results, AICACHE_RESPONSES_INDEX, DIRECT_RESPONSES_INDEX))} ` +
          `(${formatSignedMs(addedTtfbMs(results, AICACHE_RESPONSES_INDEX, DIRECT_RESPONSES_INDEX))} ms); Messages: ` +
          `${formatRatio(ttfbRatio(results, AICACHE_MESSAGES_INDEX, DIRECT_MESSAGES_INDEX))} ` +
          `(${formatSignedMs(addedTtfbMs(results, AICACHE_MESSAGES_INDEX, DIRECT_MESSAGES_INDEX))} ms) (no goal set; medians of per-round ratios).`,
        `aicache-express ÷ bare-proxy (no goal set; median of per-round ratios): ${formatRatio(overProxy)}, ` +
          `${formatSignedMs(addedTtfbMs(results, AICACHE_INDEX, BARE_PROXY_INDEX))} ms; ` +
          `bare-proxy ÷ direct: ${formatRatio(ttfbRatio(results, BARE_PROXY_INDEX))}.`,
      ],
    },
  }
}

async function runTtfb(
  plan: RunPlan,
  stoppables: Stoppables,
): Promise<{ results: RoundResults<StreamLoadResult>; section: ReportSection; failures: string[] }> {
  const fake = await startFakeUpstream('stream-fake-upstream', UPSTREAM_LATENCY_MS, CHUNK_DELAY_MS)
  stoppables.list.push(fake.process)
  const server = await startBenchServer('aicache-express', fake.url)
  stoppables.list.push(server.process)
  const proxy = await startBenchServer('bare-proxy', fake.url)
  stoppables.list.push(proxy.process)
  const nextBody = uniqueChatRequestBodies({ stream: true, maxTokens: TTFB_MAX_TOKENS })
  assertCompleteStream('bare-proxy', await sendStreamRequest(proxy.origin, nextBody()))
  assertCompleteStream('direct', await sendStreamRequest(fake.origin, nextBody()))
  const probe = await sendStreamRequest(server.origin, nextBody())
  assertCompleteStream('aicache-express', probe)
  if (!probe.cacheStatus.includes('fwd=uri-miss')) {
    throw new Error(`aicache-express did not forward a new stream as a miss (cache-status: '${probe.cacheStatus}')`)
  }
  const tally: MissTally = { upstreamCalls: 0, aicacheResponses: 0 }
  const counted = (result: StreamLoadResult, upstreamCalls: number) => {
    tally.upstreamCalls += upstreamCalls
    tally.aicacheResponses += result.responseCount
  }
  const targets = [
    ttfbTarget('direct', fake.origin, fake.process, fake, nextBody, () => undefined),
    ttfbTarget('aicache-express', server.origin, server.process, fake, nextBody, counted),
    ttfbTarget('bare-proxy', proxy.origin, proxy.process, fake, nextBody, () => undefined),
  ]
  for (const format of ['responses', 'messages'] as const) {
    // A Responses answer cut at max_output_tokens ends with response.incomplete: that stream is asked for whole (about 60 events).
    const options = { stream: true, ...(format === 'responses' ? {} : { maxTokens: TTFB_MAX_TOKENS }) }
    const request = benchRequest(format, undefined, options)
    const nextOfFormat = uniqueRequestBodies(format, options)
    for (const [name, origin] of [
      ['direct', fake.origin],
      ['aicache-express', server.origin],
    ] as const) {
      const probe = await fetch(`${origin}${request.path}`, {
        method: 'POST',
        headers: request.headers,
        body: nextOfFormat(),
        signal: AbortSignal.timeout(10_000),
      })
      const text = await probe.text()
      if (probe.status !== 200 || !text.includes(request.streamEnd))
        throw new Error(`${name} answered ${probe.status} without a complete ${format} stream: ${text.slice(0, 300)}`)
    }
    targets.push(
      ttfbTarget(`direct ${format}`, fake.origin, fake.process, fake, nextOfFormat, () => undefined, request),
      ttfbTarget(`aicache-express ${format}`, server.origin, server.process, fake, nextOfFormat, counted, request),
    )
  }
  // Misses are heavier than hits and come by the tens per second: a longer warm-up lets the JIT settle.
  const results = await runInterleavedRounds(targets, { ...plan, warmUpSeconds: plan.warmUpSeconds * 2 })
  await Promise.all([fake.process.stop(), server.process.stop(), proxy.process.stop()])
  return { results, ...ttfbSection(results, plan, tally) }
}

/** Records the long stream in aicache, checks the hit replays it, and saves the hit's bytes and headers for the baseline. */
async function seedReplay(
  server: BenchServer,
  body: string,
  directory: string,
): Promise<{ environment: Record<string, string>; eventCount: number; byteCount: number }> {
  assertCompleteStream('aicache-express', await sendStreamRequest(server.origin, body))
  const hit = await sendStreamRequest(server.origin, body)
  assertCompleteStream('aicache-express', hit)
  if (!hit.cacheStatus.includes('hit')) throw new Error(`aicache-express did not replay the recorded stream (cache-status: '${hit.cacheStatus}')`)
  if (hit.eventCount < REPLAY_EVENTS_MIN || hit.eventCount > REPLAY_EVENTS_MAX) {
    throw new Error(`The recorded stream has ${hit.eventCount} events, not about 500: the fake upstream's answers changed`)
  }
  const bodyPath = join(directory, 'replay-body.txt')
  await writeFile(bodyPath, hit.bytes)
  // The headers a hit sends, but not its own per-hit ones (cache-status, age) nor those any server adds.
  const headers: Record<string, string> = {}
  for (const name of ['content-type', 'cache-control']) {
    const value = hit.headers.get(name)
    if (value !== null) headers[name] = value
  }
  return {
    environment: { [REPLAY_BODY_FILE_VARIABLE]: bodyPath, [REPLAY_HEADERS_VARIABLE]: JSON.stringify(headers) },
    eventCount: hit.eventCount,
    byteCount: hit.bytes.length,
  }
}

async function runReplay(plan: RunPlan, stoppables: Stoppables) {
  const directory = await mkdtemp(join(tmpdir(), 'aicache-bench-'))
  try {
    const fake = await startFakeUpstream('fake-upstream', 0)
    stoppables.list.push(fake.process)
    const aicache = await startBenchServer('aicache-express', fake.url)
    stoppables.list.push(aicache.process)
    const body = chatRequestBody(undefined, { stream: true, choices: REPLAY_CHOICES })
    const seed = await seedReplay(aicache, body, directory)
    const bare = await startBenchServer('bare-replay', fake.url, seed.environment)
    stoppables.list.push(bare.process)
    const bareAnswer = await sendStreamRequest(bare.origin, body)
    assertCompleteStream('bare-replay', bareAnswer)
    if (bareAnswer.eventCount !== seed.eventCount) throw new Error('bare-replay does not send the recorded stream')
    const targets = [
      fixedRequestTarget('bare-replay', bare, body, REPLAY_CONNECTIONS),
      fixedRequestTarget('aicache-express', aicache, body, REPLAY_CONNECTIONS),
    ]
    const results = await runInterleavedRounds(targets, plan)
    await Promise.all([fake.process.stop(), aicache.process.stop(), bare.process.stop()])
    const comparison = { targetIndex: 1, baselineIndex: 0 }
    const ratio = throughputRatio(results, comparison)
    const cpu = cpuRatio(results, comparison)
    const section: ReportSection = {
      title: 'Replay of a recorded stream from memory',
      method:
        `Same streaming POST ${CHAT_COMPLETIONS_PATH} every time (n: ${REPLAY_CHOICES}), answered from L1 with a recorded stream of ` +
        `${seed.eventCount} events (${seed.byteCount} B); bare-replay is Express parsing the same JSON and sending the bytes and headers ` +
        `of that hit, captured once at start-up. ${REPLAY_CONNECTIONS} connections; warm-up ${plan.warmUpSeconds} s, then ` +
        `${plan.roundCount} interleaved rounds of ${plan.roundSeconds} s per target. ${THROUGHPUT_METHOD_TAIL}`,
      table: throughputTable(results, [{ targetIndex: 0, baselineIndex: undefined }, comparison]),
      notes: [
        `Goal aicache-express ${describeGoal(REPLAY_GOAL)} bare-replay: ${verdict(ratio, REPLAY_GOAL)} on req/s (${formatRatio(ratio)}), ` +
          `${verdict(cpu, REPLAY_GOAL)} on req / server CPU-s (${formatRatio(cpu)}).`,
      ],
    }
    return { results, section, ratio, failures: throughputFailures(results) }
  } finally {
    await rm(directory, { recursive: true, force: true })
  }
}

async function runStream(plan: RunPlan): Promise<ScenarioReport> {
  const stoppables: Stoppables = { list: [] }
  try {
    process.stdout.write('  (a) time to first byte of a miss\n')
    const ttfb = await runTtfb(plan, stoppables)
    process.stdout.write('  (b) replay of a recorded stream\n')
    const replay = await runReplay(plan, stoppables)
    return {
      ...ttfb.section,
      moreSections: [replay.section],
      failures: [...ttfb.failures, ...replay.failures],
      headlines: [
        { label: 'stream: TTFB p50 of a miss, aicache ÷ direct', value: ttfbRatio(ttfb.results), goal: TTFB_GOAL },
        {
          label: 'stream: TTFB p50 of a Responses miss, aicache ÷ direct',
          value: ttfbRatio(ttfb.results, AICACHE_RESPONSES_INDEX, DIRECT_RESPONSES_INDEX),
        },
        { label: 'stream: TTFB p50 of a Messages miss, aicache ÷ direct', value: ttfbRatio(ttfb.results, AICACHE_MESSAGES_INDEX, DIRECT_MESSAGES_INDEX) },
        { label: 'stream: replay of 500 events, aicache ÷ bare-replay, req/s', value: replay.ratio, goal: REPLAY_GOAL },
      ],
      rounds: { ttfb: withoutSamples(ttfb.results), replay: replay.results },
    }
  } finally {
    await Promise.all(stoppables.list.map((stoppable) => stoppable.stop()))
  }
}

/** The rounds without every single sample, which would bloat the saved JSON. */
function withoutSamples(results: RoundResults<StreamLoadResult>): RoundResults<Omit<StreamLoadResult, 'ttfbsMs'>> {
  return { ...results, rounds: results.rounds.map((round) => round.map(({ ttfbsMs: _samples, ...rest }) => rest)) }
}

/** Streaming: the first byte of a miss, and the throughput of replaying a long recorded stream. */
export const streamScenario: Scenario = {
  name: 'stream',
  fullPlan: { warmUpSeconds: 2, roundCount: 5, roundSeconds: 2 },
  run: runStream,
}
