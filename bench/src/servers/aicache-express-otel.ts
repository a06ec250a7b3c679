/**
 * aicache-express exactly as `aicache-express.ts`, with a full OpenTelemetry
 * SDK registered first, as an instrumented service has it: NodeSDK (global
 * tracer and meter providers, the async-hooks context manager), spans through
 * a BatchSpanProcessor, metrics through a PeriodicExportingMetricReader. The
 * exporters drop what they get, so the cost measured is recording spans and
 * metrics, not shipping them over a network.
 *
 * GET /__bench/otel flushes both and answers what was exported, so the runner
 * can check that telemetry is really recorded.
 *
 * With AICACHE_BENCH_OTEL=sdk-only the SDK is registered just the same, but
 * aicache is given no-op providers: what remains is the SDK's own cost on
 * every request (its async context tracking), without aicache's recording.
 */
import { aiCache } from '@aicache/express'
import { createNoopMeter, ProxyTracerProvider } from '@opentelemetry/api'
import { NodeSDK } from '@opentelemetry/sdk-node'
import { type PushMetricExporter, PeriodicExportingMetricReader, type ResourceMetrics } from '@opentelemetry/sdk-metrics'
import { BatchSpanProcessor, type ReadableSpan, type SpanExporter } from '@opentelemetry/sdk-trace-base'
import express from 'express'
import { assertEntryScript } from './entry-script.js'
import { upstreamUrl } from './environment.js'
import { serve } from './serve.js'

assertEntryScript(import.meta.url)

// ExportResultCode.SUCCESS of @opentelemetry/core.
const SUCCESS = 0
// The SDK's default is 60 s; a shorter interval charges export work to the measured rounds.
const METRIC_EXPORT_INTERVAL_MS = 5_000

const exported = { spans: 0, metricExports: 0, metricNames: new Set<string>() }

const spanExporter: SpanExporter = {
  export(spans: ReadableSpan[], done) {
    exported.spans += spans.length
    done({ code: SUCCESS })
  },
  shutdown: async () => undefined,
}

const metricExporter: PushMetricExporter = {
  export(batch: ResourceMetrics, done) {
    exported.metricExports += 1
    for (const scope of batch.scopeMetrics) for (const metric of scope.metrics) exported.metricNames.add(metric.descriptor.name)
    done({ code: SUCCESS })
  },
  forceFlush: async () => undefined,
  shutdown: async () => undefined,
}

const spanProcessor = new BatchSpanProcessor(spanExporter)
const metricReader = new PeriodicExportingMetricReader({ exporter: metricExporter, exportIntervalMillis: METRIC_EXPORT_INTERVAL_MS })
const sdk = new NodeSDK({ serviceName: 'aicache-bench', spanProcessors: [spanProcessor], metricReaders: [metricReader] })
sdk.start()

const sdkOnly = process.env['AICACHE_BENCH_OTEL'] === 'sdk-only'
// A ProxyTracerProvider without a delegate hands out no-op tracers.
const noTelemetry = { tracerProvider: new ProxyTracerProvider(), meterProvider: { getMeter: () => createNoopMeter() } }

const app = express()
app.use(aiCache({ upstream: upstreamUrl(), ...(sdkOnly ? { telemetry: noTelemetry } : {}) }))
app.get('/__bench/otel', async (_request, response) => {
  await spanProcessor.forceFlush()
  await metricReader.forceFlush()
  response.json({ spans: exported.spans, metricExports: exported.metricExports, metricNames: [...exported.metricNames].sort() })
})
await serve(app)
