import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { CACHED_TOKENS_HEADER, type FakeUpstream } from '@aicache/testkit'
import { type RedisServer, startRedisServer } from '@aicache/testkit/redis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type ObservabilityApp, startObservabilityApp } from './app.js'
import { readDashboardQueries } from './dashboard-queries.js'
import { type PrometheusServer, skipWithoutPrometheus, startPrometheus } from '../test/support/prometheus-server.js'
import { type PlannedRequest, type PlayedRequest, playWorkload } from './workload/play.js'

/** A span as an OTLP/HTTP receiver got it (OTLP JSON: ids in hex). */
interface ReceivedSpan {
  name: string
  traceId: string
  spanId: string
  parentSpanId?: string
}

/** An OTLP/HTTP receiver that keeps the spans it was sent (the exporter sends OTLP JSON). */
async function startOtlpReceiver(): Promise<{ url: string; spanNames: Set<string>; spans: ReceivedSpan[]; close(): Promise<void> }> {
  const spanNames = new Set<string>()
  const spans: ReceivedSpan[] = []
  const server: Server = createServer(async (request, response) => {
    const chunks: Buffer[] = []
    for await (const chunk of request) chunks.push(chunk as Buffer)
    if (request.url === '/v1/traces') {
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as {
        resourceSpans?: Array<{ scopeSpans?: Array<{ spans?: ReceivedSpan[] }> }>
      }
      for (const resource of body.resourceSpans ?? []) {
        for (const scope of resource.scopeSpans ?? []) {
          for (const span of scope.spans ?? []) {
            spanNames.add(span.name)
            spans.push(span)
          }
        }
      }
    }
    response.writeHead(200, { 'content-type': 'application/json' }).end('{}')
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    spanNames,
    spans,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  }
}

/** The question whose upstream call fails in round `number`. */
const failingQuestion = (number: number) => `Round ${number}: why was my transfer declined?`

/**
 * One round of traffic that feeds every panel: misses then hits on two
 * models, a stream missed then hit, and a call the upstream fails. Questions
 * are new each round, so every counter grows between rounds and `rate()`
 * has something to measure. The upstream reports part of each prompt as
 * served from its own prompt cache, for the panel of both caching layers.
 */
function round(number: number): PlannedRequest[] {
  const ask = (question: string, model: string, stream = false): PlannedRequest => ({
    apiKey: 'sk-observability',
    model,
    question,
    stream,
    headers: { [CACHED_TOKENS_HEADER]: '4' },
  })
  const requests: PlannedRequest[] = []
  for (const model of ['gpt-4o-mini', 'gpt-4o']) {
    const question = `Round ${number}: how do I locate my card? (${model})`
    requests.push(ask(question, model), ask(question, model))
  }
  const streamed = `Round ${number}: can I top up by bank transfer?`
  requests.push(ask(streamed, 'gpt-4o-mini', true), ask(streamed, 'gpt-4o-mini', true))
  requests.push(ask(failingQuestion(number), 'gpt-4o-mini'))
  // A success after the failure resets the circuit breaker's count of consecutive failures.
  requests.push(ask(`Round ${number}: what is my balance?`, 'gpt-4o-mini'))
  return requests
}

describe.skipIf(skipWithoutPrometheus())('the Grafana dashboard against a real Prometheus', () => {
  let app: ObservabilityApp
  let prometheus: PrometheusServer
  let otlp: Awaited<ReturnType<typeof startOtlpReceiver>>
  let redis: RedisServer

  beforeAll(async () => {
    otlp = await startOtlpReceiver()
    // With the Redis tier, so the L2 panels have lookups to show.
    redis = await startRedisServer()
    app = await startObservabilityApp({
      port: 0,
      metricsPort: 0,
      metricsHost: '127.0.0.1',
      otlpEndpoint: otlp.url,
      spanBatchDelayMs: 100,
      demoLatencyMs: 5,
      // A minute's burst of 30 per caller: the workload's caller stays under it, a second caller goes over.
      cache: { rateLimit: { requestsPerMinute: 30 }, redis: redis.url },
    })
    await app.engine.ready()
    prometheus = await startPrometheus(app.metricsUrl, 1)
  }, 120_000)
  afterAll(async () => {
    await prometheus?.stop()
    await app?.close()
    await otlp?.close()
    await redis?.stop()
  })

  const played: PlayedRequest[] = []

  it('answers every PromQL expression of the dashboard with data', async () => {
    const upstream = app.demoUpstream as FakeUpstream
    await prometheus.waitForScrapes(1)
    for (const number of [1, 2]) {
      const failing = failingQuestion(number)
      // Enough 500s for every retry the engine may make, for that question only.
      upstream.inject({ status: 500, times: 5, match: (call) => call.rawBody.includes(failing) })
      const round_ = await playWorkload(app.openAiBaseUrl, round(number))
      expect(round_.map((request) => request.result)).toEqual(['miss', 'hit', 'miss', 'hit', 'miss', 'hit', 'error', 'miss'])
      played.push(...round_)
      // rate() needs two samples around the change: wait for two scrapes after it.
      await prometheus.waitForScrapes(2)
    }
    // The memory tier dropped: the first asks of round 1's three questions are answered by Redis (L2).
    app.engine.clear()
    const fromRedis = await playWorkload(
      app.openAiBaseUrl,
      round(1).filter((_, index) => index === 0 || index === 2 || index === 4),
    )
    expect(fromRedis.map((request) => [request.result, request.tier])).toEqual([
      ['hit', 'l2'],
      ['hit', 'l2'],
      ['hit', 'l2'],
    ])
    played.push(...fromRedis)
    await prometheus.waitForScrapes(2)
    // A caller over its limit: one miss, then hits until the burst is spent, then 429s.
    const limited = await playWorkload(
      app.openAiBaseUrl,
      Array.from({ length: 40 }, () => ({ apiKey: 'sk-over-the-limit', model: 'gpt-4o-mini', question: 'What is my balance?', stream: false })),
    )
    played.push(...limited)
    expect(limited.filter((request) => request.errorStatus === 429).length).toBeGreaterThan(5)
    await prometheus.waitForScrapes(2)

    const queries = readDashboardQueries()
    expect(queries.length).toBeGreaterThanOrEqual(10)
    const failures: string[] = []
    for (const { panel, refId, promql: expression } of queries) {
      const samples = await prometheus.query(expression)
      if (samples.length === 0) failures.push(`${panel} (${refId}): no series for ${expression}`)
      else if (!samples.some((sample) => Number.isFinite(Number(sample.value[1])))) {
        failures.push(`${panel} (${refId}): only ${samples.map((sample) => sample.value[1]).join(', ')} for ${expression}`)
      }
    }
    expect(failures).toEqual([])
  }, 180_000)

  it('shows the numbers of the workload: every request, hit, rejection and upstream error since the first', async () => {
    // Evaluated at the last scrape: a series' first sample is 0, so rate() over
    // a window holding the whole test is its total divided by the window, exactly.
    const [last] = await prometheus.query('max(timestamp(aicache_requests_total))')
    const at = Number(last?.value[1])
    // The panels' windows (1m, 5m) widened to 10m, so a slow machine's test still
    // holds every series' first sample; per-second rates are then totals / 600.
    const panel = async (title: string, refId = 'A') => {
      const query = readDashboardQueries().find((candidate) => candidate.panel === title && candidate.refId === refId)
      if (!query) throw new Error(`no panel '${title}'`)
      const expression = query.promql.replaceAll('[1m]', '[10m]').replaceAll('[5m]', '[10m]')
      return (await prometheus.query(expression, at)).map((sample) => ({ labels: sample.metric, value: Number(sample.value[1]) }))
    }
    const window = 600
    const count = (result: string) => played.filter((request) => request.result === result).length
    const rejected = played.filter((request) => request.errorStatus === 429).length
    const upstreamErrors = played.filter((request) => request.errorStatus === 500).length
    const l2Hits = played.filter((request) => request.tier === 'l2').length
    expect([played.length, count('hit'), count('miss'), upstreamErrors, l2Hits]).toEqual([59, 48 - rejected, 9, 2, 3])

    const [hitRatio] = await panel('Hit ratio (5m)')
    expect(hitRatio?.value).toBeCloseTo(count('hit') / played.length, 9)
    const byTier = await panel('Hit ratio by tier')
    expect(byTier.sort((a, b) => String(a.labels['aicache_tier']).localeCompare(String(b.labels['aicache_tier'])))).toEqual([
      { labels: { aicache_tier: 'l1' }, value: expect.closeTo((count('hit') - l2Hits) / played.length, 9) },
      { labels: { aicache_tier: 'l2' }, value: expect.closeTo(l2Hits / played.length, 9) },
    ])
    const byResult = Object.fromEntries(
      (await panel('Requests by result')).map(({ labels, value }) => [labels['aicache_result'], Math.round(value * window * 1e6) / 1e6]),
    )
    // A request the upstream failed went upstream: a miss, whose failure the upstream errors panel shows.
    expect(byResult).toEqual({ hit: count('hit'), miss: count('miss') + upstreamErrors, error: rejected })
    const [rejections] = await panel('Rate-limit rejections')
    expect((rejections?.value ?? 0) * window).toBeCloseTo(rejected, 6)
    const errors = await panel('Upstream errors by error.type')
    expect(errors.map(({ labels, value }) => [labels['error_type'], Math.round(value * window * 1e6) / 1e6])).toEqual([['500', upstreamErrors]])
    const stats = app.engine.stats()
    const [spentPerHour] = await panel('Dollars per hour: saved against spent', 'B')
    expect(((spentPerHour?.value ?? 0) / 3600) * window).toBeCloseTo(stats.costSpentUsd, 9)
    const [savedPerHour] = await panel('Dollars per hour: saved against spent', 'A')
    expect(((savedPerHour?.value ?? 0) / 3600) * window).toBeCloseTo(stats.costSavedUsd, 9)
    const tokens = Object.fromEntries(
      (await panel('Tokens saved')).map(({ labels, value }) => [labels['gen_ai_token_type'], Math.round(value * window * 1e6) / 1e6]),
    )
    expect(tokens).toEqual(stats.tokensSaved)
    const bothLayers = "Tokens: aicache hits against the provider's prompt cache"
    const [savedInput] = await panel(bothLayers, 'A')
    expect((savedInput?.value ?? 0) * window).toBeCloseTo(stats.tokensSaved.input, 6)
    const providerCache = (await panel(bothLayers, 'B')).map(({ labels, value }) => [
      labels['aicache_provider_cache_type'],
      Math.round(value * window * 1e6) / 1e6,
    ])
    // Every miss that reached the upstream and succeeded: four prompt tokens read from its cache.
    expect(stats.providerCacheTokens.read).toBe(4 * (count('miss') - 1))
    expect(providerCache).toEqual([['read', stats.providerCacheTokens.read]])
  })

  it('labels series as the dashboard expects: hits by tier, upstream errors by error.type', async () => {
    const hits = await prometheus.query('sum by (aicache_tier) (aicache_requests_total{aicache_result="hit"})')
    const hitsOf = (tier: string) => played.filter((request) => request.result === 'hit' && request.tier === tier).length
    expect(hits.map((sample) => [sample.metric['aicache_tier'], Number(sample.value[1])]).sort()).toEqual([
      ['l1', hitsOf('l1')],
      ['l2', hitsOf('l2')],
    ])
    const errors = await prometheus.query('sum by (error_type) (gen_ai_client_operation_duration_count{error_type!=""})')
    expect(errors.map((sample) => sample.metric)).toEqual([{ error_type: '500' }])
  })

  it('sends the request and upstream spans over OTLP/HTTP', async () => {
    const deadline = Date.now() + 5_000
    while (!(otlp.spanNames.has('aicache chat') && otlp.spanNames.has('chat gpt-4o')) && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 50))
    }
    expect([...otlp.spanNames]).toEqual(expect.arrayContaining(['aicache chat', 'chat gpt-4o-mini', 'chat gpt-4o']))
  })

  it("continues a caller's trace: traceparent, the gateway's server span, then aicache's spans", async () => {
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736'
    const callerSpanId = '00f067aa0ba902b7'
    const response = await fetch(`${app.openAiBaseUrl}/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'Bearer sk-traced', traceparent: `00-${traceId}-${callerSpanId}-01` },
      body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Is my card blocked? (traced)' }] }),
    })
    expect(response.status).toBe(200)
    await response.text()
    const ofTrace = () => otlp.spans.filter((span) => span.traceId.toLowerCase() === traceId)
    const deadline = Date.now() + 5_000
    while (ofTrace().length < 3 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50))
    const server = ofTrace().find((span) => span.name === 'POST /v1/chat/completions')
    const request = ofTrace().find((span) => span.name === 'aicache chat')
    const upstream = ofTrace().find((span) => span.name === 'chat gpt-4o-mini')
    expect(server?.parentSpanId?.toLowerCase()).toBe(callerSpanId)
    expect(request?.parentSpanId).toBe(server?.spanId)
    expect(upstream?.parentSpanId).toBe(request?.spanId)
  })
})
