import { startObservabilityApp } from './app.js'
import { loadConfig } from './config.js'

async function main(): Promise<void> {
  const app = await startObservabilityApp(loadConfig())
  if (app.demoUpstream) {
    console.log(`AICACHE_UPSTREAM_URL is not set: using the built-in demo upstream at ${app.upstreamUrl} (a fake LLM, no key, no cost).`)
  }
  console.log(`aicache gateway:   ${app.gatewayUrl} (OpenAI base URL: ${app.openAiBaseUrl})`)
  console.log(`upstream:          ${app.upstreamUrl}`)
  console.log(`Prometheus scrape: ${app.metricsUrl}`)
  console.log(`OTLP traces to:    ${app.tracesUrl} (nothing listening there is fine: spans are dropped)`)
  console.log('With `docker compose up` in examples/observability: Jaeger http://localhost:16686, Grafana http://localhost:3000')
  console.log(`Try: curl ${app.openAiBaseUrl}/chat/completions -H 'authorization: Bearer sk-demo' -H 'content-type: application/json' \\`)
  console.log(`       -d '{"model":"gpt-4o-mini","messages":[{"role":"user","content":"How do I locate my card?"}]}' -i`)
  const shutdown = () => {
    // Batched spans are sent on the way out, but an absent collector must not
    // hold the exit for the exporter's retries.
    setTimeout(() => process.exit(0), 3_000).unref()
    app.close().then(
      () => process.exit(0),
      () => process.exit(1),
    )
  }
  process.once('SIGINT', shutdown)
  process.once('SIGTERM', shutdown)
}

main().catch((error: unknown) => {
  console.error(`aicache observability example could not start: ${error instanceof Error ? error.message : String(error)}`)
  process.exit(1)
})
