import { AiCacheError } from '../errors.js'
import type { ExchangeRequest, RequestHeaders } from '../exchange/types.js'
import type { ResolvedAiCacheOptions } from '../options.js'
import { canonicalRequest } from '../request/canonical.js'
import { parseJsonBody } from '../request/json-body.js'
import { digest, type KeySlot } from '../request/key.js'
import type { ApiFormat } from '../formats/format.js'
import { formatOfPath, isLlmCall } from '../formats/registry.js'
import { validateRequest } from '../request/validate.js'
import { BodyMemo } from './body-memo.js'

/** A request body, read and understood. */
export interface PreparedRequest {
  /** The request's API format; `undefined` for an app's own route (wrap mode), which answers in its own shape. */
  format: ApiFormat | undefined
  /** Digest of what was asked: the key before scope and namespace. */
  requestDigest: string
  model: string | undefined
  stream: boolean
  /** The client asked for the usage chunk of a stream. */
  includeUsage: boolean
  /** Forwarded without lookup, single-flight or store (the format's `uncached`). */
  uncached?: boolean
  /** The bytes to forward. */
  raw: Buffer
  /** The parsed body, parsed on first use. */
  body(): unknown
  /** The key last made for this body (shared by every request with the same bytes). */
  keySlot: KeySlot
}

type Understood = Pick<PreparedRequest, 'format' | 'requestDigest' | 'model' | 'stream' | 'includeUsage' | 'uncached' | 'keySlot'>

/** The request is not one aicache caches; `body` is set when it was read. */
export interface NotCached {
  notCached: true
  body?: unknown
}

function isJsonContentType(value: string | string[] | undefined): boolean {
  // What every JSON client sends, decided without splitting and lower-casing.
  if (value === 'application/json') return true
  const type = (Array.isArray(value) ? value[0] : value)?.split(';', 1)[0]?.trim().toLowerCase()
  return type === 'application/json' || (type?.endsWith('+json') ?? false)
}

function serialiseJson(parsed: unknown): Buffer {
  return Buffer.from(JSON.stringify(parsed))
}

/** The values of a format's key headers, one `\nname=value` each for those the request sends; '' when it sends none. */
export function keyHeaderText(names: readonly string[], headers: RequestHeaders): string {
  let text = ''
  for (const name of names) {
    const value = headers[name]
    if (value !== undefined) text += '\n' + name + '=' + (Array.isArray(value) ? value.join(',') : value)
  }
  return text
}

/**
 * A request read from its bytes. A class, so a hit makes one object (no
 * closure for `body()`), its fields written out rather than spread.
 */
class Prepared implements PreparedRequest {
  readonly format: ApiFormat | undefined
  readonly requestDigest: string
  readonly model: string | undefined
  readonly stream: boolean
  readonly includeUsage: boolean
  readonly uncached: boolean
  readonly raw: Buffer
  readonly keySlot: KeySlot
  #parsed: unknown

  constructor(understood: Understood, raw: Buffer, parsed: unknown) {
    this.format = understood.format
    this.requestDigest = understood.requestDigest
    this.model = understood.model
    this.stream = understood.stream
    this.includeUsage = understood.includeUsage
    this.uncached = understood.uncached === true
    this.keySlot = understood.keySlot
    this.raw = raw
    this.#parsed = parsed
  }

  body(): unknown {
    return (this.#parsed ??= parseJsonBody(this.raw))
  }
}

/**
 * Reads, parses and validates request bodies. The same bytes always give the
 * same result, so results are remembered by the bytes: a repeated request
 * skips JSON parsing, canonicalisation and hashing, so a hit does not pay for
 * them (docs/decisions/0002).
 */
export class RequestPreparer {
  readonly #options: ResolvedAiCacheOptions
  readonly #memo: BodyMemo<Understood>
  readonly #serialise: (parsed: unknown) => Buffer

  /**
   * @param serialise turns a body a framework parser already parsed, whose
   *   bytes are gone, into bytes to forward
   */
  constructor(options: ResolvedAiCacheOptions, serialise: (parsed: unknown) => Buffer = serialiseJson) {
    this.#options = options
    this.#serialise = serialise
    this.#memo = new BodyMemo<Understood>({ maxBytes: options.bodyMemoBytes })
  }

  /** Bytes the memo of request bodies holds now (at most `bodyMemoBytes`). */
  get memoBytes(): number {
    return this.#memo.bytes
  }

  /**
   * An OpenAI-compatible call (proxy and client mode). Throws on bad input.
   * Synchronous when the body's bytes are at hand (`readBody` returned them).
   */
  openAi(request: ExchangeRequest, format: ApiFormat): PreparedRequest | Promise<PreparedRequest> {
    // The original bytes win over a parsed body: serialising it again can
    // change what is forwarded (a big integer loses digits).
    // Headers that change the answer (`anthropic-version`) key it as the body does; most formats have none.
    const headerNote = format.keyHeaders === undefined ? '' : keyHeaderText(format.keyHeaders, request.headers)
    if (request.parsedBody !== undefined && request.rawBody === undefined) {
      const body = request.parsedBody
      return { ...this.#understand(format, body, headerNote), raw: this.#serialise(body), body: () => body }
    }
    this.#checkContentType(request.headers)
    const raw = request.readBody(this.#options.maxBodyBytes)
    return raw instanceof Promise ? raw.then((bytes) => this.#prepare(format, bytes, headerNote)) : this.#prepare(format, raw, headerNote)
  }

  #prepare(format: ApiFormat, raw: Buffer, headerNote: string): PreparedRequest {
    // The same bytes with other key headers are another request: the memo keeps them apart by kind.
    const kind = headerNote === '' ? format.id : format.id + headerNote
    let understood = this.#memo.get(kind, raw)
    let parsed: unknown
    if (understood === undefined) {
      parsed = parseJsonBody(raw)
      understood = this.#understand(format, parsed, headerNote)
      this.#memo.set(kind, raw, understood)
    }
    return new Prepared(understood, raw, parsed)
  }

  /** A request to one of the app's own routes (wrap mode). */
  async wrapped(request: ExchangeRequest): Promise<PreparedRequest | NotCached> {
    if (request.method !== 'POST') return { notCached: true }
    let raw: Buffer
    let body: unknown
    if (request.parsedBody !== undefined) {
      body = request.parsedBody
      raw = Buffer.from(JSON.stringify(body))
    } else {
      // Other bodies (forms, uploads) are the app's business: leave them unread.
      if (!isJsonContentType(request.headers['content-type'])) return { notCached: true }
      raw = await request.readBody(this.#options.maxBodyBytes)
      if (raw.byteLength === 0) return { notCached: true }
      body = parseJsonBody(raw)
    }
    const { match, key } = this.#options
    // A route-level mount caches its route whatever the body's shape (the
    // app asked for it there); a mount for every route only caches what is
    // unmistakably an LLM call, so an app's `POST /todos {"input": "x"}` is
    // never answered from the cache.
    const cached = match ? match(request, body) : request.mount === 'route' || isLlmCall(body)
    if (!cached) return { notCached: true, body }
    const keyText = key ? key(request, body) : canonicalRequest(body, this.#options.normalize)
    if (keyText === undefined) return { notCached: true, body }
    const record = body as Record<string, unknown> | null
    const model = typeof record?.['model'] === 'string' ? record['model'] : undefined
    return {
      // The app's own routes answer in their own shape; only a gateway path
      // promises an OpenAI one.
      format: formatOfPath(request.path),
      requestDigest: digest(`${request.method} ${request.path}\n${keyText}`),
      model,
      stream: record?.['stream'] === true,
      includeUsage: (record?.['stream_options'] as { include_usage?: unknown } | undefined)?.include_usage === true,
      raw,
      body: () => body,
      keySlot: {},
    }
  }

  #understand(format: ApiFormat, body: unknown, headerNote: string): Understood {
    const { model, stream, includeUsage } = validateRequest(format, body)
    const note = format.keyNote?.(body as Record<string, unknown>) ?? ''
    const requestDigest = digest(format.id + '\n' + canonicalRequest(body, this.#options.normalize) + note + headerNote)
    const uncached = format.uncached?.(body as Record<string, unknown>) === true
    return { format, requestDigest, model, stream, includeUsage, uncached, keySlot: {} }
  }

  #checkContentType(headers: RequestHeaders): void {
    // A missing type is read as JSON, as the OpenAI API does; a different one is refused.
    if (headers['content-type'] !== undefined && !isJsonContentType(headers['content-type'])) {
      throw new AiCacheError('unsupported_media_type', `Unsupported Content-Type '${String(headers['content-type'])}': send the body as application/json.`)
    }
  }
}
