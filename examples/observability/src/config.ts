import type { ObservabilityAppOptions } from './app.js'

function port(environment: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const value = environment[name]
  if (value === undefined || value === '') return fallback
  const number = Number(value)
  if (!Number.isSafeInteger(number) || number < 0 || number > 65_535) throw new Error(`${name} must be a port number, got '${value}'`)
  return number
}

function text(environment: NodeJS.ProcessEnv, name: string): string | undefined {
  const value = environment[name]
  return value === undefined || value === '' ? undefined : value
}

/**
 * The app's options from the environment. The OTel variables keep their
 * standard names, so the usual OTel documentation applies:
 *
 * | variable | default |
 * |---|---|
 * | `PORT`, `HOST` | 8787, 127.0.0.1 (the gateway) |
 * | `AICACHE_UPSTREAM_URL` | the built-in demo upstream |
 * | `AICACHE_UPSTREAM_API_KEY` | the caller's own `Authorization` is forwarded |
 * | `OTEL_EXPORTER_OTLP_ENDPOINT` | http://127.0.0.1:4318 |
 * | `OTEL_EXPORTER_PROMETHEUS_PORT`, `OTEL_EXPORTER_PROMETHEUS_HOST` | 9464, 0.0.0.0 |
 */
export function loadConfig(environment: NodeJS.ProcessEnv = process.env): ObservabilityAppOptions {
  const upstreamApiKey = text(environment, 'AICACHE_UPSTREAM_API_KEY')
  return {
    port: port(environment, 'PORT', 8787),
    host: text(environment, 'HOST') ?? '127.0.0.1',
    upstreamUrl: text(environment, 'AICACHE_UPSTREAM_URL'),
    otlpEndpoint: text(environment, 'OTEL_EXPORTER_OTLP_ENDPOINT') ?? 'http://127.0.0.1:4318',
    metricsPort: port(environment, 'OTEL_EXPORTER_PROMETHEUS_PORT', 9464),
    metricsHost: text(environment, 'OTEL_EXPORTER_PROMETHEUS_HOST') ?? '0.0.0.0',
    cache: upstreamApiKey === undefined ? {} : { upstreamApiKey },
  }
}
