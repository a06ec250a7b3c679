import type { AddressInfo } from 'node:net'
import { type AiCache, createAiCache } from '@aicache/express'
import { startFakeUpstream } from '@aicache/testkit'
import { createGatewayApp } from './app.js'
import { loadConfig } from './config.js'
import { semanticOption } from './semantic.js'

/**
 * What the start-up line says about Redis. A closed breaker only means no
 * call has failed yet, so the connection itself is what says "connected".
 */
function redisState(engine: AiCache): string {
  const redis = engine.stats().redis
  if (!redis) return 'not used (see the warning above), serving without it'
  if (redis.connected && redis.state === 'closed') return 'connected'
  return 'unavailable, serving without it (it is used as soon as it answers)'
}

async function main(): Promise<void> {
  const config = loadConfig()
  const demo = config.cache.upstream ? undefined : await startFakeUpstream({ latencyMs: 300 })
  if (demo) {
    console.log(`AICACHE_UPSTREAM_URL is not set: using the built-in demo upstream at ${demo.url} for OpenAI and Anthropic calls.`)
    console.log('It is a fake LLM with canned answers (no API key, no cost). Set AICACHE_UPSTREAM_URL (and AICACHE_ANTHROPIC_URL) to proxy a real provider.')
  }
  const semantic = await semanticOption(config.semantic)
  const engine = createAiCache({ ...config.cache, upstream: config.cache.upstream ?? demo?.url, ...(semantic && { semantic: semantic.option }) })
  // Listening at once, so probes of GET /aicache/ready see 503 while Redis connects and the warm-up runs;
  // the start-up lines come once the engine is ready (Redis there, or given up on after about a second).
  const server = createGatewayApp(engine, config.adminToken).listen(config.port, config.host)
  await Promise.all([engine.ready(), new Promise((resolve) => server.once('listening', resolve))])
  const { port } = server.address() as AddressInfo
  const base = `http://${config.host}:${port}`
  console.log(`aicache gateway listening on ${base} (OpenAI base URL: ${base}/v1, Anthropic base URL: ${base})`)
  const { openai, anthropic } = engine.options.upstreams
  console.log(`upstream: ${openai?.href ?? 'none for OpenAI calls'}${anthropic && anthropic !== openai ? `, Anthropic: ${anthropic.href}` : ''}`)
  if (config.cache.redis) console.log(`redis: ${redisState(engine)}`)
  if (config.cache.warmUp) console.log(`warm-up: ${JSON.stringify(engine.warmUpReport ?? {})}`)
  if (semantic) console.log(`semantic cache: ${semantic.description}, threshold ${engine.options.semantic?.threshold}`)
  console.log(`readiness: GET ${base}/aicache/ready`)
  if (config.adminToken)
    console.log(`admin: GET ${base}/aicache/stats, GET ${base}/aicache/capacity, POST ${base}/aicache/invalidate, POST ${base}/aicache/warm (bearer token)`)
  const shutdown = () => {
    server.close()
    server.closeIdleConnections()
    void engine.close()
    void semantic?.close()
    void demo?.close()
  }
  process.once('SIGINT', shutdown)
  process.once('SIGTERM', shutdown)
}

main().catch((error: unknown) => {
  console.error(`aicache gateway could not start: ${error instanceof Error ? error.message : String(error)}`)
  process.exit(1)
})
