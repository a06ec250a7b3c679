import type { AiCache } from '@aicache/express'
import type { FakeUpstream } from '@aicache/testkit'
import { type Gateway, type GatewayOptions, startGateway } from './gateway.js'
import { startTelemetrySdk, type TelemetrySdkOptions } from './telemetry-sdk.js'

/** Options of {@link startObservabilityApp}. */
export interface ObservabilityAppOptions extends Omit<TelemetrySdkOptions, 'serviceName'>, GatewayOptions {}

/** The running app and where to find each of its endpoints. */
export interface ObservabilityApp {
  /** The gateway, `http://HOST:PORT`. */
  readonly gatewayUrl: string
  /** OpenAI base URL for clients: `<gatewayUrl>/v1`. */
  readonly openAiBaseUrl: string
  /** Prometheus scrape endpoint. */
  readonly metricsUrl: string
  /** OTLP/HTTP endpoint spans are sent to. */
  readonly tracesUrl: string
  readonly upstreamUrl: string
  /** The built-in demo upstream, when no upstream URL was given (tests inject faults into it). */
  readonly demoUpstream: FakeUpstream | undefined
  readonly engine: AiCache
  /** Stops the gateway, then flushes and stops the SDK. */
  close(): Promise<void>
}

/**
 * The aicache gateway with OpenTelemetry: the SDK is started first, the
 * normal way, then the gateway, whose engine records through the global
 * providers.
 *
 * @example
 * ```ts
 * const app = await startObservabilityApp({ port: 0, metricsPort: 0 })
 * console.log(app.gatewayUrl, app.metricsUrl, app.tracesUrl)
 * await app.close()
 * ```
 */
export async function startObservabilityApp(options: ObservabilityAppOptions = {}): Promise<ObservabilityApp> {
  const sdk = await startTelemetrySdk(options)
  let gateway: Gateway
  try {
    gateway = await startGateway(options)
  } catch (error) {
    await sdk.shutdown()
    throw error
  }
  return {
    gatewayUrl: gateway.url,
    openAiBaseUrl: gateway.openAiBaseUrl,
    metricsUrl: sdk.metricsUrl,
    tracesUrl: sdk.tracesUrl,
    upstreamUrl: gateway.upstreamUrl,
    demoUpstream: gateway.demoUpstream,
    engine: gateway.engine,
    async close() {
      await gateway.close()
      await sdk.shutdown()
    },
  }
}
