import type { TokenUsage } from '../exchange/types.js'
import type { SseEvent } from '../stream/sse.js'
import type { CacheEntry } from './entry.js'

/** Everything of an entry but its body, as the envelope stores it in JSON. */
export type EntryMetadata = Omit<CacheEntry, 'version' | 'body'>

type Parsed<T> = { ok: true; value: T } | { ok: false }

const invalid = { ok: false } as const
const valid = <T>(value: T): Parsed<T> => ({ ok: true, value })

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

function isFiniteNumber(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value)
}

function parseHeaders(value: unknown): Parsed<Record<string, string>> {
  if (!isRecord(value)) return invalid
  const entries = Object.entries(value)
  if (entries.some(([, header]) => typeof header !== 'string')) return invalid
  // fromEntries defines own properties: a `__proto__` name stays a plain header.
  return valid(Object.fromEntries(entries) as Record<string, string>)
}

function parseEvent(value: unknown): SseEvent | undefined {
  if (!isRecord(value) || typeof value['data'] !== 'string' || !isFiniteNumber(value['offsetMs'])) return undefined
  if (value['event'] !== undefined && typeof value['event'] !== 'string') return undefined
  return value['event'] === undefined
    ? { data: value['data'], offsetMs: value['offsetMs'] }
    : { data: value['data'], event: value['event'], offsetMs: value['offsetMs'] }
}

function parseEvents(value: unknown): Parsed<SseEvent[] | undefined> {
  if (value === undefined) return valid(undefined)
  if (!Array.isArray(value)) return invalid
  const events: SseEvent[] = []
  for (const item of value) {
    const event = parseEvent(item)
    if (event === undefined) return invalid
    events.push(event)
  }
  return valid(events)
}

function parseUsage(value: unknown): Parsed<TokenUsage | undefined> {
  if (value === undefined) return valid(undefined)
  if (!isRecord(value) || !isFiniteNumber(value['inputTokens']) || !isFiniteNumber(value['outputTokens'])) {
    return invalid
  }
  const usage: TokenUsage = { inputTokens: value['inputTokens'], outputTokens: value['outputTokens'] }
  // The parts a provider reported (its prompt cache, reasoning): a hit prices what the miss cost from them.
  for (const part of ['cacheReadTokens', 'cacheWriteTokens', 'reasoningTokens'] as const) {
    const tokens = value[part]
    if (tokens === undefined) continue
    if (!isFiniteNumber(tokens)) return invalid
    usage[part] = tokens
  }
  return valid(usage)
}

/**
 * Checks parsed JSON field by field and copies what it accepts, so that no
 * unexpected property of a foreign value reaches the engine. `undefined`
 * when anything is missing or of the wrong type.
 */
export function parseEntryMetadata(value: unknown): EntryMetadata | undefined {
  if (!isRecord(value)) return undefined
  const { format, status, model, createdAt, ttlMs } = value
  if (format !== 'json' && format !== 'sse') return undefined
  if (!Number.isInteger(status) || (status as number) < 100 || (status as number) > 599) return undefined
  if (model !== undefined && typeof model !== 'string') return undefined
  if (!isFiniteNumber(createdAt) || !isFiniteNumber(ttlMs) || ttlMs < 0) return undefined
  const headers = parseHeaders(value['headers'])
  const events = parseEvents(value['events'])
  const usage = parseUsage(value['usage'])
  if (!headers.ok || !events.ok || !usage.ok) return undefined
  // An sse entry is its events; without them it could not be replayed.
  if (format === 'sse' && events.value === undefined) return undefined
  return {
    format,
    status: status as number,
    headers: headers.value,
    events: events.value,
    model,
    usage: usage.value,
    createdAt,
    ttlMs,
  }
}
