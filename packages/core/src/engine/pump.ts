import { AiCacheError } from '../errors.js'
import type { CapturedHeaders, ExchangeRequest, RequestHeaders } from '../exchange/types.js'
import type { Production } from '../flight/production.js'
import type { CacheEntry } from '../store/entry.js'
import type { SharedFailure } from '../store/redis-layer.js'
import { responseFailure } from '../store/shared-failure.js'
import { assembleCompletion } from '../stream/assemble.js'
import { doneData, SseParser, type SseEvent } from '../stream/sse.js'
import type { UpstreamFacts, UpstreamObservation, UpstreamTarget } from '../telemetry/telemetry.js'
import { forwardRequestHeaders, readAll } from '../upstream/headers.js'
import type { Upstream } from '../upstream/types.js'
import { headerText, usageOf } from './answer.js'
import { type Claim, feedFromClaim, isSuccess } from './follow.js'
import type { PreparedRequest } from './prepare.js'
import { jsonEntry, type StorePlan, type StreamRecording, streamEntry } from './recording.js'

const noBody = Buffer.alloc(0)

/** Everything one upstream call for a production needs. */
export interface PumpJob {
  request: ExchangeRequest
  prepared: PreparedRequest
  upstream: Upstream
  upstreamApiKey: string | undefined
  production: Production
  /** Aborted when every request following the production has gone. */
  signal: AbortSignal
  plan: StorePlan | undefined
  /** Starts the upstream call's observation, when a call is really made. */
  startCall: () => UpstreamObservation
  /** Another instance answered: no call was made here. */
  onRemoteAnswer: () => void
  /** Cross-instance single-flight (see the engine). */
  claim: (key: string) => Promise<Claim>
  /** Stores an entry (then its counted version, see {@link StreamRecording}); resolves when the remote tier has it. */
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
        headers: upstreamHeaders(request.headers, job.upstreamApiKey),
        body: prepared.stream ? withUsageRequested(prepared) : prepared.raw,
        signal,
        onRetry: (attempt, reason) => call.retried(attempt, reason),
      }),
    )
    const { status, headers } = response
    if (isSuccess(status) && isEventStream(headers)) {
      production.start({ status, headers, streaming: true })
      const parser = new SseParser()
      let done = false
      const take = (events: SseEvent[]) => {
        for (const event of events) {
          if (done) return
          production.append(event)
          done = event.data === doneData
        }
      }
      for await (const chunk of response.body) take(parser.push(chunk))
      take(parser.end())
      // A stream that ended without [DONE] was cut short: pass it on, never keep it.
      const completion = assembleCompletion(production.events)
      const recording = done && plan ? streamEntry(plan, status, headers, production.events, undefined, completion) : undefined
      const entry = recording?.entry
      stored = job.keep(plan, entry, recording?.counted)
      const facts = answerFacts(completion)
      call.end({ status, ...facts, ...(done ? {} : { errorType: 'incomplete_stream' }) })
      production.finish({ body: noBody, stored: entry !== undefined, complete: done, usage: entry?.usage ?? facts.usage })
      return
    }
    const body = await readAll(response.body)
    production.start({ status, headers, streaming: false })
    const entry = plan && jsonEntry(plan, status, headers, body)
    stored = job.keep(plan, entry)
    const facts = isSuccess(status) ? answerFacts(parseJson(body)) : {}
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

/** Where this request's upstream call goes, for the GenAI span. */
export function upstreamTarget(request: ExchangeRequest, prepared: PreparedRequest, upstream: URL | undefined): UpstreamTarget {
  const url = upstream ?? new URL(request.url)
  const port = url.port ? Number(url.port) : url.protocol === 'https:' ? 443 : 80
  return {
    operation: prepared.operation ?? 'chat',
    model: prepared.model,
    providerName: url.hostname.endsWith('.openai.azure.com') ? 'azure.ai.openai' : 'openai',
    address: url.hostname,
    port,
    promptText: () => JSON.stringify((prepared.body() as { messages?: unknown; prompt?: unknown; input?: unknown }) ?? {}),
  }
}

/** Whether a response is an event stream. */
export function isEventStream(headers: CapturedHeaders): boolean {
  return headerText(headers, 'content-type').includes('text/event-stream')
}

function upstreamHeaders(headers: RequestHeaders, apiKey: string | undefined): Record<string, string> {
  // The answer is read and stored, so it must arrive uncompressed.
  return { ...forwardRequestHeaders(headers, apiKey), 'accept-encoding': 'identity' }
}

/**
 * The body to send upstream for a stream: with `stream_options.include_usage`
 * so the recording knows what the answer cost, whether or not the client
 * asked (its own answer is sent without the usage chunk then).
 */
function withUsageRequested(prepared: PreparedRequest): Buffer {
  if (prepared.includeUsage || prepared.operation === 'embeddings') return prepared.raw
  const body = prepared.body() as Record<string, unknown>
  const streamOptions = (body['stream_options'] as Record<string, unknown> | null | undefined) ?? {}
  return Buffer.from(JSON.stringify({ ...body, stream_options: { ...streamOptions, include_usage: true } }))
}

function parseJson(body: Buffer): unknown {
  try {
    return JSON.parse(body.toString('utf8'))
  } catch {
    return undefined
  }
}

/** What an OpenAI answer says of itself, for the GenAI span. */
function answerFacts(answer: unknown): UpstreamFacts {
  if (answer === null || typeof answer !== 'object') return {}
  const record = answer as {
    id?: unknown
    model?: unknown
    usage?: unknown
    choices?: Array<{ finish_reason?: unknown; text?: unknown; message?: { content?: unknown } }>
  }
  const finishReasons = (record.choices ?? []).map((choice) => choice.finish_reason).filter((reason) => typeof reason === 'string')
  const first = record.choices?.[0]
  const text = first?.message?.content ?? first?.text
  return {
    ...(typeof text === 'string' ? { completionText: text } : {}),
    ...(typeof record.id === 'string' ? { responseId: record.id } : {}),
    ...(typeof record.model === 'string' ? { responseModel: record.model } : {}),
    ...(finishReasons.length > 0 ? { finishReasons: finishReasons as string[] } : {}),
    ...(record.usage === undefined ? {} : { usage: usageOf(record.usage) }),
  }
}
