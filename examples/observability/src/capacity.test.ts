import { readFileSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { fileURLToPath } from 'node:url'
import { telemetryMetrics } from '@aicache/core'
import { type RedisServer, startRedisServer } from '@aicache/testkit/redis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type ObservabilityApp, startObservabilityApp } from './app.js'
import { readDashboardQueries } from './dashboard-queries.js'
import { type PrometheusServer, skipWithoutPrometheus, startPrometheus } from '../test/support/prometheus-server.js'
import { playWorkload } from './workload/play.js'

const capacityDashboardPath = fileURLToPath(new URL('../grafana/dashboards/capacity.json', import.meta.url))
const kubernetesPath = (name: string) => fileURLToPath(new URL(`../kubernetes/${name}`, import.meta.url))

/** The PromQL of an autoscaler manifest: every single-quoted `query:` or `metricsQuery:` value. */
function manifestQueries(name: string): string[] {
  const text = readFileSync(kubernetesPath(name), 'utf8')
  return [...text.matchAll(/^\s*(?:query|metricsQuery):\s*'((?:[^']|'')*)'\s*$/gm)].map((match) => match[1]!.replaceAll("''", "'"))
}

/** The adapter's template as it sends it: label matchers of the HPA's namespace (absent here, so any value matches). */
const adapterExpanded = (query: string) => query.replaceAll('<<.LabelMatchers>>', 'namespace=~".*"')

// The Prometheus exporter writes `aicache.capacity.recommended.instances` as `aicache_capacity_recommended_instances`.
const exported = new Set(Object.values(telemetryMetrics).map((name) => name.replaceAll('.', '_')))
// Counted by the freshness layer (docs/freshness.md); its panel shows 0 until then.
const staleServed = 'aicache_stale_served'
const metricsOf = (expression: string) =>
  (
    expression
      .replace(/\{[^}]*\}/g, '')
      .replace(/\bby\s*\([^)]*\)/g, '')
      .match(/\b(?:aicache|gen_ai)_[a-z_]+\b/g) ?? []
  ).map((name) => name.replace(/_(total|bucket|count|sum)$/, ''))

describe('the capacity dashboard and the autoscaler examples', () => {
  it('query only metrics aicache records, so a renamed metric fails here even without Prometheus', () => {
    const expressions = [
      ...readDashboardQueries(capacityDashboardPath).map((query) => query.expression),
      ...manifestQueries('prometheus-adapter-rules.yaml'),
      ...manifestQueries('keda-scaledobject.yaml'),
    ]
    expect(manifestQueries('prometheus-adapter-rules.yaml')).toHaveLength(2)
    expect(manifestQueries('keda-scaledobject.yaml')).toHaveLength(2)
    const unknown = expressions.flatMap(metricsOf).filter((name) => !exported.has(name) && name !== staleServed)
    expect(unknown).toEqual([])
    // The HPA names the adapter's external metrics.
    const hpa = readFileSync(kubernetesPath('hpa.yaml'), 'utf8')
    const adapterNames = [...readFileSync(kubernetesPath('prometheus-adapter-rules.yaml'), 'utf8').matchAll(/^\s*as:\s*(\S+)\s*$/gm)].map((match) => match[1])
    expect(adapterNames).toEqual(['aicache_forecast_requests_per_second', 'aicache_recommended_instances'])
    for (const name of adapterNames) expect(hpa).toContain(`name: ${name}`)
  })
})

describe.skipIf(skipWithoutPrometheus())('the load forecast in a real Prometheus', () => {
  let app: ObservabilityApp
  let prometheus: PrometheusServer
  let redis: RedisServer
  // Takes the spans the SDK sends, so that none fails to export.
  let otlp: Server

  beforeAll(async () => {
    otlp = createServer((request, response) => void request.resume().on('end', () => response.writeHead(200).end('{}')))
    await new Promise<void>((resolve) => otlp.listen(0, '127.0.0.1', resolve))
    redis = await startRedisServer()
    app = await startObservabilityApp({
      port: 0,
      metricsPort: 0,
      metricsHost: '127.0.0.1',
      otlpEndpoint: `http://127.0.0.1:${(otlp.address() as AddressInfo).port}`,
      spanBatchDelayMs: 100,
      demoLatencyMs: 40,
      cache: {
        redis: redis.url,
        capacity: { intervalMs: 300, settleMs: 50, minInstances: 2, maxInstances: 8 },
        concurrency: { maxConcurrent: 2 },
        upstreamBudget: { tokensPerMinute: 1_000_000 },
      },
    })
    await app.engine.ready()
    prometheus = await startPrometheus(app.metricsUrl, 1)
  }, 120_000)
  afterAll(async () => {
    await prometheus?.stop()
    await app?.close()
    await redis?.stop()
    await new Promise((resolve) => otlp?.close(resolve))
  })

  it('exports the forecast, and every capacity panel and autoscaler query returns a number', async () => {
    await prometheus.waitForScrapes(1)
    const questions = Array.from({ length: 40 }, (_, index) => ({ apiKey: 'sk-capacity', model: 'gpt-4o-mini', question: `Capacity ${index}?`, stream: false }))
    // Six at a time against a cap of two: calls wait in the queue.
    const played = await playWorkload(app.openAiBaseUrl, questions, { concurrency: 6 })
    expect(played.every((request) => request.result === 'miss')).toBe(true)
    const report = app.engine.capacity()
    expect(report?.scope).toBe('fleet')
    expect(report?.forecast.map((entry) => entry.horizonSeconds)).toEqual([60, 300])
    // Traffic goes on while Prometheus scrapes and is queried: without it the forecast falls to 0 within a few intervals.
    let more = true
    const background = (async () => {
      for (let index = 0; more; index++) {
        await playWorkload(app.openAiBaseUrl, [{ apiKey: 'sk-capacity', model: 'gpt-4o-mini', question: `More ${index}?`, stream: false }])
      }
    })()
    await prometheus.waitForScrapes(2)

    const failures: string[] = []
    const check = async (label: string, expression: string) => {
      // A scrape that times out on a busy machine marks every series stale until the next one: ask again a few times.
      let samples = await prometheus.query(expression)
      for (let attempt = 0; samples.length === 0 && attempt < 10; attempt++) {
        await new Promise((resolve) => setTimeout(resolve, 500))
        samples = await prometheus.query(expression)
      }
      if (samples.length === 0) failures.push(`${label}: no series for ${expression}`)
      else if (!samples.every((sample) => Number.isFinite(Number(sample.value[1])))) {
        failures.push(`${label}: ${samples.map((sample) => sample.value[1]).join(', ')} for ${expression}`)
      }
      return samples.map((sample) => Number(sample.value[1]))
    }
    for (const { panel, refId, promql } of readDashboardQueries(capacityDashboardPath)) await check(`${panel} (${refId})`, promql)
    const [forecast, recommended] = manifestQueries('prometheus-adapter-rules.yaml').map(adapterExpanded)
    const [kedaForecast, kedaRecommended] = manifestQueries('keda-scaledobject.yaml')
    const forecastValues = await check('adapter: forecast', forecast!)
    expect(await check('adapter: recommended instances', recommended!)).toEqual([2])
    const kedaForecastValues = await check('KEDA: forecast', kedaForecast!)
    expect(await check('KEDA: recommended instances', kedaRecommended!)).toEqual([2])
    more = false
    await background
    expect(failures).toEqual([])
    // The same query but for the adapter's template: both see the forecast of the traffic.
    expect(forecastValues[0]).toBeGreaterThan(0)
    expect(kedaForecastValues[0]).toBeGreaterThan(0)
  }, 180_000)
})
