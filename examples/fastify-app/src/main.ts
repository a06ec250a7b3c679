import { startFakeUpstream } from '@aicache/testkit'
import { createApp } from './app.js'

async function main(): Promise<void> {
  const baseUrl = process.env['OPENAI_BASE_URL']
  const demo = baseUrl ? undefined : await startFakeUpstream({ latencyMs: 300 })
  if (demo) console.log(`OPENAI_BASE_URL is not set: the shop assistant uses the demo LLM at ${demo.url} (canned answers, no cost).`)
  const app = createApp({ modelBaseUrl: baseUrl ?? demo!.url, apiKey: process.env['OPENAI_API_KEY'] })
  if (demo) app.addHook('onClose', () => demo.close())
  const base = await app.listen({ port: Number(process.env['PORT'] ?? 3000), host: '127.0.0.1' })
  console.log(`fastify-app listening on ${base}: GET /health, GET /products, POST /chat`)
  console.log(`try twice: curl -si ${base}/chat -H 'content-type: application/json' -d '{"prompt":"Which grinder?"}'`)
  const shutdown = () => void app.close()
  process.once('SIGINT', shutdown)
  process.once('SIGTERM', shutdown)
}

main().catch((error: unknown) => {
  console.error(`fastify-app could not start: ${error instanceof Error ? error.message : String(error)}`)
  process.exit(1)
})
