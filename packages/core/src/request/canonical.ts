import type { NormalizeOptions } from '../options.js'
import { maxJsonDepth, nestingTooDeepError } from './json-body.js'

/**
 * Top-level request fields that cannot change the answer, so they are left
 * out of the key. Every other field, known or unknown, is part of it: a new
 * API field can cost a hit but never cause a wrong one.
 * - `stream`, `stream_options`: how the answer is delivered, not what it is.
 * - `user`, `safety_identifier`: abuse-monitoring ids.
 * - `prompt_cache_key`: a routing hint for the provider's prompt cache.
 * - `store`, `metadata`: whether and how the provider keeps a copy.
 */
export const fieldsOutsideKey: ReadonlySet<string> = new Set(['stream', 'stream_options', 'user', 'safety_identifier', 'prompt_cache_key', 'store', 'metadata'])

/**
 * JSON with object keys in sorted order, so two requests that differ only in
 * key order have the same text. Every own key counts, `__proto__` included.
 * Nesting deeper than {@link maxJsonDepth} throws the same 400 as a raw body
 * nested that deep (a body parsed by a framework arrives here unchecked), so
 * the recursion stays bounded.
 */
export function canonicalJson(value: unknown): string {
  return canonicalAt(value, 0)
}

function canonicalAt(value: unknown, depth: number): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null'
  if (depth >= maxJsonDepth) throw nestingTooDeepError()
  if (Array.isArray(value)) {
    let out = '['
    for (let index = 0; index < value.length; index++) {
      if (index > 0) out += ','
      out += value[index] === undefined ? 'null' : canonicalAt(value[index], depth + 1)
    }
    return out + ']'
  }
  const record = value as Record<string, unknown>
  const keys = Object.keys(record).sort()
  let out = '{'
  let first = true
  for (const key of keys) {
    const item = record[key]
    if (item === undefined) continue
    out += (first ? '' : ',') + JSON.stringify(key) + ':' + canonicalAt(item, depth + 1)
    first = false
  }
  return out + '}'
}

type TextTransform = (text: string) => string

function textTransform(normalize: Readonly<Required<NormalizeOptions>>): TextTransform | undefined {
  if (!normalize.whitespace && !normalize.case) return undefined
  return (text) => {
    let result = normalize.whitespace ? text.trim().replace(/\s+/g, ' ') : text
    if (normalize.case) result = result.toLowerCase()
    return result
  }
}

function normalizeContent(content: unknown, transform: TextTransform): unknown {
  if (typeof content === 'string') return transform(content)
  if (!Array.isArray(content)) return content
  return content.map((part: unknown) => normalizePart(part, transform))
}

function normalizePart(part: unknown, transform: TextTransform): unknown {
  if (typeof part === 'string') return transform(part)
  if (part && typeof part === 'object' && typeof (part as { text?: unknown }).text === 'string') {
    return { ...part, text: transform((part as { text: string }).text) }
  }
  return part
}

/** `input`: a string, strings, text parts, or (the Responses API) message items with their own `content`. */
function normalizeInput(input: unknown, transform: TextTransform): unknown {
  if (!Array.isArray(input)) return normalizeContent(input, transform)
  return input.map((item: unknown) =>
    item && typeof item === 'object' && 'content' in item
      ? { ...item, content: normalizeContent((item as { content?: unknown }).content, transform) }
      : normalizePart(item, transform),
  )
}

function normalizePrompts(record: Record<string, unknown>, transform: TextTransform): Record<string, unknown> {
  const copy = { ...record }
  if (Array.isArray(copy['messages'])) {
    copy['messages'] = copy['messages'].map((message: unknown) =>
      message && typeof message === 'object' ? { ...message, content: normalizeContent((message as { content?: unknown }).content, transform) } : message,
    )
  }
  if (copy['prompt'] !== undefined) copy['prompt'] = normalizeContent(copy['prompt'], transform)
  if (copy['input'] !== undefined) copy['input'] = normalizeInput(copy['input'], transform)
  // The Responses API's system prompt.
  if (typeof copy['instructions'] === 'string') copy['instructions'] = transform(copy['instructions'])
  // Anthropic Messages' system prompt: a string or text blocks.
  if (copy['system'] !== undefined) copy['system'] = normalizeContent(copy['system'], transform)
  return copy
}

/**
 * The canonical text of a request body: sorted keys, without
 * {@link fieldsOutsideKey}, with the opt-in (lossy) prompt normalisation.
 */
export function canonicalRequest(body: unknown, normalize: Readonly<Required<NormalizeOptions>>): string {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) return canonicalJson(body)
  // No prototype: on a plain object, `kept['__proto__'] = value` would set the
  // prototype instead of a field, and a top-level `__proto__` would drop out of the key.
  const kept: Record<string, unknown> = Object.create(null)
  for (const [field, value] of Object.entries(body)) {
    if (!fieldsOutsideKey.has(field)) kept[field] = value
  }
  const transform = textTransform(normalize)
  return canonicalJson(transform ? normalizePrompts(kept, transform) : kept)
}
