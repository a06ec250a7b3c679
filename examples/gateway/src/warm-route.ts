import type { RequestHandler } from 'express'
import type { WarmRequest } from '@aicache/core'
import type { AiCache } from '@aicache/express'

/** Largest body `POST /aicache/warm` reads. */
export const warmBodyLimit = '16mb'

/** The requests of a warm body, each with where it was (`line` of JSONL, `item` of a JSON array). */
interface WarmItems {
  requests: Array<WarmRequest | string>
  where: Array<{ line: number } | { item: number }>
}

/**
 * A warm body: a JSON array of requests, or JSONL (one request a line;
 * blank lines are skipped). A JSONL line that is not JSON is left as text,
 * for the engine to count as invalid; a JSON array that does not parse is
 * one error for the whole body.
 */
export function warmItems(text: string): WarmItems | { error: string } {
  const trimmed = text.trimStart()
  if (trimmed.startsWith('[')) {
    let parsed: unknown
    try {
      parsed = JSON.parse(trimmed)
    } catch (cause) {
      return { error: `The body starts as a JSON array but is not valid JSON: ${(cause as Error).message}` }
    }
    if (!Array.isArray(parsed)) return { error: 'The body must be a JSON array of requests, or JSONL (one request a line).' }
    return { requests: parsed as WarmRequest[], where: parsed.map((_request, index) => ({ item: index })) }
  }
  const items: WarmItems = { requests: [], where: [] }
  text.split(/\r?\n/).forEach((line, index) => {
    if (line.trim() === '') return
    items.requests.push(line)
    items.where.push({ line: index + 1 })
  })
  return items
}

function error(message: string, code: string, param: string | null = null) {
  return { error: { message, type: 'invalid_request_error', code, param } }
}

/**
 * `POST /aicache/warm`: runs every request of the body through the engine
 * (`engine.warm`) and streams its progress as NDJSON, one JSON object a
 * line: `{"type":"start","total":N}`, then one `{"type":"result", "line"
 * (or "item"), "outcome", "status"?, "reason"?}` per request as it
 * finishes, then `{"type":"done", total, stored, cached, uncached, failed,
 * invalid, skipped, durationMs}`. `?concurrency=N` sets how many run at
 * once (default 4). A client that goes away stops the rest.
 */
export function warmHandler(engine: AiCache): RequestHandler {
  return async (req, res) => {
    const text = Buffer.isBuffer(req.body) ? req.body.toString('utf8') : ''
    if (text.trim() === '') {
      res.status(400).json(error('The body is empty: send a JSON array of requests, or JSONL (one request a line).', 'invalid_json'))
      return
    }
    const concurrency = req.query['concurrency'] === undefined ? 4 : Number(req.query['concurrency'])
    if (!Number.isSafeInteger(concurrency) || concurrency < 1 || concurrency > 64) {
      res.status(400).json(error("'concurrency' must be a whole number from 1 to 64.", 'invalid_value', 'concurrency'))
      return
    }
    const items = warmItems(text)
    if ('error' in items) {
      res.status(400).json(error(items.error, 'invalid_json'))
      return
    }
    const stopped = new AbortController()
    res.once('close', () => stopped.abort())
    res.status(200).set({ 'content-type': 'application/x-ndjson', 'cache-control': 'no-store' })
    // Once the client is gone there is no one to tell; the requests already started finish anyway.
    const send = (value: object) => void (res.destroyed || res.write(`${JSON.stringify(value)}\n`))
    send({ type: 'start', total: items.requests.length })
    const report = await engine.warm(items.requests, {
      concurrency,
      signal: stopped.signal,
      onResult: ({ index, ...result }) => send({ type: 'result', ...items.where[index], ...result }),
    })
    if (!res.destroyed) res.end(`${JSON.stringify({ type: 'done', ...report })}\n`)
  }
}
