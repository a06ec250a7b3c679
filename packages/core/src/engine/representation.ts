import type { ApiFormat, StreamFormat } from '../formats/format.js'
import { answerFormatOf, streamFormatOf } from '../formats/registry.js'
import type { CacheEntry } from '../store/entry.js'
import { type SseEvent, serializeEvents } from '../stream/sse.js'

/** How a request wants its answer. */
export interface Wanted {
  stream: boolean
  /** `stream_options.include_usage`: the usage chunk at the end of a stream. */
  includeUsage: boolean
  /** The request's format, which converts between its streams and whole answers; `undefined` for an app's own route. */
  format?: ApiFormat | undefined
}

/** An answer in the form a request asked for. */
export interface Representation {
  headers: Record<string, string>
  body: Buffer
  /** Events to replay, for paced replay of streams. */
  events?: readonly SseEvent[]
}

/** Headers of an event-stream answer. */
export const eventStreamHeaders: Readonly<Record<string, string>> = Object.freeze({
  'content-type': 'text/event-stream; charset=utf-8',
  'cache-control': 'no-cache',
})

/** Events as the client asked for them: without the usage chunk unless asked. */
export function eventsFor(events: readonly SseEvent[], includeUsage: boolean, stream: StreamFormat): readonly SseEvent[] {
  const isUsageOnly = stream.isUsageOnly
  return includeUsage || isUsageOnly === undefined ? events : events.filter((event) => !isUsageOnly(event))
}

function sseBody(events: readonly SseEvent[]): Buffer {
  return Buffer.from(serializeEvents(events))
}

function build(entry: CacheEntry, wanted: Wanted): Representation | undefined {
  const stream = streamFormatOf(wanted.format)
  if (entry.format === 'json') {
    if (!wanted.stream) return { headers: entry.headers, body: entry.body }
    const parsed = answerFormatOf(wanted.format).parseAnswer(entry.body)
    if (parsed === undefined) return undefined
    const events = stream.synthesize(parsed, wanted.includeUsage)
    // Not a completion (a wrapped route's own JSON): what was recorded, as it was recorded.
    if (events === undefined) return { headers: entry.headers, body: entry.body }
    return { headers: eventStreamHeaders, body: sseBody(events), events }
  }
  const recorded = entry.events ?? []
  if (wanted.stream) {
    const events = eventsFor(recorded, wanted.includeUsage, stream)
    return { headers: eventStreamHeaders, body: sseBody(events), events }
  }
  const completion = stream.assemble(recorded)
  // Not an OpenAI completion stream (a wrapped route's own events): the stream as recorded, never an invented JSON.
  if (completion === undefined) return { headers: eventStreamHeaders, body: sseBody(recorded), events: recorded }
  return { headers: { 'content-type': 'application/json' }, body: Buffer.from(JSON.stringify(completion)) }
}

// Representations are built once per entry and form, then reused by every hit.
const built = new WeakMap<CacheEntry, Map<string, Representation | null>>()

/**
 * The entry in the form the request wants: a stored stream can answer a
 * JSON request (assembled) and a stored JSON answer a stream request
 * (synthesised chunks). `undefined` when this entry cannot be shown that way.
 */
export function represent(entry: CacheEntry, wanted: Wanted): Representation | undefined {
  if (entry.format === 'json' && !wanted.stream) return { headers: entry.headers, body: entry.body }
  let forms = built.get(entry)
  if (forms === undefined) built.set(entry, (forms = new Map()))
  const form = `${wanted.stream}:${wanted.includeUsage}`
  let representation = forms.get(form)
  if (representation === undefined) forms.set(form, (representation = build(entry, wanted) ?? null))
  return representation ?? undefined
}
