import { AiCacheError } from '../errors.js'

const gatewayPrefix = '/v1'
// What a request-target may hold once it leaves here: visible ASCII only (RFC 9112 section 3.2).
const visibleAscii = /^[\x21-\x7e]*$/
// After decoding, a segment must not hold a separator or a control character.
// eslint-disable-next-line no-control-regex -- control characters are what this refuses
const unsafeDecoded = /[/\\\x00-\x1f\x7f]/

function refuse(reason: string): never {
  throw new AiCacheError('invalid_path', `The request path ${reason}; it is not forwarded.`, { param: 'path' })
}

/**
 * Checks a gateway path (without its query) segment by segment: every
 * segment, percent-decoded once, must be a plain name. Dot segments (`..`,
 * `%2e%2e`), encoded separators (`%2f`, `%5c`), a backslash, an empty
 * segment (`//`, which a URL parser reads as the start of another host) and
 * control characters are refused, so no upstream (or proxy on the way)
 * normalising the path can take it out of the base path.
 */
function checkSegments(path: string): void {
  const segments = path.split('/')
  // segments[0] is the empty string before the leading '/'; a trailing '/' leaves an empty last one.
  for (let index = 1; index < segments.length; index++) {
    const segment = segments[index]!
    if (segment === '') {
      if (index === segments.length - 1) return
      refuse('has an empty segment (//)')
    }
    let decoded: string
    try {
      decoded = decodeURIComponent(segment)
    } catch {
      refuse('has a malformed percent-encoding')
    }
    if (decoded === '.' || decoded === '..') refuse('has a dot segment (. or ..)')
    if (unsafeDecoded.test(decoded)) refuse('has an encoded separator or a control character')
  }
}

/**
 * The request-target to send upstream for a gateway URL (`/v1/...` with its
 * query): the part after `/v1`, appended to the base URL's own path, as
 * text. It is never resolved as a URL against the base, so it can only name
 * a resource under the base path on the configured host, which is where the
 * configured upstream key may go (docs/security.md). A path that could
 * resolve elsewhere throws an `AiCacheError` of code `invalid_path` (400).
 *
 * @example
 * ```ts
 * upstreamPathOf('/openai/deployments/mine', '/v1/chat/completions?api-version=1') // '/openai/deployments/mine/chat/completions?api-version=1'
 * upstreamPathOf('/v1', '/v1/../admin') // throws invalid_path
 * ```
 */
export function upstreamPathOf(basePath: string, url: string): string {
  if (!url.startsWith(gatewayPrefix + '/')) refuse('is not under /v1/')
  if (!visibleAscii.test(url)) refuse('has characters that must be percent-encoded')
  // A fragment is never part of a request-target (RFC 9112 section 3.2).
  if (url.includes('#')) refuse('has a fragment')
  const queryStart = url.indexOf('?')
  checkSegments(queryStart < 0 ? url : url.slice(0, queryStart))
  const base = basePath.endsWith('/') ? basePath.slice(0, -1) : basePath
  return base + url.slice(gatewayPrefix.length)
}
