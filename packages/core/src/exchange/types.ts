import type { RateLimitOptions } from '../limits/rate-limit-options.js'
/**
 * The framework-neutral port between adapters and the engine. An adapter
 * describes the incoming request as an {@link ExchangeRequest}, asks the
 * engine to handle it, and carries out the {@link Outcome} it gets back.
 */

/** Request headers with lower-case names, as Node's `IncomingHttpHeaders`. */
export type RequestHeaders = Record<string, string | string[] | undefined>

/** Response headers to send. */
export type ResponseHeaders = Record<string, string | number | string[]>

/** Response headers as frameworks report them (Node's `getHeaders()`, Koa, Fastify). */
export type CapturedHeaders = Record<string, string | number | string[] | undefined>

/**
 * Cache settings of the route a request arrived on (a Fastify route's
 * `config.aiCache`, say). The request's own headers win over them.
 */
export interface RouteDirectives {
  /** Namespace unless the request sends `x-aicache-namespace`. */
  namespace?: string
  /** TTL unless the request sends `x-aicache-ttl`. */
  ttlMs?: number
  /** The engine's `staleIfErrorMs` for this route (docs/freshness.md). */
  staleIfErrorMs?: number
  /** The engine's `staleWhileRevalidateMs` for this route (docs/freshness.md). */
  staleWhileRevalidateMs?: number
  /**
   * This route's own inbound rate limits instead of the engine's `rateLimit`
   * (`false`: none on this route). Its counters are its own: a scope's
   * budget on this route is separate from its budget elsewhere.
   */
  rateLimit?: RateLimitOptions | false
  /**
   * The semantic cache on this route (the engine's `semantic` option must
   * give an embedder): `false` off, `true` on, `{ threshold }` on with a
   * threshold of its own. Unset: as the engine's `semantic.enabled` says.
   */
  semantic?: boolean | { threshold?: number }
}

export interface ExchangeRequest {
  /** Upper-case HTTP method. */
  method: string
  /** Path without the query string, e.g. `/v1/chat/completions`. */
  path: string
  /** Path with the query string; in client mode the absolute URL. */
  url: string
  headers: RequestHeaders
  /** The body when a framework parser (such as `express.json()`) already read it. */
  parsedBody?: unknown
  /**
   * The body's original bytes, when the framework already read them
   * (Fastify's `parseAs: 'buffer'`, a body parser's `verify` hook that kept
   * them). Forwarded as they are, where `parsedBody` alone would have to be
   * serialised again.
   */
  rawBody?: Buffer
  /**
   * Reads the raw body. Fails (rejects, or throws when answering at once)
   * with an `AiCacheError` of code `body_too_large` past `maxBytes`. Called
   * at most once. May return the bytes themselves when it already holds
   * them: the engine then answers a hit without waiting on anything.
   */
  readBody(maxBytes: number): Buffer | Promise<Buffer>
  /** The raw body as a stream, for routes forwarded untouched. Not combined with `readBody`. */
  bodyStream(): AsyncIterable<Uint8Array>
  /** Aborted when the client goes away before its response is complete. */
  readonly signal: AbortSignal
  /**
   * The address of the peer that sent the request (the socket's; behind a
   * proxy, the proxy's). Identifies callers for `rateLimit.identity: 'address'`.
   */
  readonly remoteAddress?: string
  /** The framework's own request object, handed to `scope` and `key` functions. */
  native?: unknown
  /** Cache settings of the route, under the request's own headers. */
  route?: RouteDirectives
  /**
   * Where the middleware runs, for wrap mode: `'route'` when the app put it
   * on one route (`app.post('/chat', aiCache(), handler)`, a Fastify route
   * with `config.aiCache`): that route's JSON `POST`s are cached whatever
   * their shape. `'app'` (or unset) when it runs for every route: only
   * unmistakable LLM calls are cached (a string `model` with `messages`,
   * `prompt` or `input`).
   */
  mount?: 'app' | 'route'
}

/** Model and usage the app attaches to a wrapped response it produced. */
export interface ResponseMeta {
  model?: string
  usage?: TokenUsage
}

/** Token counts of one answer. */
export interface TokenUsage {
  /** Every input token, those the provider read from or wrote to its own prompt cache included. */
  inputTokens: number
  /** Every generated token, reasoning included. */
  outputTokens: number
  /**
   * Input tokens the provider read from its own prompt cache (OpenAI
   * `cached_tokens`, Anthropic `cache_read_input_tokens`): part of `inputTokens`.
   */
  cacheReadTokens?: number
  /** Input tokens the provider wrote to its prompt cache (Anthropic `cache_creation_input_tokens`): part of `inputTokens`. */
  cacheWriteTokens?: number
  /** Output tokens spent on reasoning (`reasoning_tokens`): part of `outputTokens`. */
  reasoningTokens?: number
}

/** How a wrapped handler's response ended, as the adapter saw it. */
export interface CapturedResponse {
  status: number
  headers: CapturedHeaders
  meta?: ResponseMeta
}

/**
 * Handed to the adapter on a wrap-mode miss: the handler runs, the adapter
 * reports each body chunk as the handler writes it, then how it ended. Only
 * the first ending counts; later calls are ignored.
 */
export interface WrapCapture {
  /** A chunk of the body, in order, as it is sent to the client. */
  write(chunk: Uint8Array): void
  /** The handler's response was sent completely; the body is what `write` got. */
  complete(response: CapturedResponse): void
  /** The response did not complete (client aborted, handler failed). */
  abandon(): void
}

/** A complete response for the adapter to send. */
export interface RespondOutcome {
  type: 'respond'
  status: number
  headers: ResponseHeaders
  body: Buffer
}

/** A response whose body is streamed (passthrough routes, uncached streams). */
export interface StreamOutcome {
  type: 'stream'
  status: number
  headers: ResponseHeaders
  /** Ends by itself when the request's `signal` aborts. */
  body: AsyncIterable<Uint8Array>
}

/**
 * The request is not answered by aicache: let the framework continue.
 * `body` is set when aicache read the body, so the adapter can hand it on
 * (as `req.body`); `headers` go on the handler's response; `capture` is set
 * on a wrap-mode miss.
 */
export interface NextOutcome {
  type: 'next'
  body?: unknown
  headers?: ResponseHeaders
  capture?: WrapCapture
}

export type Outcome = RespondOutcome | StreamOutcome | NextOutcome
