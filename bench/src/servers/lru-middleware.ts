/**
 * The cache a tutorial would suggest: hash the parsed body, keep answers in
 * an LRU, forward misses with fetch. The comparison aicache must win.
 */
import { createHash } from 'node:crypto'
import express, { type NextFunction, type Request, type Response } from 'express'
import { LRUCache } from 'lru-cache'
import { CHAT_COMPLETIONS_PATH } from '../workload.js'
import { assertEntryScript } from './entry-script.js'
import { upstreamUrl } from './environment.js'
import { serve } from './serve.js'

assertEntryScript(import.meta.url)
const upstreamChatUrl = `${upstreamUrl()}/chat/completions`
const cache = new LRUCache<string, object>({ max: 1000 })

async function forward(request: Request, response: Response, key: string): Promise<void> {
  const upstreamResponse = await fetch(upstreamChatUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: request.get('authorization') ?? '' },
    body: JSON.stringify(request.body),
  })
  const answer = (await upstreamResponse.json()) as object
  if (upstreamResponse.ok) cache.set(key, answer)
  response.status(upstreamResponse.status).json(answer)
}

function lruCacheMiddleware(request: Request, response: Response, next: NextFunction): void {
  const key = createHash('sha256').update(JSON.stringify(request.body)).digest('hex')
  const cached = cache.get(key)
  if (cached !== undefined) {
    response.json(cached)
    return
  }
  forward(request, response, key).catch(next)
}

const app = express()
app.post(CHAT_COMPLETIONS_PATH, express.json(), lruCacheMiddleware)
await serve(app)
