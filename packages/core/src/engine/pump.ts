import { AiCacheError } from '../errors.js'
import type { CapturedHeaders, ExchangeRequest, RequestHeaders } from '../exchange/types.js'
import type { Production } from '../flight/production.js'
import type { CacheEntry } from '../store/entry.js'
import type { SharedFailure } from '../store/redis-layer.js'
import { responseFailure } from '../store/shared-failure.js'
import type { AnswerDescription, StreamFormat } from '../formats/format.js'
import { answerFormatOf, streamFormatOf } from '../formats/registry.js'
import { SseParser, type SseEvent } from '../stream/sse.js'
import type { UpstreamFacts, UpstreamObservation, UpstreamTarget } from '../telemetry/telemetry.js'
import type { Claim } from '../tiers/claims.js'
import { type ApiKeyHeader, forwardRequestHeaders, readAll } from '../upstream/headers.js'
import type { Upstream } from '../upstream/types.js'
import { AnswerJson, headerText } from './answer.js'
import { feedFromClaim, isSuccess } from './follow.js'
import type { PreparedRequest } from './prepare.js'
import { jsonEntry, type StorePlan, streamEntry } from './recording.js'

const noBody = Buffer.alloc(0)

/** Everything one upstream call for a production needs. */
export interface PumpJob {
  request: ExchangeRequest
  prepared: PreparedRequest
  upstream: Upstream
  upstreamApiKey: string | undefined
  /** Where `upstreamApiKey` goes (`x-api-key` for Anthropic). */
  apiKeyHeader: ApiKeyHeader
  production: Production
  /** Aborted when every request following the production has gone. */
  signal: AbortSignal
  plan: StorePlan | undefined
  /** Starts the upstream call's observation, when a call is really made. */
  startCall: () => UpstreamObservation
  /** Another instance answered: no call was made here. */
  onRemoteAnswer: () => void
  /** Cross-instance single-flight (see `TieredCache.claim`). */
  claim: (key: string) => Promise<Claim>
  /** Stores an entry (then its counted version, see `StreamRecording` in recording.ts); resolves when the remote tier has it. */
  keep: (plan: StorePlan | undefined, entry: CacheEntry | undefined, counted?: Promise<CacheEntry | undefined>) => Promise<void>
}

/**
 * Sends the upstream's answer into the production: a stream event by event
 * as it arrives, anything else whole. Stores it only when it is complete.
 */
export async function pumpUpstream(job: PumpJob): Promise<void> {
  const { request, prepared, upstream, startCall, onRemoteAnswer, production, signal, plan } = job
  const claim = plan ? await job.claim(plan.key) : {}
  if (claim.entry !== undefined || claim.failure !== undefined) {
    onRemoteAnswer()
    return feedFromClaim(production, claim)
  }
  const call = startCall()
  let stored: Promise<void> = Promise.resolve()
  // How this call failed, for the other instances waiting on its lock (see RedisLocks).
  let failure: SharedFailure | undefined
  try {
    const response = await call.within(() =>
      upstream.send({
        method: request.method,
        url: request.url,
        headers: upstreamHeaders(request.headers, job.upstreamApiKey, job.apiKeyHeader),
        body: prepared.stream ? withUsageRequested(prepared) : prepared.raw,
        signal,
        onRetry: (attempt, reason) => call.retried(attempt, reason),
      }),
    )
    const { status, headers } = response
    if (isSuccess(status) && isEventStream(headers)) {
      const stream = streamFormatOf(prepared.format)
      production.start({ status, headers, streaming: true })
      const reader = response.body[Symbol.asyncIterator]()
      const { doneEvent, error } = await readEvents(reader, production, stream, call)
      const done = doneEvent !== undefined
      // The rest of the body (a provider ends it a few ms after [DONE]) is read in the background
      // so the connection can be reused; nothing in it changes an answer that is already complete.
      if (done) void drain(reader)
      // From here to the store nothing waits: no follower sees [DONE] before the entry is kept.
      if (doneEvent !== undefined) production.append(doneEvent)
      // A stream that ended without [DONE], or that reported an error on the way, is passed on, never kept.
      const complete = done && error === undefined
      const completion = stream.assemble(production.events)
      const recording = complete && plan ? streamEntry(plan, status, headers, production.events, undefined, completion) : undefined
      const entry = recording?.entry
      stored = job.keep(plan, entry, recording?.counted)
      const facts = upstreamFacts(completion === undefined ? {} : answerFormatOf(prepared.format).describeAnswer(completion))
      call.end({ status, ...facts, ...(complete ? {} : { errorType: error ? 'stream_error' : 'incomplete_stream' }) })
      production.finish({
        body: noBody,
        stored: entry !== undefined,
        complete,
        usage: entry?.usage ?? facts.usage,
        ...(error === undefined ? {} : { failure: error.message }),
      })
      return
    }
    const body = await readAll(response.body)
    production.start({ status, headers, streaming: false })
    // One parse of the body serves the entry and the span.
    const answer = new AnswerJson(prepared.format, body)
    const entry = plan && jsonEntry(plan, status, headers, answer)
    stored = job.keep(plan, entry)
    const facts = isSuccess(status) ? upstreamFacts(answer.describe()) : {}
    call.end({ status, ...facts })
    if (!isSuccess(status)) failure = responseFailure(status, headers, body)
    production.finish({ body, stored: entry !== undefined, complete: true, usage: entry?.usage ?? facts.usage })
  } catch (error) {
    call.end({ errorType: AiCacheError.isInstance(error) ? error.code : signal.aborted ? 'client_aborted' : 'error' })
    // Our clients leaving says nothing of the upstream: then the waiters take over.
    if (AiCacheError.isInstance(error) && !signal.aborted) {
      failure = { kind: 'error', code: error.code, message: error.message, ...(error.retryAfterMs === undefined ? {} : { retryAfterMs: error.retryAfterMs }) }
    }
    production.fail(error)
  } finally {
    // Instances waiting on the lock look for the entry (or this failure) when it is released.
    void stored.finally(() => claim.lock?.release(failure))
  }
}

/** What reading a stream up to its end marker found. */
interface StreamRead {
  /** The `[DONE]` event, when it arrived (not yet appended to the production). */
  doneEvent: SseEvent | undefined
  /** The first error event, if the stream reported one. */
  error: { message: string } | undefined
}

/**
 * Appends the stream's events to the production until `[DONE]` or the end
 * of the body, and returns as soon as `[DONE]` arrives. `[DONE]` itself is
 * held back for the caller to append and store in one go, so a client that
 * stops reading at `[DONE]` and cancels (openai 7 does) cannot take a
 * complete stream down with it.
 */
async function readEvents(reader: AsyncIterator<Uint8Array>, production: Production, stream: StreamFormat, call: UpstreamObservation): Promise<StreamRead> {
  const parser = new SseParser()
  const read: StreamRead = { doneEvent: undefined, error: undefined }
  const take = (events: SseEvent[]) => {
    for (const event of events) {
      if (stream.isEnd(event)) {
        // Nothing after [DONE] is part of the answer.
        read.doneEvent = event
        return
      }
      production.append(event)
      call.chunk()
      read.error ??= stream.errorOf(event)
    }
  }
  for (;;) {
    const next = await reader.next()
    if (next.done) break
    take(parser.push(next.value))
    if (read.doneEvent !== undefined) return read
  }
  take(parser.end())
  return read
}

/** Reads what is left of a body, ignoring how it ends (the client may have left). */
async function drain(reader: AsyncIterator<Uint8Array>): Promise<void> {
  try {
    while (!(await reader.next()).done) {
      // Each chunk is dropped: only the end of the body matters.
    }
  } catch {
    // An abort or a cut after [DONE] changes nothing: the answer was complete.
  }
}

/** Where this request's upstream call goes, for the GenAI span. */
export function upstreamTarget(request: ExchangeRequest, prepared: PreparedRequest, upstream: URL | undefined): UpstreamTarget {
  const url = upstream ?? new URL(request.url)
  const port = url.port ? Number(url.port) : url.protocol === 'https:' ? 443 : 80
  const format = answerFormatOf(prepared.format)
  return {
    operationName: format.genAiOperation,
    model: prepared.model,
    providerName: format.providerName(url),
    address: url.hostname,
    port,
    stream: prepared.stream,
    requestBody: () => prepared.body(),
  }
}

/** Whether a response is an event stream. */
export function isEventStream(headers: CapturedHeaders): boolean {
  return headerText(headers, 'content-type').includes('text/event-stream')
}

function upstreamHeaders(headers: RequestHeaders, apiKey: string | undefined, apiKeyHeader: ApiKeyHeader): Record<string, string> {
  // The answer is read and stored, so it must arrive uncompressed.
  return { ...forwardRequestHeaders(headers, apiKey, apiKeyHeader), 'accept-encoding': 'identity' }
}

/**
 * The body to send upstream for a stream: asking for its usage (the
 * format's `requestingUsage`, OpenAI's `stream_options.include_usage`) so
 * the recording knows what the answer cost, whether or not the client asked
 * (its own answer is sent without the usage chunk then).
 */
function withUsageRequested(prepared: PreparedRequest): Buffer {
  const requestingUsage = prepared.format?.stream?.requestingUsage
  if (prepared.includeUsage || requestingUsage === undefined) return prepared.raw
  return Buffer.from(JSON.stringify(requestingUsage(prepared.body() as Record<string, unknown>)))
}

/** What an answer says of itself, for the GenAI span. */
function upstreamFacts(answer: AnswerDescription): UpstreamFacts {
  return {
    ...(answer.completionText === undefined ? {} : { completionText: answer.completionText }),
    ...(answer.responseId === undefined ? {} : { responseId: answer.responseId }),
    ...(answer.model === undefined ? {} : { responseModel: answer.model }),
    ...(answer.finishReasons === undefined ? {} : { finishReasons: answer.finishReasons }),
    ...(answer.usage === undefined ? {} : { usage: answer.usage }),
  }
}
