import { AiCacheError, toOpenAiError } from '../errors.js'
import type { RespondOutcome, ResponseHeaders, StreamOutcome } from '../exchange/types.js'
import type { UpstreamResponse } from '../upstream/types.js'
import { type CacheEntry, entryAgeSeconds, entryTtlSeconds } from '../store/entry.js'
import { type ForwardStatus, forwardStatus, hitStatus, type Tier } from './cache-status.js'

/** An answer produced by the upstream or a handler, shared by a flight. */
export interface Produced {
  status: number
  headers: ResponseHeaders
  body: Buffer
  stored: boolean
}

/** A hit, with `Age` (RFC 9111 section 5.1) and `Cache-Status`. */
export function hitOutcome(entry: CacheEntry, tier: Tier, nowMs: number): RespondOutcome {
  return {
    type: 'respond',
    status: entry.status,
    headers: {
      ...entry.headers,
      'cache-status': hitStatus(tier, entryTtlSeconds(entry, nowMs)),
      age: String(entryAgeSeconds(entry, nowMs)),
    },
    body: entry.body,
  }
}

/** A produced answer, as one of the requests that shared it sees it. */
export function producedOutcome(produced: Produced, status: ForwardStatus): RespondOutcome {
  return {
    type: 'respond',
    status: produced.status,
    headers: { ...produced.headers, 'cache-status': forwardStatus(status) },
    body: produced.body,
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

/** An error made by aicache, in the OpenAI error format. */
export function errorOutcome(error: AiCacheError): RespondOutcome {
  const upstreamFault = error.code === 'upstream_unreachable' || error.code === 'upstream_timeout'
  return {
    type: 'respond',
    status: error.status,
    headers: {
      'content-type': 'application/json',
      'cache-status': forwardStatus({ reason: upstreamFault ? 'uri-miss' : 'bypass', detail: error.code }),
    },
    body: Buffer.from(JSON.stringify(toOpenAiError(error))),
  }
}
