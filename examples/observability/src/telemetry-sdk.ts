import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { PrometheusExporter } from '@opentelemetry/exporter-prometheus'
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http'
import { NodeSDK } from '@opentelemetry/sdk-node'
import { BatchSpanProcessor } from '@opentelemetry/sdk-trace'

/** Options of {@link startTelemetrySdk}. */
export interface TelemetrySdkOptions {
  /** Base URL of an OTLP/HTTP receiver; spans go to `<endpoint>/v1/traces`. @default 'http://127.0.0.1:4318' */
  otlpEndpoint?: string
  /** Port of the Prometheus `/metrics` endpoint; 0 picks a free one. @default 9464 */
  metricsPort?: number
  /**
   * Interface the `/metrics` endpoint listens on. All interfaces by default,
   * so a Prometheus in a container can scrape it through `host.docker.internal`.
   * @default '0.0.0.0'
   */
  metricsHost?: string
  /** `service.name` of the spans and metrics. @default 'aicache-gateway' */
  serviceName?: string
  /** How long to wait before sending a batch of spans. @default 1000 */
  spanBatchDelayMs?: number
}

/** A started OpenTelemetry SDK. */
export interface TelemetrySdk {
  /** `http://HOST:PORT/metrics`, for Prometheus to scrape. */
  readonly metricsUrl: string
  /** Where spans are sent: `<otlpEndpoint>/v1/traces`. */
  readonly tracesUrl: string
  /** Sends the spans still batched, then stops the SDK and the `/metrics` server. */
  shutdown(): Promise<void>
}

async function listen(server: Server, port: number, host: string): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, host, () => {
      server.off('error', reject)
      resolve()
    })
  })
  return (server.address() as AddressInfo).port
}

/**
 * Starts `NodeSDK` as the global tracer and meter provider: spans batched to
 * an OTLP/HTTP receiver (Jaeger, an OTel Collector), metrics pulled by
 * Prometheus. aicache records through the global providers, so nothing else
 * needs wiring.
 *
 * @example
 * ```ts
 * const sdk = await startTelemetrySdk({ metricsPort: 9464 })
 * console.log(`scrape ${sdk.metricsUrl}`)
 * process.once('SIGTERM', () => void sdk.shutdown())
 * ```
 */
export async function startTelemetrySdk(options: TelemetrySdkOptions = {}): Promise<TelemetrySdk> {
  const tracesUrl = `${(options.otlpEndpoint ?? 'http://127.0.0.1:4318').replace(/\/+$/, '')}/v1/traces`
  // The exporter's own server treats port 0 as "use the default", so it is
  // served here instead, which also tells us the port that was picked.
  const exporter = new PrometheusExporter({ preventServerStart: true })
  const server = createServer((request, response) => {
    if (new URL(request.url ?? '/', 'http://metrics').pathname === '/metrics') return exporter.getMetricsRequestHandler(request, response)
    response.writeHead(404).end()
  })
  const host = options.metricsHost ?? '0.0.0.0'
  const port = await listen(server, options.metricsPort ?? 9464, host)
  const sdk = new NodeSDK({
    serviceName: options.serviceName ?? 'aicache-gateway',
    spanProcessors: [new BatchSpanProcessor({ exporter: new OTLPTraceExporter({ url: tracesUrl }), scheduledDelayMillis: options.spanBatchDelayMs ?? 1000 })],
    metricReaders: [exporter],
  })
  sdk.start()
  return {
    metricsUrl: `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${port}/metrics`,
    tracesUrl,
    async shutdown() {
      await sdk.shutdown()
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}
