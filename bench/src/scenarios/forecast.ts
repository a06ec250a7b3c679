/**
 * Scenario: the load forecast on real traffic. The Azure LLM inference
 * trace (an hour of a conversation service's arrivals and token sizes) is
 * replayed through the standalone gateway against the fake upstream,
 * time-compressed, every request a new question (a miss) whose upstream
 * call lasts as long as its generated tokens would take. The gateway's own
 * forecast (the `capacity` option, 15 s intervals of trace time) is read
 * back from `GET /aicache/capacity`: its error 1 and 5 minutes ahead
 * against the naive forecast (the last interval's count), and how often
 * its recommended upstream concurrency was below the calls the next
 * interval actually had in flight. The smoothing is tuned on the trace's
 * first third and judged on the rest.
 */
import { Agent, request as httpRequest } from 'node:http'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { CapacityReport, HoltParameters } from '@aicache/core'
import { AZURE_TRACE_CREDIT, readAzureTrace, type TraceRequest, traceIntervals } from '../azure-trace.js'
import { startGateway } from '../bench-server.js'
import { startFakeUpstream } from '../fake-upstream.js'
import { holtForecastsAhead, meanAbsolutePercentageError, tuneHolt } from '../forecast-error.js'
import type { RunPlan } from '../plan.js'
import type { Scenario, ScenarioReport } from '../scenario.js'
import { CHAT_COMPLETIONS_PATH, REQUEST_HEADERS } from '../workload.js'
import { forecastReport } from './forecast-report.js'

const ADMIN_TOKEN = 'bench-admin'
/** One interval of trace time; the forecast steps by it. */
const TRACE_INTERVAL_MS = 15_000
const HORIZONS_MS = [60_000, 300_000] as const
/** The share of the hour the smoothing is tuned on; the rest is judged. */
const TUNING_SHARE = 1 / 3
/** An upstream call: 250 ms to the first token, then 25 ms per generated token (trace time). */
const FIRST_TOKEN_MS = 250
const PER_TOKEN_MS = 25
/**
 * Prompt tokens sent per context token of the trace: the fake upstream
 * tokenises every prompt, and full prompts would spend on it the CPU the
 * replay needs to keep its pace. The token series is then a tenth of the
 * trace's context tokens plus the fake's answers, shaped by the trace.
 */
const PROMPT_SHARE = 0.1

/**
 * How much faster than real time the trace is replayed, and which share of
 * its requests: quick mode sends every fourth (the same hour, a quarter of
 * the load), so that a two-core machine keeps the pace in about 35 s.
 */
const REPLAY: Record<'full' | 'quick', { compression: number; every: number }> = { full: { compression: 30, every: 1 }, quick: { compression: 100, every: 4 } }

/** What the replay measured, for the report. */
export interface ForecastResult {
  compression: number
  /** Every how many requests of the trace one was sent. */
  every: number
  intervalMs: number
  /** Intervals the gateway counted requests in (the trace has 236 of 15 s). */
  intervals: number
  requests: number
  /** Requests not answered with a 200, by status or error code. */
  failures: Record<string, number>
  tuned: { parameters: HoltParameters; trainingError: number }
  /** MAPE per horizon over the judged part: the gateway's forecast, the naive one, and the offline forecast over the trace's own counts. */
  horizons: Array<{
    minutes: number
    requests: { gateway: number; naive: number; offline: number; offlineNaive: number }
    tokens: { gateway: number; naive: number }
  }>
  /** Judged intervals, and those whose peak of calls in flight was above the concurrency recommended at the end of the one before. */
  concurrency: { intervals: number; under: number; meanRecommended: number; meanPeak: number }
}

function bodyOf(index: number, request: TraceRequest): string {
  const words = Math.max(1, Math.round(request.contextTokens * PROMPT_SHARE))
  return JSON.stringify({
    model: 'gpt-4o-mini',
    max_tokens: request.generatedTokens,
    messages: [{ role: 'user', content: `Conversation ${index}: ${'lorem '.repeat(words)}` }],
  })
}

function send(agent: Agent, origin: string, body: string, latencyMs: number): Promise<string> {
  return new Promise((resolve) => {
    const request = httpRequest(
      new URL(CHAT_COMPLETIONS_PATH, origin),
      {
        method: 'POST',
        agent,
        headers: { ...REQUEST_HEADERS, 'content-length': String(Buffer.byteLength(body)), 'x-fake-latency-ms': String(latencyMs) },
        timeout: 60_000,
      },
      (response) => {
        response.resume()
        response.once('end', () => resolve(String(response.statusCode)))
        response.once('error', (error) => resolve(String((error as NodeJS.ErrnoException).code ?? error.message)))
      },
    )
    request.once('timeout', () => request.destroy(new Error('no answer')))
    request.once('error', (error) => resolve(String((error as NodeJS.ErrnoException).code ?? error.message)))
    request.end(body)
  })
}

/** How the replay went: requests not answered with a 200, by status or error code. */
type Failures = Record<string, number>

/**
 * Replays the trace from `startMs` (wall clock), `compression` times faster.
 * `sent` resolves once the last request is sent, `answered` once every
 * answer is in.
 */
function replay(trace: readonly TraceRequest[], origin: string, startMs: number, compression: number): { sent: Promise<void>; answered: Promise<Failures> } {
  const agent = new Agent({ keepAlive: true, maxSockets: 512 })
  const pending: Array<Promise<string>> = []
  const sent = sendAll(trace, origin, startMs, compression, agent, pending)
  const answered = sent
    .then(() => Promise.all(pending))
    .then((outcomes) => {
      const failures: Failures = {}
      for (const outcome of outcomes) if (outcome !== '200') failures[outcome] = (failures[outcome] ?? 0) + 1
      return failures
    })
    .finally(() => agent.destroy())
  return { sent, answered }
}

async function sendAll(
  trace: readonly TraceRequest[],
  origin: string,
  startMs: number,
  compression: number,
  agent: Agent,
  pending: Array<Promise<string>>,
): Promise<void> {
  let next = 0
  {
    while (next < trace.length) {
      const nowMs = Date.now()
      // Everything due is sent at once; then a short sleep, so the loop does not spin.
      while (next < trace.length && startMs + trace[next]!.atMs / compression <= nowMs) {
        const request = trace[next]!
        const latencyMs = Math.max(1, Math.round((FIRST_TOKEN_MS + PER_TOKEN_MS * request.generatedTokens) / compression))
        pending.push(send(agent, origin, bodyOf(next, request), latencyMs))
        next++
      }
      if (next < trace.length) await new Promise((resolve) => setTimeout(resolve, Math.min(5, startMs + trace[next]!.atMs / compression - Date.now())))
    }
  }
}

async function readCapacity(origin: string): Promise<CapacityReport> {
  const response = await fetch(`${origin}/aicache/capacity`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } })
  if (!response.ok) throw new Error(`GET /aicache/capacity answered ${response.status}: ${await response.text()}`)
  return (await response.json()) as CapacityReport
}

/** Runs the replay and computes the errors. */
async function measure(mode: 'full' | 'quick'): Promise<ForecastResult> {
  const { compression, every } = REPLAY[mode]
  const trace = readAzureTrace().filter((_, index) => index % every === 0)
  const intervalMs = TRACE_INTERVAL_MS / compression
  const counts = traceIntervals(trace, TRACE_INTERVAL_MS)
  const judgedFrom = Math.floor(counts.requests.length * TUNING_SHARE)
  const steps = HORIZONS_MS.map((horizonMs) => horizonMs / TRACE_INTERVAL_MS)
  const tuned = tuneHolt(counts.requests, steps, judgedFrom)
  console.log(`  tuned on the first ${judgedFrom} intervals: ${JSON.stringify(tuned.parameters)}`)

  const directory = mkdtempSync(join(tmpdir(), 'aicache-forecast-'))
  const configPath = join(directory, 'gateway.json')
  const capacity = {
    intervalMs,
    horizonsMs: HORIZONS_MS.map((horizonMs) => horizonMs / compression),
    scaleAheadMs: HORIZONS_MS[0] / compression,
    // Room for the whole replay, also when a busy machine stretches it.
    historyIntervals: counts.requests.length * 4,
    smoothing: tuned.parameters,
  }
  writeFileSync(configPath, JSON.stringify({ capacity, concurrency: { maxConcurrent: 1_000, maxQueue: 10_000 } }))
  const fake = await startFakeUpstream('fake-upstream', 0)
  try {
    const gateway = await startGateway(fake.url, { AICACHE_CONFIG: configPath, AICACHE_ADMIN_TOKEN: ADMIN_TOKEN })
    try {
      // Start on an interval boundary of the gateway's clock (one whole interval after now), so trace intervals are the gateway's.
      const startMs = (Math.floor(Date.now() / intervalMs) + 2) * intervalMs + 1
      console.log(`  replaying ${trace.length} requests, ${compression}x faster (${(trace.at(-1)!.atMs / compression / 1000).toFixed(0)} s)`)
      const replayed = replay(trace, gateway.origin, startMs, compression)
      await replayed.sent
      // The last whole interval ends, then one more so the gateway has counted it; read before the answers are all in,
      // so that an answer late on a busy machine does not push the replay out of the history.
      await new Promise((resolve) => setTimeout(resolve, 2 * intervalMs + 50))
      const report = await readCapacity(gateway.origin)
      const failures = await replayed.answered
      gateway.process.assertRunning()
      return {
        compression,
        every,
        intervalMs,
        requests: trace.length,
        failures,
        tuned: { parameters: tuned.parameters, trainingError: tuned.error },
        ...judge(report, counts, steps),
      }
    } finally {
      await gateway.process.stop()
    }
  } finally {
    await fake.process.stop()
    rmSync(directory, { recursive: true, force: true })
  }
}

/**
 * The judged part's errors. The gateway's series is what it counted, from
 * its first interval with a request to its last: on a busy machine arrivals
 * reach it later and less evenly than sent, and its forecast and the naive
 * one are judged on what it saw. The offline columns use the trace's own
 * counts.
 */
function judge(
  report: CapacityReport,
  trace: { requests: number[]; tokens: number[] },
  steps: readonly number[],
): Pick<ForecastResult, 'intervals' | 'horizons' | 'concurrency'> {
  const seconds = report.intervalMs / 1000
  const busy = report.history.filter((interval) => interval.requests > 0)
  const first = Math.round(busy[0]!.startMs / report.intervalMs)
  const length = Math.round(busy.at(-1)!.startMs / report.intervalMs) - first + 1
  const judgedFrom = Math.floor(length * TUNING_SHARE)
  const traceJudgedFrom = Math.floor(trace.requests.length * TUNING_SHARE)
  const byIndex = new Map(report.history.map((interval) => [Math.round(interval.startMs / report.intervalMs) - first, interval]))
  const at = (index: number) => byIndex.get(index)
  const series = (read: (interval: CapacityReport['history'][number]) => number) => Array.from({ length }, (_, index) => (at(index) ? read(at(index)!) : 0))
  const requests = series((interval) => interval.requests)
  const tokens = series((interval) => interval.tokens)
  const forecastOf = (read: (interval: CapacityReport['history'][number]) => number[] | undefined, horizon: number) =>
    Array.from({ length }, (_, index) => {
      const value = at(index) && read(at(index)!)?.[horizon]
      return value === undefined ? undefined : value * seconds
    })
  const horizons = steps.map((stepCount, horizon) => {
    const offline = holtForecastsAhead(trace.requests, report.smoothing, stepCount)
    return {
      minutes: (stepCount * 15) / 60,
      requests: {
        gateway: meanAbsolutePercentageError(
          requests,
          forecastOf((interval) => interval.forecastRequestsPerSecond, horizon),
          stepCount,
          judgedFrom,
        ),
        naive: meanAbsolutePercentageError(requests, requests, stepCount, judgedFrom),
        offline: meanAbsolutePercentageError(trace.requests, offline, stepCount, traceJudgedFrom),
        offlineNaive: meanAbsolutePercentageError(trace.requests, trace.requests, stepCount, traceJudgedFrom),
      },
      tokens: {
        gateway: meanAbsolutePercentageError(
          tokens,
          forecastOf((interval) => interval.forecastTokensPerSecond, horizon),
          stepCount,
          judgedFrom,
        ),
        naive: meanAbsolutePercentageError(tokens, tokens, stepCount, judgedFrom),
      },
    }
  })
  let intervals = 0
  let under = 0
  let recommendedTotal = 0
  let peakTotal = 0
  for (let index = judgedFrom; index + 1 < length; index++) {
    const recommended = at(index)?.recommendedConcurrency
    const peak = at(index + 1)?.peakCallsInFlight
    if (recommended === undefined || peak === undefined) continue
    intervals++
    recommendedTotal += recommended
    peakTotal += peak
    if (peak > recommended) under++
  }
  return { intervals: length, horizons, concurrency: { intervals, under, meanRecommended: recommendedTotal / intervals, meanPeak: peakTotal / intervals } }
}

export const forecastScenario: Scenario = {
  name: 'forecast',
  // The replay's length is set by the trace and the compression, not by a plan.
  fullPlan: { warmUpSeconds: 0, roundCount: 1, roundSeconds: 60 },
  async run(_plan: RunPlan, mode): Promise<ScenarioReport> {
    const result = await measure(mode)
    return forecastReport(result, AZURE_TRACE_CREDIT)
  },
}
