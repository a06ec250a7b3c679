// The consumer app: what a user writes after installing the packed tarballs.
// The test copies this file to app.mts (ESM) and app.cts (CommonJS) in an
// app outside the workspace, type-checks both with skipLibCheck: false and
// runs them. It must therefore compile as both module kinds: no top-level
// await, no import.meta.
import type { Server } from 'node:http'
import { type AiCacheOptions, type AiCacheStats, AiCache, AiCacheError, createAiCache } from '@aicache/core'
import { bodyTooLargeError, type Outcome, type RouteDirectives } from '@aicache/core/adapter'
import type { IoredisClient, RedisLayerOptions } from '@aicache/core/redis'
import { createLocalEmbedder, type LocalEmbedder } from '@aicache/embeddings-local'
import { aiCache as expressAiCache } from '@aicache/express'
import { aiCache as fastifyAiCache } from '@aicache/fastify'
import { aiCache as koaAiCache } from '@aicache/koa'
import express from 'express'
import Fastify from 'fastify'
import Koa from 'koa'

/** What one framework did with a miss then a hit; the test reads it from stdout. */
interface FrameworkResult {
  framework: 'express' | 'koa' | 'fastify'
  moduleSystem: 'esm' | 'commonjs'
  cacheStatus: [string | null, string | null]
  sameAnswer: boolean
  stats: AiCacheStats
}

const upstream = process.argv[2]
if (!upstream) throw new Error('usage: node app <upstream base URL>')
const moduleSystem = typeof require === 'function' ? 'commonjs' : 'esm'

// Type-level only: Redis options and ioredis-shaped clients must be expressible without ioredis installed.
const withRedis: AiCacheOptions = { upstream, redis: { redis: 'redis://127.0.0.1:6379', prefix: 'consumer', timeoutMs: 50 } }
void withRedis
// The same through the types of the `@aicache/core/redis` and `@aicache/core/adapter` subpaths.
const layerOptions = (client: IoredisClient): RedisLayerOptions => ({ redis: client, prefix: 'consumer' })
const withClient = (client: IoredisClient): AiCacheOptions => ({ upstream, redis: layerOptions(client) })
const routeDirectives: RouteDirectives = { namespace: 'consumer', ttlMs: 60_000, rateLimit: false }
const answered = (outcome: Outcome): boolean => outcome.type !== 'next'
void withClient
void routeDirectives
void answered

async function missThenHit(base: string, framework: FrameworkResult['framework']): Promise<Omit<FrameworkResult, 'stats'>> {
  const body = JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: `Hello from ${framework} in ${moduleSystem}` }] })
  const send = () =>
    fetch(`${base}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'Bearer sk-consumer' },
      body,
    })
  const first = await send()
  const firstText = await first.text()
  const second = await send()
  const secondText = await second.text()
  if (first.status !== 200 || second.status !== 200) throw new Error(`${framework}: ${first.status} ${firstText} / ${second.status} ${secondText}`)
  return {
    framework,
    moduleSystem,
    cacheStatus: [first.headers.get('cache-status'), second.headers.get('cache-status')],
    sameAnswer: firstText === secondText,
  }
}

async function listening(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.once('listening', () => resolve()))
  const address = server.address()
  if (address === null || typeof address === 'string') throw new Error('no port')
  return `http://127.0.0.1:${address.port}`
}

function closed(server: Server): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()))
}

async function onExpress(): Promise<FrameworkResult> {
  const middleware = expressAiCache({ upstream })
  const server = express().use(middleware).listen(0, '127.0.0.1')
  try {
    return { ...(await missThenHit(await listening(server), 'express')), stats: middleware.engine.stats() }
  } finally {
    await closed(server)
    await middleware.engine.close()
  }
}

async function onKoa(): Promise<FrameworkResult> {
  // An engine shared by passing it in, as apps with several mounts do.
  const engine: AiCache = createAiCache({ upstream })
  const server = new Koa().use(koaAiCache(engine)).listen(0, '127.0.0.1')
  try {
    return { ...(await missThenHit(await listening(server), 'koa')), stats: engine.stats() }
  } finally {
    await closed(server)
    await engine.close()
  }
}

async function onFastify(): Promise<FrameworkResult> {
  const app = Fastify()
  await app.register(fastifyAiCache, { upstream })
  const base = await app.listen({ port: 0, host: '127.0.0.1' })
  try {
    // `app.aiCache` is typed through the plugin's module augmentation.
    return { ...(await missThenHit(base, 'fastify')), stats: app.aiCache.stats() }
  } finally {
    await app.close()
  }
}

// The offline embedder starts its worker thread from the file of this module system's build.
async function embeddingDimensions(): Promise<number> {
  const embedder: LocalEmbedder = createLocalEmbedder()
  try {
    const [vector] = await embedder.embed(['How do I reset my password?'])
    return vector?.length ?? 0
  } finally {
    await embedder.close()
  }
}

async function main(): Promise<void> {
  const results = [await onExpress(), await onKoa(), await onFastify()]
  const dimensions = await embeddingDimensions()
  let invalid: unknown
  try {
    createAiCache({ ttlMs: -1 })
  } catch (error) {
    invalid = error
  }
  // The adapter subpath's errors are instances of the main entry's class: one class per module build.
  const tooLarge = bodyTooLargeError(1)
  const adapterErrorShared = tooLarge instanceof AiCacheError && tooLarge.code === 'body_too_large'
  console.log(
    JSON.stringify({ moduleSystem, results, invalidOptionRecognised: AiCacheError.isInstance(invalid), adapterErrorShared, embeddingDimensions: dimensions }),
  )
}

main().catch((error: unknown) => {
  console.error(error)
  process.exit(1)
})
