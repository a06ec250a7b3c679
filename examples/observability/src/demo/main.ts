import { startGateway } from '../gateway.js'
import { readBanking77 } from '../workload/banking77.js'
import { playInWorker } from '../workload/play-in-worker.js'
import { demoApps, planDemoWorkload } from './plan.js'
import { formatSummary } from './summary.js'

/**
 * `pnpm demo -- --gateway http://127.0.0.1:8787` (or `AICACHE_DEMO_GATEWAY_URL`):
 * plays the workload against that running gateway, the instrumented one
 * `pnpm start` runs, so what the demo prints is what Grafana and Jaeger show.
 */
function runningGateway(argv: readonly string[]): string | undefined {
  const index = argv.indexOf('--gateway')
  const url = (index >= 0 ? argv[index + 1] : undefined) ?? process.env['AICACHE_DEMO_GATEWAY_URL']
  return url ? url.replace(/\/+$/, '') : undefined
}

async function playAgainst(gatewayUrl: string): Promise<void> {
  const plan = planDemoWorkload({ questions: readBanking77(), requests: 300 })
  console.log(`Playing ${plan.length} banking77 questions from ${demoApps.length} apps against the gateway on ${gatewayUrl}...\n`)
  const startedAt = performance.now()
  const played = await playInWorker(`${gatewayUrl}/v1`, plan, { concurrency: 16 })
  console.log(formatSummary({ played, apps: demoApps, elapsedMs: performance.now() - startedAt }))
  console.log("\nCounted from the Cache-Status header of each answer; the gateway's own counters, tokens and dollars are on the Grafana dashboard.")
}

// The demo needs no OpenTelemetry SDK: the engine's stats() carries the same
// counters the metrics do (one path records both), and the clients measure latency.
async function main(): Promise<void> {
  const remote = runningGateway(process.argv.slice(2))
  if (remote !== undefined) return playAgainst(remote)
  const gateway = await startGateway({ port: 0 })
  try {
    // Word-sized chunks a few milliseconds apart, like a model typing.
    gateway.demoUpstream?.setChunkDelay(2)
    const plan = planDemoWorkload({ questions: readBanking77(), requests: 300 })
    console.log(`aicache gateway on ${gateway.url}, in front of the demo upstream (a fake LLM answering in 200-400 ms).`)
    console.log(`Playing ${plan.length} banking77 questions from ${demoApps.length} apps, each with its own API key...\n`)
    const startedAt = performance.now()
    const played = await playInWorker(gateway.openAiBaseUrl, plan, { concurrency: 16 })
    const elapsedMs = performance.now() - startedAt
    console.log(formatSummary({ played, stats: gateway.engine.stats(), apps: demoApps, elapsedMs }))
    console.log('\nHits skip the model: the gateway answers them from memory (well under a millisecond of its own time,')
    console.log("aicache.request.duration); the client-side times above also hold the openai SDK and this machine's load.")
    console.log('Each API key has its own entries (scope: credential), so the same question from two apps is two misses.')
    console.log('To watch it in Jaeger and Grafana: docs/telemetry.md.')
  } finally {
    await gateway.close()
  }
}

main().catch((error: unknown) => {
  console.error(`aicache demo failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`)
  process.exit(1)
})
