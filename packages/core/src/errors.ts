/**
 * Stable string codes for every error aicache produces. They appear as
 * `error.code` in OpenAI-style error bodies and on {@link AiCacheError}.
 */
export type AiCacheErrorCode =
  | 'invalid_option'
  | 'invalid_json'
  | 'invalid_type'
  | 'missing_field'
  | 'invalid_value'
  | 'body_too_large'
  | 'unsupported_media_type'
  | 'not_cached'
  | 'upstream_unreachable'
  | 'upstream_timeout'

const statusByCode: Record<AiCacheErrorCode, number> = {
  invalid_option: 500,
  invalid_json: 400,
  invalid_type: 400,
  missing_field: 400,
  invalid_value: 400,
  body_too_large: 413,
  unsupported_media_type: 415,
  // RFC 9111 section 5.2.1.7: only-if-cached with nothing stored answers 504.
  not_cached: 504,
  upstream_unreachable: 502,
  upstream_timeout: 504,
}

/** Options for {@link AiCacheError}. */
export interface AiCacheErrorOptions {
  /** The request field or option the error is about. */
  param?: string
  cause?: unknown
}

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
  readonly code: AiCacheErrorCode
  /** The HTTP status this error is answered with. */
  readonly status: number
  readonly param: string | undefined

  constructor(code: AiCacheErrorCode, message: string, options: AiCacheErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause })
    this.code = code
    this.status = statusByCode[code]
    this.param = options.param
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
