import { hashBytes } from './hash.js'
import { positiveInteger, type JsonObject } from './json.js'
import { tokenCount } from './answers.js'
import type { RecordedCall } from './types.js'

const DEFAULT_DIMENSIONS = 16
const FLOAT32_BYTES = 4

/** Splits `input` into the items OpenAI embeds separately: a token array counts as one item. */
function inputItems(input: unknown): unknown[] {
  if (!Array.isArray(input) || input.every((item) => typeof item === 'number')) return [input]
  return input
}

function itemTokens(item: unknown): number {
  return typeof item === 'string' ? tokenCount(item) : Array.isArray(item) ? item.length : 0
}

/** A unit vector from a hash of the item, rounded to float32 so float and base64 answers decode to equal numbers. */
function vectorOf(item: unknown, dimensions: number): number[] {
  const bytes = hashBytes(item, dimensions * FLOAT32_BYTES)
  const raw = Array.from({ length: dimensions }, (_, index) => bytes.readUInt32LE(index * FLOAT32_BYTES) / 2 ** 31 - 1)
  const norm = Math.hypot(...raw) || 1
  return raw.map((value) => Math.fround(value / norm))
}

/** Little-endian float32 bytes in base64, which the official client requests by default and decodes. */
function toBase64(vector: readonly number[]): string {
  const buffer = Buffer.alloc(vector.length * FLOAT32_BYTES)
  vector.forEach((value, index) => buffer.writeFloatLE(value, index * FLOAT32_BYTES))
  return buffer.toString('base64')
}

/** A POST /v1/embeddings body with deterministic vectors. */
export function embeddingsBody(body: JsonObject, model: string): Record<string, unknown> {
  const items = inputItems(body['input'])
  const dimensions = positiveInteger(body['dimensions']) ?? DEFAULT_DIMENSIONS
  const asBase64 = body['encoding_format'] === 'base64'
  const data = items.map((item, index) => {
    const vector = vectorOf(item, dimensions)
    return { object: 'embedding', index, embedding: asBase64 ? toBase64(vector) : vector }
  })
  const promptTokens = items.reduce((sum: number, item) => sum + itemTokens(item), 0)
  return { object: 'list', data, model, usage: { prompt_tokens: promptTokens, total_tokens: promptTokens } }
}

/**
 * The inputs one recorded `POST /v1/embeddings` call asked to embed, in
 * order (a token array is one input), or `[]` for any other call: what a
 * test counts to see which inputs reached the upstream.
 *
 * @example
 * ```ts
 * const sent = fake.calls.map(embeddedInputs) // [['a', 'b'], ['c']]
 * ```
 */
export function embeddedInputs(call: Pick<RecordedCall, 'path' | 'body'>): unknown[] {
  if (call.path !== '/v1/embeddings' || call.body === null || typeof call.body !== 'object') return []
  return inputItems((call.body as Record<string, unknown>)['input'])
}
