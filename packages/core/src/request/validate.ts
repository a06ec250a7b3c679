import { AiCacheError } from '../errors.js'
import type { ApiFormat } from '../formats/format.js'

/** What the engine needs to know of a valid request. */
export interface ValidRequest {
  model: string
  stream: boolean
  /** `stream_options.include_usage`: the client wants the usage chunk. */
  includeUsage: boolean
}

/** A JSON value's kind, as error messages name it. */
export type JsonKind = 'string' | 'number' | 'integer' | 'boolean' | 'array' | 'object' | 'null'

function kindOf(value: unknown): JsonKind {
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'array'
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number'
  return typeof value as JsonKind
}

const article = (kind: string) => (/^[aeiou]/.test(kind) ? `an ${kind}` : `a ${kind}`)

/** Throws an `invalid_type` error naming `param` unless `value` is absent or of an allowed kind. */
export function checkField(param: string, value: unknown, allowed: readonly JsonKind[]): void {
  if (value === undefined) return
  const kind = kindOf(value)
  if (allowed.includes(kind) || (kind === 'integer' && allowed.includes('number'))) return
  const expected = allowed.map(article).join(' or ')
  throw new AiCacheError('invalid_type', `Invalid type for '${param}': expected ${expected}, but got ${article(kind)} instead.`, { param })
}

/** Throws a `missing_field` error naming `param` when `value` is absent. */
export function requireField(param: string, value: unknown): void {
  if (value === undefined) {
    throw new AiCacheError('missing_field', `Missing required parameter: '${param}'.`, { param })
  }
}

// Types of the optional fields real clients send; unknown fields pass, so a
// new API field never breaks a request (it only becomes part of the key).
const optionalFields: Record<string, readonly JsonKind[]> = {
  stream: ['boolean', 'null'],
  stream_options: ['object', 'null'],
  temperature: ['number', 'null'],
  top_p: ['number', 'null'],
  n: ['integer', 'null'],
  max_tokens: ['integer', 'null'],
  max_completion_tokens: ['integer', 'null'],
  presence_penalty: ['number', 'null'],
  frequency_penalty: ['number', 'null'],
  seed: ['integer', 'null'],
  stop: ['string', 'array', 'null'],
  tools: ['array', 'null'],
  tool_choice: ['string', 'object', 'null'],
  response_format: ['object', 'null'],
  logit_bias: ['object', 'null'],
  user: ['string', 'null'],
  dimensions: ['integer', 'null'],
  encoding_format: ['string', 'null'],
}

/**
 * Checks the shape of a request body (the fields every format shares here,
 * its own fields by `format.validate`) and returns what the engine needs of
 * it. Throws an {@link AiCacheError} naming the field.
 */
export function validateRequest(format: ApiFormat, body: unknown): ValidRequest {
  if (kindOf(body) !== 'object') {
    throw new AiCacheError('invalid_type', `The request body must be a JSON object, but got ${article(kindOf(body))}.`)
  }
  const record = body as Record<string, unknown>
  requireField('model', record['model'])
  checkField('model', record['model'], ['string'])
  for (const [field, kinds] of Object.entries(optionalFields)) checkField(field, record[field], kinds)
  format.validate(record)
  const streamOptions = record['stream_options'] as { include_usage?: unknown } | null | undefined
  return {
    model: record['model'] as string,
    stream: record['stream'] === true,
    includeUsage: streamOptions?.include_usage === true,
  }
}
