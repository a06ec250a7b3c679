import { describe, expect, it } from 'vitest'
import type { AiCacheStats } from '@aicache/express'
import type { PlayedRequest } from '../workload/play.js'
import type { DemoApp } from './plan.js'
import { formatSummary, percentile } from './summary.js'

describe('percentile', () => {
  it('takes the nearest rank, whatever the order of the values', () => {
    expect(percentile([30, 10, 20, 40], 0.5)).toBe(20)
    expect(percentile([30, 10, 20, 40], 0.95)).toBe(40)
    expect(percentile([5], 0.5)).toBe(5)
    expect(percentile([], 0.5)).toBeNaN()
  })
})

describe('formatSummary', () => {
  const played: PlayedRequest[] = [
    { apiKey: 'sk-a', model: 'gpt-4o-mini', question: 'q', stream: false, result: 'miss', latencyMs: 300 },
    { apiKey: 'sk-a', model: 'gpt-4o-mini', question: 'q', stream: false, result: 'hit', tier: 'l1', latencyMs: 1 },
  ]
  const apps: DemoApp[] = [{ name: 'app', apiKey: 'sk-a', model: 'gpt-4o-mini', stream: false, share: 1 }]
  const stats = {
    requests: 2,
    hits: { l1: 1, l2: 0 },
    misses: 1,
    coalesced: 0,
    errors: 0,
    tokensSaved: { input: 10, output: 20 },
    costSavedUsd: 0.001,
    costSpentUsd: 0.001,
    memory: { entries: 1, bytes: 100 },
  } as unknown as AiCacheStats

  it('shows an L2 row only for an engine with a Redis tier', () => {
    expect(formatSummary({ played, stats, apps, elapsedMs: 1000 })).not.toContain('l2 (Redis)')
    const withRedis = { ...stats, redis: { connected: true, state: 'closed', errors: 0 } } as AiCacheStats
    expect(formatSummary({ played, stats: withRedis, apps, elapsedMs: 1000 })).toContain('hit ratio l2 (Redis)')
  })

  it('counts from Cache-Status for a gateway running elsewhere', () => {
    const summary = formatSummary({ played, apps, elapsedMs: 1000 })
    expect(summary).toMatch(/hit ratio l1 \(memory\)\s+50\.0% \(1\)/)
    expect(summary).not.toContain('l2 (Redis)')
    expect(summary).not.toContain('dollars')
  })
})
