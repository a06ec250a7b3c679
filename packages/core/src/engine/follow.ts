import { AiCacheError, type AiCacheErrorCode } from '../errors.js'
import type { Outcome } from '../exchange/types.js'
import type { Production } from '../flight/production.js'
import type { CacheEntry } from '../store/entry.js'
import type { ApiFormat } from '../formats/format.js'
import { answerFormatOf, streamFormatOf } from '../formats/registry.js'
import { serializeEvents } from '../stream/sse.js'
import type { Claim } from '../tiers/claims.js'
import type { ForwardStatus } from './cache-status.js'
import { followOutcome, respondOutcome } from './outcomes.js'
import type { PreparedRequest } from './prepare.js'
import { eventStreamHeaders } from './representation.js'

/** The handler of a wrapped route did not finish its response. */
export class HandlerAbandoned extends Error {}

/** Whether a status is a success (2xx). */
export function isSuccess(status: number): boolean {
  return status >= 200 && status <= 299
}

/** The answer of a production, in the form this request asked for. */
export async function followProduction(prepared: PreparedRequest, production: Production, cacheStatus: ForwardStatus): Promise<Outcome> {
  let head
  try {
    head = await production.head()
  } catch (error) {
    // The handler that was to answer for everyone did not finish: run our own.
    if (error instanceof HandlerAbandoned) return { type: 'next', body: prepared.body() }
    throw error
  }
  // RFC 9211 `collapsed`: another request's (here: another instance's) forward answered this one.
  const status = head.shared ? { ...cacheStatus, forwardStatus: head.status, collapsed: true } : { ...cacheStatus, forwardStatus: head.status }
  if (head.streaming && prepared.stream) {
    const isUsageOnly = streamFormatOf(prepared.format).isUsageOnly
    return followOutcome(production, head.status, head.headers, prepared.includeUsage ? undefined : isUsageOnly, status)
  }
  const produced = await production.result()
  // Stored by the instance that made the call, not by this request.
  const result = head.shared ? { ...produced, stored: false } : produced
  if (head.streaming) {
    if (result.failure !== undefined) {
      throw new AiCacheError('upstream_unreachable', `The upstream stream reported an error: ${result.failure}`)
    }
    if (!result.complete) throw new AiCacheError('upstream_unreachable', 'The upstream stream ended before it was complete.')
    const completion = streamFormatOf(prepared.format).assemble(production.events)
    // A stream that is not an OpenAI completion (a wrapped route's own events) is answered as it was produced.
    if (completion === undefined) {
      return respondOutcome(head.status, head.headers, Buffer.from(serializeEvents(production.events)), { ...status, stored: result.stored })
    }
    const json = { 'content-type': 'application/json' }
    return respondOutcome(head.status, json, Buffer.from(JSON.stringify(completion)), { ...status, stored: result.stored })
  }
  if (prepared.stream && isSuccess(head.status)) {
    const events = synthesizeFromBody(prepared.format, result.body, prepared.includeUsage)
    if (events !== undefined) {
      const body = Buffer.from(events)
      return respondOutcome(head.status, eventStreamHeaders, body, { ...status, stored: result.stored })
    }
  }
  return respondOutcome(head.status, head.headers, result.body, { ...status, stored: result.stored })
}

/** A production answered by an entry another instance stored. */
export function feedFromEntry(production: Production, entry: CacheEntry): void {
  production.start({ status: entry.status, headers: { ...entry.headers }, streaming: entry.format === 'sse', shared: true })
  for (const event of entry.events ?? []) production.append(event)
  production.finish({ body: entry.body, stored: true, complete: true, usage: entry.usage })
}

// The errors an upstream call can end with; another instance's failure is answered with one of them.
const sharedErrorCodes: ReadonlySet<string> = new Set<AiCacheErrorCode>(['upstream_unreachable', 'upstream_timeout', 'upstream_overloaded', 'circuit_open'])

/**
 * A production answered by another instance: its stored entry, or the
 * failure its call ended with, which this instance passes on as it is and
 * never stores.
 */
export function feedFromClaim(production: Production, claim: Claim): void {
  if (claim.entry !== undefined) return feedFromEntry(production, claim.entry)
  const failure = claim.failure
  if (failure === undefined) return
  if (failure.kind === 'error') {
    const code = sharedErrorCodes.has(failure.code) ? (failure.code as AiCacheErrorCode) : 'upstream_unreachable'
    return production.fail(new AiCacheError(code, failure.message, failure.retryAfterMs === undefined ? {} : { retryAfterMs: failure.retryAfterMs }))
  }
  production.start({ status: failure.status, headers: { ...failure.headers }, streaming: false, shared: true })
  production.finish({ body: failure.body, stored: false, complete: true })
}

function synthesizeFromBody(format: ApiFormat | undefined, body: Buffer, includeUsage: boolean): string | undefined {
  const parsed = answerFormatOf(format).parseAnswer(body)
  if (parsed === undefined) return undefined
  const events = streamFormatOf(format).synthesize(parsed, includeUsage)
  return events && serializeEvents(events)
}
