import { telemetryMetrics, telemetryRedisMetrics } from '@aicache/core'
import { describe, expect, it } from 'vitest'
import { readDashboardQueries } from './dashboard-queries.js'

// The Prometheus exporter writes `aicache.request.duration` as `aicache_request_duration`
// (plus `_total` for counters, `_bucket`/`_count`/`_sum` for histograms).
const exported = new Set([...Object.values(telemetryMetrics), ...Object.values(telemetryRedisMetrics)].map((name) => name.replaceAll('.', '_')))

describe('the dashboard', () => {
  it('queries only metrics aicache records, so a renamed metric fails here even without Prometheus', () => {
    const referenced = readDashboardQueries().flatMap(({ expression }) => {
      // Label names look like metric names: drop label matchers and `by (...)` first.
      const metricsOnly = expression.replace(/\{[^}]*\}/g, '').replace(/\bby\s*\([^)]*\)/g, '')
      return metricsOnly.match(/\b(?:aicache|gen_ai)_[a-z_]+\b/g) ?? []
    })
    const unknown = referenced.map((name) => name.replace(/_(total|bucket|count|sum)$/, '')).filter((name) => !exported.has(name))
    expect(referenced.length).toBeGreaterThan(10)
    expect(unknown).toEqual([])
  })

  it('gives every query a panel title and a ref id', () => {
    for (const query of readDashboardQueries()) {
      expect(query.panel).not.toBe('(untitled)')
      expect(query.refId).toMatch(/^[A-Z]$/)
    }
  })
})
