/**
 * The Redis cache a competent user would write by hand: Express parses the
 * body, its SHA-256 is the key, one GET from Redis with ioredis, JSON.parse
 * and `res.json` on a hit; on a miss, forward with fetch and SET with EX.
 * The comparison of aicache's L2 hit.
 */
import { createHash } from 'node:crypto'
import express, { type NextFunction, type Request, type Response } from 'express'
import { Redis } from 'ioredis'
import { CHAT_COMPLETIONS_PATH } from '../workload.js'
import { assertEntryScript } from './entry-script.js'
import { REDIS_URL_VARIABLE, requiredVariable, upstreamUrl } from './environment.js'
import { serve } from './serve.js'

assertEntryScript(import.meta.url)
const upstreamChatUrl = `${upstreamUrl()}/chat/completions`
const TTL_SECONDS = 3600
const redis = new Redis(requiredVariable(REDIS_URL_VARIABLE))
await redis.ping()

async function forward(request: Request, response: Response, key: string): Promise<void> {
  const upstreamResponse = await fetch(upstreamChatUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: request.get('authorization') ?? '' },
    body: JSON.stringify(request.body),
  })
  const answer = (await upstreamResponse.json()) as object
  if (upstreamResponse.ok) await redis.set(key, JSON.stringify(answer), 'EX', TTL_SECONDS)
  response.status(upstreamResponse.status).json(answer)
}

async function redisCacheMiddleware(request: Request, response: Response): Promise<void> {
  const key = `handwritten:${createHash('sha256').update(JSON.stringify(request.body)).digest('hex')}`
  const cached = await redis.get(key)
  if (cached !== null) {
    // The header only lets the runner check that the bench measures hits.
    response.set('cache-status', 'ioredis-express; hit')
    response.json(JSON.parse(cached))
    return
  }
  await forward(request, response, key)
}

const app = express()
app.post(CHAT_COMPLETIONS_PATH, express.json(), (request: Request, response: Response, next: NextFunction) => {
  redisCacheMiddleware(request, response).catch(next)
})
await serve(app)
