import type { CapturedHeaders, ResponseMeta, TokenUsage } from '../exchange/types.js'
import type { AnswerDescription, ApiFormat } from '../formats/format.js'
import { answerFormatOf } from '../formats/registry.js'

/** What a cacheable answer said about itself. */
export interface AnswerFacts {
  model: string | undefined
  usage: TokenUsage | undefined
}

/** A header's value as one lower-case string ('' when absent). */
export function headerText(headers: CapturedHeaders, name: string): string {
  const value = headers[name]
  return (Array.isArray(value) ? value.join(',') : String(value ?? '')).toLowerCase()
}

/**
 * A whole answer's body, parsed by its format on first use and never again:
 * the shape check, usage, model, the recording and the GenAI span of one
 * answer all read this one parse.
 */
export class AnswerJson {
  readonly bytes: Buffer
  readonly #format: ApiFormat
  #parsed = false
  #value: unknown
  #description: AnswerDescription | undefined

  /** @param format the request's format; `undefined` for an app's own route (see `answerFormatOf`) */
  constructor(format: ApiFormat | undefined, bytes: Buffer) {
    this.#format = answerFormatOf(format)
    this.bytes = bytes
  }

  /** The parsed body, `undefined` when it is not JSON. */
  value(): unknown {
    if (!this.#parsed) {
      this.#parsed = true
      this.#value = this.#format.parseAnswer(this.bytes)
    }
    return this.#value
  }

  /** The body as a JSON object, `undefined` when it is not one. */
  record(): Record<string, unknown> | undefined {
    const value = this.value()
    return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined
  }

  /** What the answer says of itself (nothing when it is not a JSON object). */
  describe(): AnswerDescription {
    if (this.#description === undefined) {
      const record = this.record()
      this.#description = record === undefined ? {} : this.#format.describeAnswer(record)
    }
    return this.#description
  }
}

/**
 * Decides whether an answer may be stored: a 2xx JSON answer of the shape
 * its format expects, not marked `no-store` (RFC 9111 section 5.2.2.5).
 * Returns what it said of its model and usage, or `undefined` when it must
 * not be stored. An app's own route (`format` undefined) promises no shape.
 */
export function inspectAnswer(
  format: ApiFormat | undefined,
  status: number,
  headers: CapturedHeaders,
  answer: AnswerJson,
  meta?: ResponseMeta,
): AnswerFacts | undefined {
  if (status < 200 || status > 299) return undefined
  if (!headerText(headers, 'content-type').includes('json')) return undefined
  if (headerText(headers, 'cache-control').includes('no-store')) return undefined
  const parsed = answer.value()
  if (parsed === undefined) return undefined
  if (parsed === null || typeof parsed !== 'object') return format === undefined ? { model: meta?.model, usage: meta?.usage } : undefined
  const record = parsed as Record<string, unknown>
  if (format !== undefined && !format.hasAnswerShape(record)) return undefined
  const described = answer.describe()
  return {
    model: meta?.model ?? described.model,
    usage: meta?.usage ?? described.usage,
  }
}
