/**
 * Scenario: memory. Bytes of the process per cached entry for 1 KB and
 * 20 KB answers, and whether `maxBytes` bounds the memory tier. Each
 * measurement is a fresh process (`node --expose-gc dist/probes/memory-probe.js`)
 * that stores answers through aicache's client mode and measures itself after
 * forced garbage collections; no load generator is involved.
 */
import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { formatRatio } from '../format.js'
import type { RunPlan } from '../plan.js'
import type { Checkpoint, MaxBytesRequest, MaxBytesResult, MemorySnapshot, PerEntryRequest, PerEntryResult, ProbeRequest } from '../probes/memory-probe.js'
import type { Headline, ReportSection, Scenario, ScenarioReport } from '../scenario.js'
import { median } from '../statistics.js'

const run = promisify(execFile)
const PROBE_PATH = fileURLToPath(new URL('../probes/memory-probe.js', import.meta.url))
// Bounded like every other step: a probe that hangs fails the run.
const PROBE_TIMEOUT_MS = 120_000
const KIB = 1024
const MIB = 1024 * 1024

const MAX_BYTES = 10 * MIB
const CHECKPOINT_BYTES = 10 * MIB

/** Entries per probe, repetitions (the median is shown) and bytes stored against maxBytes, by mode. */
const SIZES = {
  full: { repetitions: 3, small: 5_000, large: 1_000, storeBytes: 50 * MIB },
  quick: { repetitions: 1, small: 1_000, large: 250, storeBytes: 30 * MIB },
} as const

async function probe<Result>(request: ProbeRequest): Promise<Result> {
  const { stdout } = await run(process.execPath, ['--expose-gc', PROBE_PATH, JSON.stringify(request)], {
    timeout: PROBE_TIMEOUT_MS,
    maxBuffer: 16 * MIB,
  })
  const line = stdout.split('\n').find((text) => text.startsWith('result '))
  if (line === undefined) throw new Error(`The memory probe printed no result: ${stdout.slice(0, 300)}`)
  return JSON.parse(line.slice('result '.length)) as Result
}

/** Per entry, in bytes. */
interface PerEntryCost {
  rss: number
  heapUsed: number
  external: number
  /** heapUsed + external: what the entries hold in JavaScript and Buffer memory. */
  retained: number
  accounted: number
}

/**
 * Least-squares slope of a measure against the number of entries, over the
 * checkpoints after the first fifth: the first batch also pays one-off costs
 * (heap growth, allocator arenas, memory freed by the warm-up and reused),
 * which a before/after difference would spread over the entries.
 */
function slope(result: PerEntryResult, measure: (memory: MemorySnapshot) => number): number {
  const points = result.checkpoints.slice(1)
  const meanX = points.reduce((sum, point) => sum + point.entries, 0) / points.length
  const meanY = points.reduce((sum, point) => sum + measure(point.memory), 0) / points.length
  let covariance = 0
  let variance = 0
  for (const point of points) {
    covariance += (point.entries - meanX) * (measure(point.memory) - meanY)
    variance += (point.entries - meanX) ** 2
  }
  return covariance / variance
}

function costOf(result: PerEntryResult): PerEntryCost {
  const heapUsed = slope(result, (memory) => memory.heapUsed)
  const external = slope(result, (memory) => memory.external)
  return {
    rss: slope(result, (memory) => memory.rss),
    heapUsed,
    external,
    retained: heapUsed + external,
    accounted: result.accountedBytes / result.entriesHeld,
  }
}

function formatBytes(bytes: number): string {
  return Number.isFinite(bytes) ? Math.round(bytes).toLocaleString('en-US') : 'n/a'
}

function formatMib(bytes: number): string {
  return (bytes / MIB).toFixed(1)
}

async function perEntryRuns(bodyBytes: number, entries: number, repetitions: number): Promise<PerEntryResult[]> {
  const results: PerEntryResult[] = []
  for (let repetition = 0; repetition < repetitions; repetition++) {
    process.stdout.write(`  ${entries} entries of ${bodyBytes / KIB} KB, run ${repetition + 1}/${repetitions}\n`)
    const request: PerEntryRequest = { kind: 'per-entry', bodyBytes, entries }
    const result = await probe<PerEntryResult>(request)
    if (result.entriesHeld !== entries) throw new Error(`The memory tier held ${result.entriesHeld} of ${entries} entries`)
    results.push(result)
  }
  return results
}

/** The median of each measure over the runs. */
function medianCost(results: readonly PerEntryResult[]): PerEntryCost {
  const costs = results.map(costOf)
  const of = (key: keyof PerEntryCost) => median(costs.map((cost) => cost[key]))
  return { rss: of('rss'), heapUsed: of('heapUsed'), external: of('external'), retained: of('retained'), accounted: of('accounted') }
}

function perEntrySection(rows: Array<{ bodyBytes: number; entries: number; cost: PerEntryCost }>, repetitions: number): ReportSection {
  return {
    title: 'Memory per cached entry',
    method:
      'One fresh process per run (node --expose-gc): aicache in client mode (createAiCache({ fetch }) with a stub fetch answering a ' +
      'chat completion of the given size), warmed up with 300 throw-away entries, then N new questions asked and their answers read. ' +
      'Memory is taken after forced garbage collections at every fifth of N; bytes per entry is the slope (least squares) of memory ' +
      'against entries from the first fifth on, which leaves out one-off costs of the first entries. ' +
      `Median of ${repetitions} run(s). heap is V8's heap; external is Buffers and other memory outside it; retained = heap + external. ` +
      'RSS is what the operating system sees, allocator slack included (freed memory malloc keeps), so it is noisier. ' +
      'aicache counts is what the memory tier charges an entry against maxBytes (stats().memory.bytes ÷ entries).',
    table: {
      columns: [
        { title: 'answer size', align: 'left' },
        { title: 'entries', align: 'right' },
        { title: 'heap B / entry', align: 'right' },
        { title: 'external B / entry', align: 'right' },
        { title: 'retained B / entry', align: 'right' },
        { title: 'RSS B / entry', align: 'right' },
        { title: 'aicache counts B / entry', align: 'right' },
        { title: 'retained ÷ answer size', align: 'right' },
        { title: 'RSS ÷ answer size', align: 'right' },
        { title: 'retained ÷ aicache count', align: 'right' },
      ],
      rows: rows.map(({ bodyBytes, entries, cost }) => [
        `${bodyBytes / KIB} KB`,
        String(entries),
        formatBytes(cost.heapUsed),
        formatBytes(cost.external),
        formatBytes(cost.retained),
        formatBytes(cost.rss),
        formatBytes(cost.accounted),
        formatRatio(cost.retained / bodyBytes),
        formatRatio(cost.rss / bodyBytes),
        formatRatio(cost.retained / cost.accounted),
      ]),
    },
    notes: [
      'No goal is set for bytes per entry. A ratio of retained bytes to aicache’s count well above 1 means maxBytes understates ' +
        'the memory the cache really holds.',
    ],
  }
}

function maxBytesSection(result: MaxBytesResult, storeBytes: number): { section: ReportSection; headline: Headline; failures: string[] } {
  const last = result.checkpoints.at(-1)!
  const peakAccounted = Math.max(...result.checkpoints.map((checkpoint) => checkpoint.accountedBytes))
  const firstFull = result.checkpoints.find((checkpoint) => checkpoint.storedBytes >= 2 * result.maxBytes) ?? result.checkpoints[0]!
  const growthAfterFull = last.memory.rss - firstFull.memory.rss
  const row = (checkpoint: Checkpoint) => [
    formatMib(checkpoint.storedBytes),
    String(checkpoint.entriesHeld),
    formatMib(checkpoint.accountedBytes),
    checkpoint.accountedBytes <= result.maxBytes ? 'yes' : 'NO',
    formatMib(checkpoint.memory.rss - result.start.rss),
    formatMib(checkpoint.memory.heapUsed - result.start.heapUsed),
    formatMib(checkpoint.memory.external - result.start.external),
  ]
  const held = peakAccounted <= result.maxBytes
  return {
    failures: held ? [] : [`the memory tier held ${formatMib(peakAccounted)} MiB with maxBytes ${formatMib(result.maxBytes)} MiB`],
    headline: {
      label: `memory: stats().memory.bytes ÷ maxBytes, ${Math.round(last.storedBytes / result.maxBytes)}× maxBytes stored`,
      value: last.accountedBytes / result.maxBytes,
      goal: { value: 1, direction: 'at-most' },
    },
    section: {
      title: 'maxBytes holds',
      method:
        `One process as above with maxBytes = ${formatMib(result.maxBytes)} MiB, storing ${formatMib(storeBytes)} MiB of ` +
        `${result.bodyBytes / KIB} KB answers; at every ${formatMib(CHECKPOINT_BYTES)} MiB, after forced garbage collections, ` +
        'stats().memory and the growth of the process since the start (MiB).',
      table: {
        columns: [
          { title: 'stored MiB', align: 'right' },
          { title: 'entries held', align: 'right' },
          { title: 'stats bytes MiB', align: 'right' },
          { title: '≤ maxBytes', align: 'right' },
          { title: 'RSS growth MiB', align: 'right' },
          { title: 'heap growth MiB', align: 'right' },
          { title: 'external growth MiB', align: 'right' },
        ],
        rows: result.checkpoints.map(row),
      },
      notes: [
        `Goal stats().memory.bytes ≤ maxBytes at every checkpoint: ${held ? 'met' : 'not met'} (peak ${formatMib(peakAccounted)} MiB).`,
        `RSS growth from ${formatMib(firstFull.storedBytes)} MiB stored (cache full) to ${formatMib(last.storedBytes)} MiB stored: ` +
          `${formatMib(growthAfterFull)} MiB (bounded if close to 0; total growth ${formatMib(last.memory.rss - result.start.rss)} MiB ` +
          `= ${formatRatio((last.memory.rss - result.start.rss) / result.maxBytes)} maxBytes).`,
      ],
    },
  }
}

async function runMemory(_plan: RunPlan, mode: 'full' | 'quick'): Promise<ScenarioReport> {
  const sizes = SIZES[mode]
  const small = await perEntryRuns(KIB, sizes.small, sizes.repetitions)
  const large = await perEntryRuns(20 * KIB, sizes.large, sizes.repetitions)
  process.stdout.write(`  maxBytes ${formatMib(MAX_BYTES)} MiB, storing ${formatMib(sizes.storeBytes)} MiB\n`)
  const bounded = await probe<MaxBytesResult>({
    kind: 'max-bytes',
    bodyBytes: 20 * KIB,
    maxBytes: MAX_BYTES,
    storeBytes: sizes.storeBytes,
    checkpointBytes: CHECKPOINT_BYTES,
  } satisfies MaxBytesRequest)
  const rows = [
    { bodyBytes: KIB, entries: sizes.small, cost: medianCost(small) },
    { bodyBytes: 20 * KIB, entries: sizes.large, cost: medianCost(large) },
  ]
  const perEntry = perEntrySection(rows, sizes.repetitions)
  const limit = maxBytesSection(bounded, sizes.storeBytes)
  return {
    ...perEntry,
    moreSections: [limit.section],
    failures: limit.failures,
    headlines: [
      ...rows.map((row) => ({ label: `memory: retained per ${row.bodyBytes / KIB} KB entry ÷ answer size`, value: row.cost.retained / row.bodyBytes })),
      limit.headline,
    ],
    rounds: { perEntry: { small, large }, maxBytes: bounded },
  }
}

/** Memory per entry and the maxBytes bound. */
export const memoryScenario: Scenario = {
  name: 'memory',
  // Not a load test: the plan is unused; the mode picks entry counts and repetitions.
  fullPlan: { warmUpSeconds: 0, roundCount: 3, roundSeconds: 0 },
  run: runMemory,
}
