import { AiCacheError } from '../errors.js'
import { resolveRateLimitOptions } from '../limits/rate-limit-options.js'
import { nonNegativeIntegerOption, objectOption } from '../option-checks.js'
import { namespacePattern } from '../request/directives.js'
import { resolveRouteSemantic } from '../semantic/semantic-options.js'
import type { RouteDirectives } from './types.js'

/**
 * Checks a route's cache settings once, where the route is declared, so a
 * bad one stops the start-up naming it (`route.ttlMs`, `route.rateLimit.tokensPerMinute`).
 * Returns them frozen; the input is not touched.
 *
 * @example
 * ```ts
 * const route = resolveRouteOptions({ namespace: 'support', rateLimit: { requestsPerMinute: 10 } })
 * ```
 */
export function resolveRouteOptions(input: RouteDirectives | undefined, name = 'route'): Readonly<RouteDirectives> | undefined {
  if (input === undefined) return undefined
  const options = objectOption(name, input) as RouteDirectives
  if (options.namespace !== undefined && (typeof options.namespace !== 'string' || !namespacePattern.test(options.namespace))) {
    throw new AiCacheError(
      'invalid_option',
      `Option '${name}.namespace' must be 1 to 128 letters, digits, '.', '_', ':' or '-', got ${String(options.namespace)}`,
      {
        param: `${name}.namespace`,
      },
    )
  }
  const ttlMs = options.ttlMs === undefined ? undefined : nonNegativeIntegerOption(`${name}.ttlMs`, options.ttlMs, 0)
  const rateLimit =
    options.rateLimit === undefined || options.rateLimit === false ? options.rateLimit : resolveRateLimitOptions(options.rateLimit, `${name}.rateLimit`)
  const resolved: RouteDirectives = {}
  if (options.namespace !== undefined) resolved.namespace = options.namespace
  if (ttlMs !== undefined) resolved.ttlMs = ttlMs
  for (const window of ['staleIfErrorMs', 'staleWhileRevalidateMs'] as const) {
    if (options[window] !== undefined) resolved[window] = nonNegativeIntegerOption(`${name}.${window}`, options[window], 0)
  }
  if (rateLimit !== undefined) resolved.rateLimit = rateLimit
  const semantic = resolveRouteSemantic(options.semantic, `${name}.semantic`)
  if (semantic !== undefined) resolved.semantic = semantic
  return Object.freeze(resolved)
}
