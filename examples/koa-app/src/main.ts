import type { AddressInfo } from 'node:net'
import { startFakeUpstream } from '@aicache/testkit'
import { createApp } from './app.js'

async function main(): Promise<void> {
  const baseUrl = process.env['OPENAI_BASE_URL']
  const demo = baseUrl ? undefined : await startFakeUpstream({ latencyMs: 300 })
  if (demo) console.log(`OPENAI_BASE_URL is not set: the shop assistant uses the demo LLM at ${demo.url} (canned answers, no cost).`)
  const app = createApp({ modelBaseUrl: baseUrl ?? demo!.url, apiKey: process.env['OPENAI_API_KEY'] })
  const server = app.listen(Number(process.env['PORT'] ?? 3000), '127.0.0.1')
  server.once('listening', () => {
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
    console.log(`koa-app listening on ${base}: GET /health, GET /products, POST /chat`)
    console.log(`try twice: curl -si ${base}/chat -H 'content-type: application/json' -d '{"prompt":"Which grinder?"}'`)
  })
  const shutdown = () => {
    server.close()
    server.closeIdleConnections()
    void demo?.close()
  }
  process.once('SIGINT', shutdown)
  process.once('SIGTERM', shutdown)
}

main().catch((error: unknown) => {
  console.error(`koa-app could not start: ${error instanceof Error ? error.message : String(error)}`)
  process.exit(1)
})
