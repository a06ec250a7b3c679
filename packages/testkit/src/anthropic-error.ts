/** The error body shape Anthropic's API and its clients use. */
export interface AnthropicErrorBody {
  type: 'error'
  error: { type: string; message: string }
}

type ErrorDefaults = readonly [type: string, message: string]

const DEFAULTS_BY_STATUS: Record<number, ErrorDefaults> = {
  400: ['invalid_request_error', 'Bad request.'],
  401: ['authentication_error', 'invalid x-api-key'],
  403: ['permission_error', 'Your API key does not have permission to use the specified resource.'],
  404: ['not_found_error', 'Not found.'],
  413: ['request_too_large', 'Request exceeds the maximum allowed number of bytes.'],
  429: ['rate_limit_error', 'Number of request tokens has exceeded your per-minute rate limit.'],
  500: ['api_error', 'Internal server error'],
  504: ['timeout_error', 'Request timed out.'],
  529: ['overloaded_error', 'Overloaded'],
}

/** Builds an Anthropic-style error body; unknown statuses fall back to `api_error` (5xx) or `invalid_request_error`. */
export function anthropicError(status: number, message?: string): AnthropicErrorBody {
  const fallback: ErrorDefaults = status >= 500 ? ['api_error', 'Internal server error'] : ['invalid_request_error', 'Request failed.']
  const [type, defaultMessage] = DEFAULTS_BY_STATUS[status] ?? fallback
  return { type: 'error', error: { type, message: message ?? defaultMessage } }
}

/** Whether a path belongs to Anthropic's Messages API, whose answers and errors take Anthropic's shapes. */
export function isAnthropicPath(path: string): boolean {
  return path === '/v1/messages' || path.startsWith('/v1/messages/')
}
