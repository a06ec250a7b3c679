import type { CapturedHeaders, ResponseMeta } from '../exchange/types.js'
import { estimateUsage } from '../request/tokens.js'
import type { Operation } from '../request/operation.js'
import { type CacheEntry, storedHeaderNames } from '../store/entry.js'
import { assembleCompletion } from '../stream/assemble.js'
import { isUsageChunk, type SseEvent, streamErrorOf } from '../stream/sse.js'
import { inspectAnswer, usageOf } from './answer.js'

/** Where and for how long a miss's answer is kept. */
export interface StorePlan {
  key: string
  ttlMs: number
  operation: Operation | undefined
  model: string | undefined
  /** The request body, for estimating usage when the answer has none. */
  requestBody: () => unknown
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

/** The entry for a whole (non-stream) answer, or `undefined` when it must not be kept. */
export function jsonEntry(
  plan: StorePlan,
  status: number,
  headers: CapturedHeaders,
  body: Buffer,
  meta?: ResponseMeta,
): CacheEntry | undefined {
  const facts = inspectAnswer(plan.operation, status, headers, body, meta)
  if (facts === undefined) return undefined
  return {
    version: 1,
    format: 'json',
    status,
    headers: pickStoredHeaders(headers),
    body: ownBytes(body),
    events: undefined,
    model: facts.model ?? plan.model,
    usage: facts.usage,
    createdAt: Date.now(),
    ttlMs: plan.ttlMs,
  }
}

function answerText(completion: Record<string, unknown> | undefined): string {
  const choices = (completion?.['choices'] ?? []) as Array<{ text?: string; message?: { content?: string | null; tool_calls?: Array<{ function?: { arguments?: string } }> } }>
  return choices
    .map((choice) => choice.text ?? [choice.message?.content ?? '', ...(choice.message?.tool_calls ?? []).map((call) => call.function?.arguments ?? '')].join(''))
    .join('')
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
 * generation, even when `[DONE]` follows). Usage comes from the stream's
 * usage chunk, else from a token count of the prompt and the recorded text.
 */
export function streamEntry(
  plan: StorePlan,
  status: number,
  headers: CapturedHeaders,
  events: readonly SseEvent[],
  meta?: ResponseMeta,
  completion = assembleCompletion(events),
): StreamRecording | undefined {
  if (status < 200 || status > 299 || events.length === 0) return undefined
  if (events.some((event) => streamErrorOf(event) !== undefined)) return undefined
  // The usage chunk comes last, just before [DONE].
  const usageEvent = events.findLast(isUsageChunk)
  const usage = meta?.usage ?? (usageEvent ? usageOf((JSON.parse(usageEvent.data) as { usage?: unknown }).usage) : undefined)
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
  const counted = estimateUsage(plan.requestBody(), answerText(completion)).then(
    (estimated): CacheEntry => ({ ...entry, usage: estimated }),
    () => undefined,
  )
  return { entry, counted }
}
