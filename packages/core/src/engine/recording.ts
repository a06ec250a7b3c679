import type { CapturedHeaders, ResponseMeta } from '../exchange/types.js'
import type { ApiFormat } from '../formats/format.js'
import { answerFormatOf, streamFormatOf } from '../formats/registry.js'
import { estimateUsage } from '../request/tokens.js'
import { type CacheEntry, storedHeaderNames } from '../store/entry.js'
import type { SseEvent } from '../stream/sse.js'
import { AnswerJson, inspectAnswer } from './answer.js'

/** Where and for how long a miss's answer is kept. */
export interface StorePlan {
  key: string
  ttlMs: number
  /** The request's format; `undefined` for an app's own route (wrap mode). */
  format: ApiFormat | undefined
  model: string | undefined
  /** The request body, for estimating usage when the answer has none. */
  requestBody: () => unknown
  /** How long past its freshness the tiers keep the entry for stale answers (freshness/). @default 0 */
  graceMs?: number
}

/**
 * The bytes in a buffer of their own. A small Buffer is often a slice of
 * Node's shared 8 KiB pool; keeping it would keep the whole block alive
 * (a 1 KiB entry holding 8 KiB) behind the tier's byte count.
 */
function ownBytes(body: Buffer): Buffer {
  if (body.byteOffset === 0 && body.buffer.byteLength === body.byteLength) return body
  const own = Buffer.allocUnsafeSlow(body.byteLength)
  body.copy(own)
  return own
}

/** Response headers that an entry keeps. */
export function pickStoredHeaders(headers: CapturedHeaders): Record<string, string> {
  const out: Record<string, string> = {}
  for (const name of storedHeaderNames) {
    const value = headers[name]
    if (value !== undefined) out[name] = Array.isArray(value) ? value.join(', ') : String(value)
  }
  return out
}

/**
 * The entry for a whole (non-stream) answer, or `undefined` when it must not
 * be kept. Pass the answer's {@link AnswerJson} when it is read elsewhere too
 * (the GenAI span), so its body is parsed once.
 */
export function jsonEntry(plan: StorePlan, status: number, headers: CapturedHeaders, body: Buffer | AnswerJson, meta?: ResponseMeta): CacheEntry | undefined {
  const answer = body instanceof AnswerJson ? body : new AnswerJson(plan.format, body)
  const facts = inspectAnswer(plan.format, status, headers, answer, meta)
  if (facts === undefined) return undefined
  return {
    version: 1,
    format: 'json',
    status,
    headers: pickStoredHeaders(headers),
    body: ownBytes(answer.bytes),
    events: undefined,
    model: facts.model ?? plan.model,
    usage: facts.usage,
    createdAt: Date.now(),
    ttlMs: plan.ttlMs,
  }
}

/** A stream's entry, and, when its usage had to be counted, the same entry with the count. */
export interface StreamRecording {
  entry: CacheEntry
  /**
   * Set when the stream reported no usage: the entry with usage counted by
   * the tokenizer (in its worker), or `undefined` if counting failed. The
   * entry is stored at once without it, so an identical request right after
   * the stream ended is already a hit; the counted entry replaces it.
   */
  counted?: Promise<CacheEntry | undefined>
}

/**
 * The entry for a stream that ended cleanly, or `undefined` when it must not
 * be kept: not a 2xx, empty, or with an error event anywhere in it (a failed
 * generation, even when `[DONE]` follows). Usage is what the stream reported
 * (OpenAI's usage chunk; the format's `stream.usageOf`), else a token count
 * of the prompt and the text of the assembled answer.
 */
export function streamEntry(
  plan: StorePlan,
  status: number,
  headers: CapturedHeaders,
  events: readonly SseEvent[],
  meta?: ResponseMeta,
  completion?: Record<string, unknown>,
): StreamRecording | undefined {
  if (status < 200 || status > 299 || events.length === 0) return undefined
  const format = answerFormatOf(plan.format)
  const stream = streamFormatOf(plan.format)
  if (events.some((event) => stream.errorOf(event) !== undefined)) return undefined
  completion ??= stream.assemble(events)
  const usage = meta?.usage ?? stream.usageOf(events)
  const model = meta?.model ?? (typeof completion?.['model'] === 'string' ? completion['model'] : plan.model)
  const entry: CacheEntry = {
    version: 1,
    format: 'sse',
    status,
    headers: pickStoredHeaders(headers),
    body: Buffer.alloc(0),
    events,
    model,
    usage,
    createdAt: Date.now(),
    ttlMs: plan.ttlMs,
  }
  if (usage !== undefined || completion === undefined) return { entry }
  const counted = estimateUsage(plan.requestBody(), format.outputText(completion), plan.format).then(
    (estimated): CacheEntry => ({ ...entry, usage: estimated }),
    () => undefined,
  )
  return { entry, counted }
}
