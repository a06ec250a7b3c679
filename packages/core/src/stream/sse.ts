/**
 * Server-sent events as OpenAI-compatible APIs use them
 * (https://html.spec.whatwg.org/multipage/server-sent-events.html):
 * blocks separated by a blank line, payload in `data:` lines.
 */

/** One recorded event. */
export interface SseEvent {
  /** The `data:` payload; several data lines are joined with `\n`. */
  readonly data: string
  /** The `event:` name, when the stream names its events. */
  readonly event?: string
  /** Milliseconds from the start of the stream, for paced replay. */
  readonly offsetMs: number
}

/** Incremental parser: feed it bytes as they arrive, get whole events back. */
export class SseParser {
  readonly #decoder = new TextDecoder()
  readonly #startedAt: number
  #buffer = ''

  constructor(startedAt = Date.now()) {
    this.#startedAt = startedAt
  }

  /** Events completed by this chunk, which arrived at `nowMs`. */
  push(chunk: Uint8Array, nowMs = Date.now()): SseEvent[] {
    this.#buffer += this.#decoder.decode(chunk, { stream: true })
    return this.#drain(false, nowMs)
  }

  /** Events left when the stream ended (a last block without a blank line). */
  end(nowMs = Date.now()): SseEvent[] {
    this.#buffer += this.#decoder.decode()
    return this.#drain(true, nowMs)
  }

  #drain(final: boolean, nowMs: number): SseEvent[] {
    let text = this.#buffer
    if (text.includes('\r')) {
      // A '\r' ending this chunk may be the first half of a "\r\n" split across chunks: keep it as it is
      // until the next chunk says, or it would read as a line end of its own and the '\n' as a blank line.
      const held = !final && text.endsWith('\r')
      text = (held ? text.slice(0, -1) : text).replace(/\r\n?/g, '\n') + (held ? '\r' : '')
    }
    const events: SseEvent[] = []
    const offsetMs = nowMs - this.#startedAt
    let start = 0
    for (let end = text.indexOf('\n\n'); end !== -1; end = text.indexOf('\n\n', start)) {
      const event = parseBlock(text.slice(start, end), offsetMs)
      if (event !== undefined) events.push(event)
      start = end + 2
    }
    if (final) {
      const event = start < text.length ? parseBlock(text.slice(start), offsetMs) : undefined
      if (event !== undefined) events.push(event)
      this.#buffer = ''
    } else {
      this.#buffer = start === 0 ? text : text.slice(start)
    }
    return events
  }
}

function parseBlock(block: string, offsetMs: number): SseEvent | undefined {
  const data: string[] = []
  let name: string | undefined
  for (const line of block.split('\n')) {
    // Lines starting with ':' are comments (keep-alive pings); not replayed.
    if (line === '' || line.startsWith(':')) continue
    const colon = line.indexOf(':')
    const field = colon === -1 ? line : line.slice(0, colon)
    let value = colon === -1 ? '' : line.slice(colon + 1)
    if (value.startsWith(' ')) value = value.slice(1)
    if (field === 'data') data.push(value)
    else if (field === 'event') name = value
  }
  if (data.length === 0) return undefined
  return name === undefined ? { data: data.join('\n'), offsetMs } : { data: data.join('\n'), event: name, offsetMs }
}

/** The wire form of one event. */
export function serializeEvent(event: Pick<SseEvent, 'data' | 'event'>): string {
  const name = event.event === undefined ? '' : `event: ${event.event}\n`
  return `${name}data: ${event.data.split('\n').join('\ndata: ')}\n\n`
}

/** The wire form of a whole stream. */
export function serializeEvents(events: readonly Pick<SseEvent, 'data' | 'event'>[]): string {
  let text = ''
  for (const event of events) text += serializeEvent(event)
  return text
}

/**
 * The error an event reports, or `undefined` for any other event: a named
 * `event: error`, or a payload whose top-level `error` is set, which is how
 * vLLM and other OpenAI-compatible servers report a failure in the middle of
 * a stream (often followed by `[DONE]`).
 */
export function streamErrorOf(event: Pick<SseEvent, 'data' | 'event'>): { message: string } | undefined {
  if (event.event === 'error') return { message: errorMessageOf(parseData(event.data)) ?? event.data }
  // Most chunks cannot carry an error: skip parsing them.
  if (!event.data.includes('"error"')) return undefined
  const parsed = parseData(event.data)
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) return undefined
  const error = (parsed as { error?: unknown }).error
  if (error === undefined || error === null || error === false) return undefined
  return { message: errorMessageOf(parsed) ?? 'The upstream reported an error in its stream.' }
}

function parseData(data: string): unknown {
  try {
    return JSON.parse(data)
  } catch {
    return undefined
  }
}

function errorMessageOf(payload: unknown): string | undefined {
  if (payload === null || typeof payload !== 'object') return undefined
  const error = (payload as { error?: unknown }).error ?? payload
  if (typeof error === 'string') return error
  const message = (error as { message?: unknown } | null)?.message
  return typeof message === 'string' ? message : undefined
}
