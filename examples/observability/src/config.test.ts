import { describe, expect, it } from 'vitest'
import { loadConfig } from './config.js'

describe('loadConfig', () => {
  it('defaults to the gateway on 8787, /metrics on 9464 for every interface, OTLP on localhost, the demo upstream', () => {
    expect(loadConfig({})).toEqual({
      port: 8787,
      host: '127.0.0.1',
      upstreamUrl: undefined,
      otlpEndpoint: 'http://127.0.0.1:4318',
      metricsPort: 9464,
      metricsHost: '0.0.0.0',
      cache: {},
    })
  })

  it('reads the standard OTel variables and the gateway ones', () => {
    expect(
      loadConfig({
        PORT: '0',
        AICACHE_UPSTREAM_URL: 'https://api.openai.com/v1',
        AICACHE_UPSTREAM_API_KEY: 'sk-up',
        OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318',
        OTEL_EXPORTER_PROMETHEUS_PORT: '9465',
      }),
    ).toMatchObject({
      port: 0,
      upstreamUrl: 'https://api.openai.com/v1',
      otlpEndpoint: 'http://collector:4318',
      metricsPort: 9465,
      cache: { upstreamApiKey: 'sk-up' },
    })
  })

  it('names the variable whose port is malformed', () => {
    expect(() => loadConfig({ OTEL_EXPORTER_PROMETHEUS_PORT: 'nine' })).toThrow('OTEL_EXPORTER_PROMETHEUS_PORT')
  })
})
