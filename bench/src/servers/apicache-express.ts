/**
 * apicache (npm) on Express, its documented use: `apicache.middleware()` in
 * front of the route, with the route forwarding misses to the upstream.
 *
 * apicache keys entries by URL only unless told otherwise (it caches POST
 * too), so every question sent to the one route would get the first
 * question's answer. Its documented `appendKey` option, given a function,
 * adds a SHA-256 of the parsed body to the key: the same key the tutorial
 * `lru-middleware` uses, so the comparison is of caches that answer
 * correctly. With `APICACHE_KEY=url` it runs with apicache's default key
 * instead, which the runner only uses to show that default is wrong here.
 */
import { createHash } from 'node:crypto'
import apicache from 'apicache'
import express, { type NextFunction, type Request, type Response } from 'express'
import { CHAT_COMPLETIONS_PATH } from '../workload.js'
import { assertEntryScript } from './entry-script.js'
import { APICACHE_KEY_VARIABLE, upstreamUrl } from './environment.js'
import { serve } from './serve.js'

assertEntryScript(import.meta.url)
const upstreamChatUrl = `${upstreamUrl()}/chat/completions`

const keyByBody = process.env[APICACHE_KEY_VARIABLE] !== 'url'
apicache.options({
  ...(keyByBody ? { appendKey: (request: Request) => createHash('sha256').update(JSON.stringify(request.body)).digest('hex') } : {}),
  // Only successful answers are worth keeping.
  statusCodes: { include: [200] },
})

async function forward(request: Request, response: Response): Promise<void> {
  const upstreamResponse = await fetch(upstreamChatUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: request.get('authorization') ?? '' },
    body: JSON.stringify(request.body),
  })
  const bytes = Buffer.from(await upstreamResponse.arrayBuffer())
  response.status(upstreamResponse.status).type('application/json').send(bytes)
}

const app = express()
app.post(CHAT_COMPLETIONS_PATH, express.json(), apicache.middleware('1 hour'), (request: Request, response: Response, next: NextFunction) => {
  forward(request, response).catch(next)
})
await serve(app)
