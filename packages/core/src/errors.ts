/**
 * Stable string codes for every error aicache produces. They appear as
 * `error.code` in OpenAI-style error bodies and on {@link AiCacheError}.
 */
export type AiCacheErrorCode =
  | 'invalid_option'
  | 'invalid_json'
  | 'nesting_too_deep'
  | 'invalid_type'
  | 'missing_field'
  | 'invalid_value'
  | 'body_too_large'
  | 'unsupported_media_type'
  | 'invalid_path'
  | 'method_not_allowed'
  | 'not_cached'
  | 'upstream_unreachable'
  | 'upstream_timeout'
  | 'upstream_overloaded'
  | 'circuit_open'
  | 'rate_limited'
  | 'internal_error'

const statusByCode: Record<AiCacheErrorCode, number> = {
  invalid_option: 500,
  invalid_json: 400,
  nesting_too_deep: 400,
  invalid_type: 400,
  missing_field: 400,
  invalid_value: 400,
  body_too_large: 413,
  unsupported_media_type: 415,
  // A forwarded path that would leave the upstream's base path (docs/security.md).
  invalid_path: 400,
  // RFC 9110 section 15.5.6: the method is known but refused here (TRACE).
  method_not_allowed: 405,
  // RFC 9111 section 5.2.1.7: only-if-cached with nothing stored answers 504.
  not_cached: 504,
  upstream_unreachable: 502,
  upstream_timeout: 504,
  // RFC 9110 section 15.6.4: 503 is the server's own temporary overload. The
  // concurrency cap protects aicache and the upstream for every caller, so it
  // is not 429 ("this client sent too many"). Clients retry both.
  upstream_overloaded: 503,
  circuit_open: 503,
  // RFC 6585 section 4: this caller's scope went over its rate limit.
  rate_limited: 429,
  // A fault of aicache itself (a bug): logged with its cause, answered without it.
  internal_error: 500,
}

/** Options for {@link AiCacheError}. */
export interface AiCacheErrorOptions {
  /** The request field or option the error is about. */
  param?: string
  cause?: unknown
  /** When the caller may try again; sets the error's `retry-after` header (seconds, rounded up). */
  retryAfterMs?: number
  /** Extra response headers, e.g. `x-ratelimit-*` on a rate-limit rejection. */
  headers?: Record<string, string>
}

// Symbol.for: the ESM and the CommonJS build each define this class, and an
// app can load both; the registered symbol is the same in both, `instanceof`
// is not (see docs/decisions/0015-brands-across-module-builds.md).
const errorBrand = Symbol.for('aicache.error')

/**
 * The one error class of aicache. Errors caused by a request are turned into
 * an OpenAI-style error response with {@link toOpenAiError}; errors in options
 * are thrown at start-up.
 *
 * @example
 * ```ts
 * throw new AiCacheError('invalid_type', "Invalid type for 'messages': expected an array", { param: 'messages' })
 * ```
 */
export class AiCacheError extends Error {
  override readonly name = 'AiCacheError'
  /** Marks aicache errors of either module build; see {@link AiCacheError.isInstance}. */
  readonly [errorBrand] = true
  readonly code: AiCacheErrorCode
  /** The HTTP status this error is answered with. */
  readonly status: number
  readonly param: string | undefined
  /** When the caller may try again, if known (overload, open circuit, rate limit). */
  readonly retryAfterMs: number | undefined
  /**
   * Headers to answer with: `options.headers` plus `retry-after` (RFC 9110
   * section 10.2.3, whole seconds rounded up) when `retryAfterMs` is set.
   */
  readonly headers: Readonly<Record<string, string>>

  constructor(code: AiCacheErrorCode, message: string, options: AiCacheErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause })
    this.code = code
    this.status = statusByCode[code]
    this.param = options.param
    this.retryAfterMs = options.retryAfterMs
    const headers = { ...options.headers }
    if (options.retryAfterMs !== undefined && headers['retry-after'] === undefined) {
      headers['retry-after'] = String(Math.max(0, Math.ceil(options.retryAfterMs / 1000)))
    }
    this.headers = Object.freeze(headers)
  }

  /**
   * Whether `value` is an aicache error, from this build or the other one
   * (ESM or CommonJS). Use it instead of `instanceof`, which is false for an
   * error made by the other build.
   *
   * @example
   * ```ts
   * if (AiCacheError.isInstance(error) && error.code === 'rate_limited') retryLater(error.retryAfterMs)
   * ```
   */
  static isInstance(value: unknown): value is AiCacheError {
    return typeof value === 'object' && value !== null && (value as { [errorBrand]?: unknown })[errorBrand] === true
  }
}

/** The body OpenAI answers errors with; official clients parse this shape. */
export interface OpenAiErrorBody {
  error: { message: string; type: string; code: string | null; param: string | null }
}

/** Turns an {@link AiCacheError} into the OpenAI error body. */
export function toOpenAiError(error: AiCacheError): OpenAiErrorBody {
  const type = error.status >= 500 ? 'api_error' : 'invalid_request_error'
  return { error: { message: error.message, type, code: error.code, param: error.param ?? null } }
}
