import { setTimeout as sleep } from 'node:timers/promises'
import { AiCacheError, toOpenAiError } from '../errors.js'
import type { Outcome, RespondOutcome, ResponseHeaders, StreamOutcome } from '../exchange/types.js'
import type { Production } from '../flight/production.js'
import type { ApiFormat } from '../formats/format.js'
import { type CacheEntry, entryAgeSeconds, entryTtlSeconds } from '../store/entry.js'
import { entryMemo } from '../store/entry-memo.js'
import { type SseEvent, serializeEvent } from '../stream/sse.js'
import type { UpstreamResponse } from '../upstream/types.js'
import { type ForwardStatus, forwardStatus, hitStatus, type Tier } from './cache-status.js'
import type { Representation } from './representation.js'

/** The headers of an entry's last hit, reused while they would come out the same. */
interface LastHitHeaders {
  readonly body: Buffer
  readonly tier: Tier
  readonly ttlSeconds: number
  readonly ageSeconds: number
  readonly headers: ResponseHeaders
}

/**
 * `Cache-Status`, `Age` (RFC 9111 section 5.1) and, for a complete body,
 * `Content-Length`, over the representation's headers. Both numbers change
 * once a second at most, so the hits of an entry within a second share one
 * frozen headers object instead of building one each.
 */
function hitHeaders(entry: CacheEntry, representation: Representation, tier: Tier, nowMs: number, withLength: boolean): ResponseHeaders {
  const ttlSeconds = entryTtlSeconds(entry, nowMs)
  const ageSeconds = entryAgeSeconds(entry, nowMs)
  const memo = entryMemo(entry)
  const last = memo.hitHeaders as LastHitHeaders | undefined
  if (
    last !== undefined &&
    last.body === representation.body &&
    last.tier === tier &&
    last.ttlSeconds === ttlSeconds &&
    last.ageSeconds === ageSeconds &&
    withLength === (last.headers['content-length'] !== undefined)
  ) {
    return last.headers
  }
  const headers: ResponseHeaders = Object.freeze({
    ...representation.headers,
    'cache-status': hitStatus(tier, ttlSeconds),
    age: String(ageSeconds),
    ...(withLength ? { 'content-length': representation.body.byteLength } : {}),
  })
  memo.hitHeaders = { body: representation.body, tier, ttlSeconds, ageSeconds, headers } satisfies LastHitHeaders
  return headers
}

/** A hit, with `Age` and `Cache-Status`. */
export function hitOutcome(entry: CacheEntry, representation: Representation, tier: Tier, nowMs: number): RespondOutcome {
  return { type: 'respond', status: entry.status, headers: hitHeaders(entry, representation, tier, nowMs, true), body: representation.body }
}

async function* paced(events: readonly SseEvent[]): AsyncGenerator<Uint8Array> {
  let previousMs = 0
  for (const event of events) {
    if (event.offsetMs > previousMs) await sleep(event.offsetMs - previousMs)
    previousMs = Math.max(previousMs, event.offsetMs)
    yield Buffer.from(serializeEvent(event))
  }
}

/** A stream hit replayed with the timing it was recorded with. */
export function pacedHitOutcome(entry: CacheEntry, representation: Representation & { events: readonly SseEvent[] }, tier: Tier, nowMs: number): StreamOutcome {
  return {
    type: 'stream',
    status: entry.status,
    headers: hitHeaders(entry, representation, tier, nowMs, false),
    body: paced(representation.events),
  }
}

/** A complete answer, as one of the requests that shared it sees it. */
export function respondOutcome(status: number, headers: ResponseHeaders, body: Buffer, cacheStatus: ForwardStatus): RespondOutcome {
  return { type: 'respond', status, headers: { ...headers, 'cache-status': forwardStatus(cacheStatus) }, body }
}

/** The events of a production as they come, each batch in one write. */
async function* followBytes(production: Production, hidden: ((event: SseEvent) => boolean) | undefined): AsyncGenerator<Uint8Array> {
  for await (const batch of production.follow()) {
    let text = ''
    for (const event of batch) {
      // The usage chunk was asked for on the client's behalf; it did not want it.
      if (hidden?.(event)) continue
      text += serializeEvent(event)
    }
    if (text !== '') yield Buffer.from(text)
  }
}

/**
 * A stream being produced, sent live to one of the requests following it,
 * without the events `hidden` says it did not ask for (a usage chunk).
 */
export function followOutcome(
  production: Production,
  status: number,
  headers: ResponseHeaders,
  hidden: ((event: SseEvent) => boolean) | undefined,
  cacheStatus: ForwardStatus,
): StreamOutcome {
  return {
    type: 'stream',
    status,
    headers: { ...headers, 'cache-status': forwardStatus(cacheStatus) },
    body: followBytes(production, hidden),
  }
}

/** An upstream response passed through as a stream. */
export function streamOutcome(response: UpstreamResponse, status: ForwardStatus): StreamOutcome {
  return {
    type: 'stream',
    status: response.status,
    headers: { ...response.headers, 'cache-status': forwardStatus(status) },
    body: response.body,
  }
}

/**
 * An error made by aicache, in the error shape of the request's format
 * (`errorAnswer`: Anthropic's on its routes), else OpenAI's.
 */
export function errorOutcome(error: AiCacheError, format?: ApiFormat): RespondOutcome {
  const upstreamFault =
    error.code === 'upstream_unreachable' || error.code === 'upstream_timeout' || error.code === 'circuit_open' || error.code === 'upstream_overloaded'
  const own = format?.errorAnswer?.(error)
  return {
    type: 'respond',
    status: own?.status ?? error.status,
    headers: {
      ...error.headers,
      'content-type': 'application/json',
      'cache-status': forwardStatus({ reason: upstreamFault ? 'uri-miss' : 'bypass', detail: error.code }),
    },
    body: Buffer.from(JSON.stringify(own?.body ?? toOpenAiError(error))),
  }
}

/** The outcome with more headers (rate-limit headers, say). */
export function withHeaders<T extends Outcome>(outcome: T, headers: Readonly<Record<string, string>> | undefined): T {
  if (headers === undefined) return outcome
  let empty = true
  for (const _name in headers) {
    empty = false
    break
  }
  return empty ? outcome : { ...outcome, headers: { ...outcome.headers, ...headers } }
}
