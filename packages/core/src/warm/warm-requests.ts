import { AiCacheError } from '../errors.js'
import type { ExchangeRequest, Outcome, RequestHeaders } from '../exchange/types.js'
import { apiFormats, formatOfPath } from '../formats/registry.js'

/**
 * One request to pre-populate the cache with (`engine.warm`, `POST /aicache/warm`):
 * what a client would send, as JSON.
 *
 * @example
 * ```ts
 * const request: WarmRequest = {
 *   format: 'chat',
 *   body: { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Where is my parcel?' }] },
 *   headers: { authorization: 'Bearer sk-...' },
 * }
 * ```
 */
export interface WarmRequest {
  /** The gateway path, such as `/v1/chat/completions`; or `format`. */
  path?: string
  /** The API format instead of a path: `'chat'`, `'completion'`, `'embeddings'` or `'responses'`. */
  format?: string
  /** The request body (a JSON object). */
  body: unknown
  /**
   * Request headers. They decide the scope as for any request: with the
   * default `scope: 'credential'`, send the credential of the callers who
   * should hit the entry (`authorization`), and `x-aicache-namespace` or
   * `x-aicache-ttl` where they would.
   */
  headers?: Record<string, string>
}

/**
 * What became of one warm request:
 * - `stored`: a miss, answered by the upstream and stored;
 * - `cached`: already in the cache (a hit), or the same request earlier in the list;
 * - `uncached`: answered, but not stored (`no-store`, a TTL of 0, a format that never caches it);
 * - `failed`: the upstream or the engine refused or failed (`reason` says how);
 * - `invalid`: not a request (not JSON, no body, an unknown path or format).
 */
export type WarmOutcome = 'stored' | 'cached' | 'uncached' | 'failed' | 'invalid'

/** One warm request's result, in the order they finish. */
export interface WarmResult {
  /** Position of the request in the list (0-based). */
  index: number
  outcome: WarmOutcome
  /** The HTTP status it was answered with. */
  status?: number
  /** Why it failed, was invalid or was not stored. */
  reason?: string
}

/** How many warm requests ended each way. */
export interface WarmReport {
  total: number
  stored: number
  cached: number
  uncached: number
  failed: number
  invalid: number
  /** Requests not run because `signal` aborted. */
  skipped: number
  durationMs: number
}

/** Options of `engine.warm`. */
export interface WarmOptions {
  /**
   * Requests run at once. Misses go to the upstream through the engine's own
   * concurrency cap and upstream budget on top of this. @default 4
   */
  concurrency?: number
  /** Stops starting new requests (those running finish). */
  signal?: AbortSignal
  /** Called with each request's result as it finishes (progress). */
  onResult?: (result: WarmResult) => void
}

/** How the engine answers one request (its `respond`). */
export type Respond = (request: ExchangeRequest) => Outcome | Promise<Outcome>

const formatPaths = new Map<string, string>(apiFormats.map((format) => [format.id, format.paths[0]!]))

/**
 * Runs each request through `respond` (the engine, as a client would reach
 * it), `concurrency` at a time, and counts what became of it. An item that
 * is not a request (a string that is not JSON, a missing body) is counted
 * as `invalid` and the rest go on. Never rejects for one request's failure.
 */
export async function warmRequests(respond: Respond, requests: Iterable<WarmRequest | string>, options: WarmOptions = {}): Promise<WarmReport> {
  const startedAt = performance.now()
  const concurrency = options.concurrency ?? 4
  if (!Number.isSafeInteger(concurrency) || concurrency < 1) {
    throw new AiCacheError('invalid_value', `'concurrency' must be a positive integer, got ${String(concurrency)}`, { param: 'concurrency' })
  }
  const report: WarmReport = { total: 0, stored: 0, cached: 0, uncached: 0, failed: 0, invalid: 0, skipped: 0, durationMs: 0 }
  const signal = options.signal ?? new AbortController().signal
  // The requests' own signal never aborts: one that started finishes (and is stored) when the run is stopped.
  const running = new AbortController().signal
  const iterator = requests[Symbol.iterator]()
  let index = 0
  const worker = async () => {
    for (;;) {
      const next = iterator.next()
      if (next.done === true) return
      const position = index++
      report.total++
      if (signal.aborted) {
        report.skipped++
        continue
      }
      const result = { index: position, ...(await warmOne(respond, next.value, running)) }
      report[result.outcome]++
      options.onResult?.(result)
    }
  }
  await Promise.all(Array.from({ length: concurrency }, worker))
  report.durationMs = Math.round(performance.now() - startedAt)
  return report
}

type Ended = Omit<WarmResult, 'index'>

async function warmOne(respond: Respond, item: WarmRequest | string, signal: AbortSignal): Promise<Ended> {
  const request = exchangeOf(item, signal)
  if (typeof request === 'string') return { outcome: 'invalid', reason: request }
  let outcome: Outcome
  try {
    outcome = await respond(request)
  } catch (error) {
    return { outcome: 'failed', reason: (error as Error).message }
  }
  if (outcome.type === 'next') return { outcome: 'invalid', reason: `${request.path} is not answered by the cache` }
  const { status } = outcome
  const cacheStatus = String(outcome.headers['cache-status'] ?? '')
  let body: Buffer
  try {
    body = outcome.type === 'respond' ? outcome.body : await readAll(outcome.body)
  } catch (error) {
    return { outcome: 'failed', status, reason: `the answer broke off: ${(error as Error).message}` }
  }
  if (status < 200 || status > 299) return { outcome: 'failed', status, reason: errorMessageOf(body) ?? `status ${status}` }
  if (/;\s*hit\b/.test(cacheStatus) || /;\s*collapsed\b/.test(cacheStatus)) return { outcome: 'cached', status }
  // A stream's header is sent before it ends: one that ended after a plain miss was stored (recorded complete).
  if (/;\s*stored\b/.test(cacheStatus) || (outcome.type === 'stream' && /fwd=(uri-miss|stale)\b(?!.*detail=)/.test(cacheStatus))) {
    return { outcome: 'stored', status }
  }
  return { outcome: 'uncached', status, reason: /detail=([^;\s]+)/.exec(cacheStatus)?.[1] ?? 'not stored' }
}

/** The request as the engine takes it, or why it is not one. */
function exchangeOf(item: WarmRequest | string, signal: AbortSignal): ExchangeRequest | string {
  let value: unknown = item
  if (typeof item === 'string') {
    try {
      value = JSON.parse(item)
    } catch (error) {
      return `not JSON: ${(error as Error).message}`
    }
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return 'a warm request must be a JSON object with a body and a path or format'
  const { path, format, body, headers } = value as Record<string, unknown>
  if (body === null || typeof body !== 'object' || Array.isArray(body)) return "'body' must be a JSON object"
  const resolvedPath = typeof path === 'string' ? path : typeof format === 'string' ? formatPaths.get(format) : undefined
  if (resolvedPath === undefined) return `say 'path' (such as /v1/chat/completions) or 'format' (${[...formatPaths.keys()].join(', ')})`
  if (formatOfPath(resolvedPath) === undefined) return `'${resolvedPath}' is not a path the cache answers`
  const requestHeaders = headersOf(headers)
  if (typeof requestHeaders === 'string') return requestHeaders
  const bytes = Buffer.from(JSON.stringify(body))
  return {
    method: 'POST',
    path: resolvedPath,
    url: resolvedPath,
    headers: { ...requestHeaders, 'content-type': 'application/json', 'content-length': String(bytes.byteLength) },
    readBody(maxBytes) {
      if (bytes.byteLength > maxBytes) throw new AiCacheError('body_too_large', `The request body is larger than ${maxBytes} bytes.`)
      return bytes
    },
    async *bodyStream() {
      yield bytes
    },
    signal,
  }
}

function headersOf(value: unknown): RequestHeaders | string {
  if (value === undefined) return {}
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return "'headers' must be an object of strings"
  const headers: RequestHeaders = {}
  for (const [name, header] of Object.entries(value)) {
    if (typeof header !== 'string') return `header '${name}' must be a string`
    headers[name.toLowerCase()] = header
  }
  return headers
}

async function readAll(body: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const chunks: Uint8Array[] = []
  for await (const chunk of body) chunks.push(chunk)
  return Buffer.concat(chunks)
}

/** The `error.message` of an OpenAI-style error body. */
function errorMessageOf(body: Buffer): string | undefined {
  try {
    const message = (JSON.parse(body.toString('utf8')) as { error?: { message?: unknown } }).error?.message
    return typeof message === 'string' ? message : undefined
  } catch {
    return undefined
  }
}
