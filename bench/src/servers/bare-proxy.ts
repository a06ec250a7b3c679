/**
 * Floor for a miss (streamed or not) through any proxy: plain node:http
 * reading the request body, sending it to the fake upstream on a keep-alive
 * agent and piping the answer's bytes back untouched, with no framework, no
 * parsing and no recording. What aicache adds to a miss beyond this is its
 * own work.
 */
import { Agent, request as httpRequest } from 'node:http'
import { assertEntryScript } from './entry-script.js'
import { upstreamUrl } from './environment.js'
import { serve } from './serve.js'

assertEntryScript(import.meta.url)
const upstream = new URL(upstreamUrl())
const agent = new Agent({ keepAlive: true })
await serve((request, response) => {
  const chunks: Buffer[] = []
  request.on('data', (chunk: Buffer) => chunks.push(chunk))
  request.once('end', () => {
    const body = Buffer.concat(chunks)
    const forwarded = httpRequest(
      {
        host: upstream.hostname,
        port: upstream.port,
        // '/v1/chat/completions' against a base URL ending in '/v1'.
        path: upstream.pathname + (request.url ?? '/').replace(/^\/v1/, ''),
        method: request.method,
        agent,
        headers: {
          'content-type': request.headers['content-type'] ?? 'application/json',
          authorization: request.headers.authorization ?? '',
          'content-length': String(body.byteLength),
        },
      },
      (answer) => {
        const type = answer.headers['content-type'] ?? 'application/json'
        const length = answer.headers['content-length']
        response.writeHead(answer.statusCode ?? 502, length === undefined ? { 'content-type': type } : { 'content-type': type, 'content-length': length })
        // A stream's head goes out at once, so the client sees the answer begin;
        // a whole answer's head goes out with its body.
        if (length === undefined) response.flushHeaders()
        answer.pipe(response)
      },
    )
    forwarded.once('error', () => response.destroy())
    forwarded.end(body)
  })
})
