/** The error body shape the OpenAI API and its clients use. */
export interface OpenAIErrorBody {
  error: { message: string; type: string; code: string | null; param: string | null }
}

type ErrorDefaults = readonly [type: string, code: string | null, message: string]

const DEFAULTS_BY_STATUS: Record<number, ErrorDefaults> = {
  400: ['invalid_request_error', null, 'Bad request.'],
  401: ['invalid_request_error', 'invalid_api_key', 'Incorrect API key provided.'],
  403: ['invalid_request_error', 'unsupported_country_region_territory', 'Country, region, or territory not supported.'],
  404: ['invalid_request_error', 'not_found', 'Not found.'],
  429: ['requests', 'rate_limit_exceeded', 'Rate limit reached for requests. Please try again later.'],
  500: ['server_error', 'server_error', 'The server had an error while processing your request. Sorry about that!'],
  503: ['server_error', 'service_unavailable', 'The engine is currently overloaded, please try again later.'],
}

/** Builds an OpenAI-style error body; unknown statuses fall back to a generic client or server error. */
export function openAIError(status: number, message?: string, param: string | null = null): OpenAIErrorBody {
  const fallback: ErrorDefaults = status >= 500 ? ['server_error', 'server_error', 'Server error.'] : ['invalid_request_error', null, 'Request failed.']
  const [type, code, defaultMessage] = DEFAULTS_BY_STATUS[status] ?? fallback
  return { error: { message: message ?? defaultMessage, type, code, param } }
}
