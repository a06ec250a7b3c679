/**
 * aicache's Express adapter in proxy mode, as `aicache-express.ts`, with the
 * options the runner passes as JSON (Redis, memory tier, rate limits, retries, circuit breaker). With
 * Redis set, it listens only once the engine is connected to it.
 */
import { aiCache, type AiCacheOptions } from '@aicache/express'
import express from 'express'
import { assertEntryScript } from './entry-script.js'
import { AICACHE_OPTIONS_VARIABLE, requiredVariable, upstreamUrl } from './environment.js'
import { serve } from './serve.js'

assertEntryScript(import.meta.url)
const options = JSON.parse(requiredVariable(AICACHE_OPTIONS_VARIABLE)) as Pick<
  AiCacheOptions,
  'redis' | 'memoryTier' | 'rateLimit' | 'retry' | 'circuitBreaker'
>
const middleware = aiCache({ ...options, upstream: upstreamUrl() })
await middleware.engine.ready()
const app = express()
app.use(middleware)
await serve(app)
