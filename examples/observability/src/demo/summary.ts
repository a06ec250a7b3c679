import type { AiCacheStats } from '@aicache/express'
import type { PlayedRequest } from '../workload/play.js'
import type { DemoApp } from './plan.js'

/** What the demo measured. */
export interface DemoResults {
  played: readonly PlayedRequest[]
  /**
   * The engine's own counters after the run; without them (a gateway running
   * elsewhere) the summary counts what the clients saw in `Cache-Status`.
   */
  stats?: AiCacheStats
  apps: readonly DemoApp[]
  elapsedMs: number
}

/** The value below which `share` of the sorted values lie (nearest rank); NaN without values. */
export function percentile(values: readonly number[], share: number): number {
  if (values.length === 0) return Number.NaN
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(share * sorted.length) - 1))] as number
}

/** Right-aligns every column but the first. */
function table(rows: readonly (readonly string[])[]): string {
  const widths = rows[0]?.map((_, column) => Math.max(...rows.map((row) => (row[column] ?? '').length))) ?? []
  return rows
    .map((row) => row.map((cell, column) => (column === 0 ? cell.padEnd(widths[column] ?? 0) : cell.padStart(widths[column] ?? 0))).join('   '))
    .map((line) => `  ${line.trimEnd()}`)
    .join('\n')
}

const count = (value: number) => value.toLocaleString('en-US')
const percent = (part: number, whole: number) => (whole === 0 ? '-' : `${((100 * part) / whole).toFixed(1)}%`)
const dollars = (value: number) => `$${value.toFixed(6)}`
const milliseconds = (value: number) => (Number.isNaN(value) ? '-' : value < 10 ? `${value.toFixed(2)} ms` : `${value.toFixed(0)} ms`)

function latencyRow(label: string, played: readonly PlayedRequest[]): string[] {
  const latencies = played.map((request) => request.latencyMs)
  return [label, count(played.length), milliseconds(percentile(latencies, 0.5)), milliseconds(percentile(latencies, 0.95))]
}

/** Rows from the engine's counters; the L2 row only when the engine has a Redis tier. */
function engineCounts(stats: AiCacheStats, streamed: number, keys: number): string[][] {
  return [
    ['', 'value'],
    ['requests', `${count(stats.requests)} (${count(streamed)} streamed, ${keys} API keys)`],
    ['hit ratio l1 (memory)', `${percent(stats.hits.l1, stats.requests)} (${count(stats.hits.l1)})`],
    ...(stats.redis === undefined ? [] : [['hit ratio l2 (Redis)', `${percent(stats.hits.l2, stats.requests)} (${count(stats.hits.l2)})`]]),
    ['misses', count(stats.misses)],
    ['coalesced', count(stats.coalesced)],
    ['errors', count(stats.errors)],
    ['tokens saved input', count(stats.tokensSaved.input)],
    ['tokens saved output', count(stats.tokensSaved.output)],
    ['dollars saved', dollars(stats.costSavedUsd)],
    ['dollars spent', dollars(stats.costSpentUsd)],
  ]
}

/** Rows from the clients' `Cache-Status` headers, for a gateway whose counters are not at hand (they are in Grafana). */
function clientCounts(played: readonly PlayedRequest[], streamed: number, keys: number): string[][] {
  const of = (result: string, tier?: string) => played.filter((request) => request.result === result && (tier === undefined || request.tier === tier)).length
  const l2 = of('hit', 'l2')
  return [
    ['', 'value'],
    ['requests', `${count(played.length)} (${count(streamed)} streamed, ${keys} API keys)`],
    ['hit ratio l1 (memory)', `${percent(of('hit', 'l1'), played.length)} (${count(of('hit', 'l1'))})`],
    ...(l2 === 0 ? [] : [['hit ratio l2 (Redis)', `${percent(l2, played.length)} (${count(l2)})`]]),
    ['misses', count(of('miss'))],
    ['coalesced', count(of('coalesced'))],
    ['errors', count(of('error'))],
  ]
}

/**
 * The demo's report: the engine's counters (requests, hits by tier, tokens
 * and dollars) and the latency each client saw, split by `Cache-Status`.
 */
export function formatSummary(results: DemoResults): string {
  const { played, stats, apps } = results
  const hitsOf = (tier: string) => played.filter((request) => request.result === 'hit' && request.tier === tier)
  const streamed = played.filter((request) => request.stream).length
  const overview = table(stats === undefined ? clientCounts(played, streamed, apps.length) : engineCounts(stats, streamed, apps.length))
  const latency = table([
    ['latency (client-side)', 'requests', 'p50', 'p95'],
    latencyRow('hit l1', hitsOf('l1')),
    latencyRow(
      'miss',
      played.filter((request) => request.result === 'miss'),
    ),
    latencyRow(
      'coalesced',
      played.filter((request) => request.result === 'coalesced'),
    ),
  ])
  const byApp = table([
    ['app (API key)', 'model', 'stream', 'requests', 'hit ratio'],
    ...apps.map((app) => {
      const own = played.filter((request) => request.apiKey === app.apiKey)
      const hits = own.filter((request) => request.result === 'hit').length
      return [app.name, app.model, app.stream ? 'yes' : 'no', count(own.length), percent(hits, own.length)]
    }),
  ])
  const seconds = (results.elapsedMs / 1000).toFixed(1)
  return [`aicache demo: ${count(played.length)} requests in ${seconds} s`, '', overview, '', latency, '', byApp].join('\n')
}
