/**
 * Scenario: what telemetry costs on a hit. aicache-express with a full
 * OpenTelemetry SDK registered (spans and metrics recorded, exporters that
 * drop them) against the same server without any SDK, where telemetry is a
 * no-op.
 */
import { startBenchServer, type BenchServer } from '../bench-server.js'
import { startFakeUpstream } from '../fake-upstream.js'
import { formatRatio } from '../format.js'
import type { RunPlan } from '../plan.js'
import { runInterleavedRounds } from '../rounds.js'
import { describeGoal, type Goal, type Scenario, type ScenarioReport, verdict } from '../scenario.js'
import { fixedRequestTarget, primeJsonHit } from '../targets.js'
import { cpuRatio, THROUGHPUT_METHOD_TAIL, throughputFailures, throughputRatio, throughputTable } from '../throughput-table.js'
import { CHAT_COMPLETIONS_PATH, chatRequestBody } from '../workload.js'

const CONNECTIONS = 10
const SDK_ONLY = 'otel-sdk-only'
const GOAL: Goal = { value: 0.85, direction: 'at-least' }
// The NodeSDK would otherwise set up an OTLP log exporter nobody uses.
const SDK_ENVIRONMENT = { OTEL_LOGS_EXPORTER: 'none', OTEL_TRACES_EXPORTER: 'none', OTEL_METRICS_EXPORTER: 'none' }

interface ExportedTelemetry {
  spans: number
  metricExports: number
  metricNames: string[]
}

/** Checks that the SDK really recorded aicache's spans and metrics, or the comparison would be meaningless. */
async function assertTelemetryRecorded(server: BenchServer): Promise<ExportedTelemetry> {
  const response = await fetch(`${server.origin}/__bench/otel`, { signal: AbortSignal.timeout(10_000) })
  const exported = (await response.json()) as ExportedTelemetry
  const hasAicacheMetrics = exported.metricNames.some((name) => name.startsWith('aicache.'))
  if (exported.spans === 0 || !hasAicacheMetrics) {
    throw new Error(`The OpenTelemetry SDK recorded nothing from aicache: ${JSON.stringify(exported)}`)
  }
  return exported
}

/** Checks that the SDK-only server's aicache recorded nothing, so it measures the SDK alone. */
async function assertNothingRecorded(server: BenchServer): Promise<void> {
  const response = await fetch(`${server.origin}/__bench/otel`, { signal: AbortSignal.timeout(10_000) })
  const exported = (await response.json()) as ExportedTelemetry
  if (exported.spans > 0 || exported.metricNames.some((name) => name.startsWith('aicache.'))) {
    throw new Error(`aicache recorded telemetry in the SDK-only server: ${JSON.stringify(exported)}`)
  }
}

async function runTelemetryCost(plan: RunPlan): Promise<ScenarioReport> {
  const stoppables: Array<{ stop(): Promise<void> }> = []
  try {
    const fake = await startFakeUpstream('fake-upstream', 0)
    stoppables.push(fake.process)
    const [plain, instrumented, sdkOnly] = await Promise.all([
      startBenchServer('aicache-express', fake.url),
      startBenchServer('aicache-express-otel', fake.url, SDK_ENVIRONMENT),
      startBenchServer('aicache-express-otel', fake.url, { ...SDK_ENVIRONMENT, AICACHE_BENCH_OTEL: 'sdk-only' }, SDK_ONLY),
    ])
    stoppables.push(plain.process, instrumented.process, sdkOnly.process)
    const body = chatRequestBody()
    await primeJsonHit(plain, 'aicache-express', body, true)
    await primeJsonHit(instrumented, 'aicache-express-otel', body, true)
    await primeJsonHit(sdkOnly, SDK_ONLY, body, true)
    await assertTelemetryRecorded(instrumented)
    const targets = [
      fixedRequestTarget('aicache-express', plain, body, CONNECTIONS),
      fixedRequestTarget('aicache-express-otel', instrumented, body, CONNECTIONS),
      fixedRequestTarget(SDK_ONLY, sdkOnly, body, CONNECTIONS),
    ]
    const results = await runInterleavedRounds(targets, plan)
    const after = await assertTelemetryRecorded(instrumented)
    await assertNothingRecorded(sdkOnly)
    const comparison = { targetIndex: 1, baselineIndex: 0 }
    const sdkComparison = { targetIndex: 2, baselineIndex: 0 }
    const ownComparison = { targetIndex: 1, baselineIndex: 2 }
    const ratio = throughputRatio(results, comparison)
    const cpu = cpuRatio(results, comparison)
    return {
      title: 'Telemetry cost on a hit',
      method:
        `Same POST ${CHAT_COMPLETIONS_PATH} (${Buffer.byteLength(body)} B JSON), an L1 hit, ${CONNECTIONS} connections; ` +
        'aicache-express-otel registers the NodeSDK (@opentelemetry/sdk-node 0.223) before creating the middleware: ' +
        'a BatchSpanProcessor and a PeriodicExportingMetricReader (every 5 s), both with exporters that drop what they get; ' +
        'aicache-express has no SDK, so its telemetry is a no-op. ' +
        `${SDK_ONLY} registers the same SDK but gives aicache no-op providers (checked: nothing of aicache's is exported): ` +
        "the SDK's own cost on every request, its async context tracking above all, without aicache recording anything. " +
        `warm-up ${plan.warmUpSeconds} s, then ${plan.roundCount} interleaved rounds of ${plan.roundSeconds} s per target. ${THROUGHPUT_METHOD_TAIL}`,
      table: throughputTable(results, [{ targetIndex: 0, baselineIndex: undefined }, comparison, sdkComparison]),
      notes: [
        `Recorded by the SDK over the run: ${after.spans} spans, ${after.metricExports} metric exports (${after.metricNames.length} metrics).`,
        `Goal aicache-express-otel ${describeGoal(GOAL)} aicache-express: ${verdict(ratio, GOAL)} on req/s (${formatRatio(ratio)}), ` +
          `${verdict(cpu, GOAL)} on req / server CPU-s (${formatRatio(cpu)}).`,
        `Split (medians of per-round ratios): the SDK alone ${formatRatio(throughputRatio(results, sdkComparison))} of aicache-express on req/s ` +
          `(${formatRatio(cpuRatio(results, sdkComparison))} on req / server CPU-s); aicache's recording on top of it ` +
          `${formatRatio(throughputRatio(results, ownComparison))} of ${SDK_ONLY} (${formatRatio(cpuRatio(results, ownComparison))}).`,
      ],
      failures: throughputFailures(results),
      headlines: [{ label: 'telemetry-cost: with OTel SDK ÷ without, req/s', value: ratio, goal: GOAL }],
      rounds: results,
    }
  } finally {
    await Promise.all(stoppables.map((stoppable) => stoppable.stop()))
  }
}

/** Throughput of a hit with a full OpenTelemetry SDK registered, against none. */
export const telemetryCostScenario: Scenario = {
  name: 'telemetry-cost',
  fullPlan: { warmUpSeconds: 2, roundCount: 6, roundSeconds: 2 },
  run: runTelemetryCost,
}
