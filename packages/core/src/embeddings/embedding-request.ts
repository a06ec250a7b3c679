import type { NormalizeOptions } from '../options.js'
import { canonicalJson, canonicalRequest } from '../request/canonical.js'
import { digest } from '../request/key.js'

/** The two answer encodings of OpenAI's embeddings API. */
export type EmbeddingEncoding = 'float' | 'base64'

/** One input of an embeddings request: what is sent for it, and what keys it. */
export interface EmbeddingInput {
  /** The input as the client sent it: a string or an array of token ids. */
  readonly value: string | readonly number[]
  /** Digest of the input with every field that changes its vector (model, `dimensions`, unknown fields). */
  readonly digest: string
  /** At least its tokens (UTF-8 bytes, or the token ids): what the batch limits count. */
  readonly maxTokens: number
}

/** An embeddings request split into inputs, as the per-input cache serves it. */
export interface EmbeddingRequestPlan {
  readonly inputs: readonly EmbeddingInput[]
  readonly encoding: EmbeddingEncoding
  /** Every field but `input` and `encoding_format`, sent upstream with the missing inputs. */
  readonly fields: Readonly<Record<string, unknown>>
  /** Canonical text of {@link fields}: requests that agree on it may share one upstream call. */
  readonly fieldsText: string
}

const inputDomain = 'embeddings-input'

function isTokenArray(value: unknown): value is number[] {
  if (!Array.isArray(value) || value.length === 0) return false
  for (const item of value) if (typeof item !== 'number' || !Number.isInteger(item) || item < 0) return false
  return true
}

/** The items OpenAI embeds separately: one string, one token array, or an array of either. */
function itemsOf(input: unknown): Array<string | number[]> | undefined {
  if (typeof input === 'string') return input === '' ? undefined : [input]
  if (!Array.isArray(input) || input.length === 0) return undefined
  if (isTokenArray(input)) return [input]
  const items: Array<string | number[]> = []
  for (const item of input) {
    if (typeof item === 'string' && item !== '') items.push(item)
    else if (isTokenArray(item)) items.push(item)
    else return undefined
  }
  return items
}

function encodingOf(value: unknown): EmbeddingEncoding | undefined {
  if (value === undefined || value === 'float') return 'float'
  if (value === 'base64') return 'base64'
  return undefined
}

/**
 * Splits a validated embeddings body into its inputs, or `undefined` when
 * the per-input cache cannot answer it exactly as the upstream would (an
 * empty or malformed `input`, an unknown `encoding_format`): such a request
 * takes the whole-request path, where the upstream's own answer (often an
 * error) is passed on.
 *
 * An input's key is made of the canonical request without `input` and
 * `encoding_format` (so `model`, `dimensions` and any unknown field keep
 * vectors apart, and `user` is left out as for whole requests), and the
 * input itself, normalised as `normalize` says. One entry serves both encodings.
 */
export function planEmbeddings(body: unknown, normalize: Readonly<Required<NormalizeOptions>>): EmbeddingRequestPlan | undefined {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) return undefined
  const record = body as Record<string, unknown>
  const items = itemsOf(record['input'])
  const encoding = encodingOf(record['encoding_format'])
  if (items === undefined || encoding === undefined) return undefined
  const fields: Record<string, unknown> = {}
  for (const [name, value] of Object.entries(record)) {
    if (name !== 'input' && name !== 'encoding_format') fields[name] = value
  }
  const prefix = `${inputDomain}\n${canonicalRequest(fields, normalize)}\n`
  const normalizes = normalize.whitespace || normalize.case
  const inputs = items.map((value): EmbeddingInput => {
    const keyText = normalizes && typeof value === 'string' ? canonicalRequest({ input: value }, normalize) : canonicalJson(value)
    return { value, digest: digest(prefix + keyText), maxTokens: typeof value === 'string' ? Buffer.byteLength(value) : value.length }
  })
  return { inputs, encoding, fields, fieldsText: canonicalJson(fields) }
}

/** The key of one input's entry: its digest in a namespace's generation and a scope. */
export function inputKey(input: EmbeddingInput, namespace: string, generation: number, scope: string): string {
  return digest(`${namespace}\n${generation}\n${scope}\n${input.digest}`)
}
