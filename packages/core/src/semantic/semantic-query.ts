import type { RouteDirectives } from '../exchange/types.js'
import type { ApiFormat } from '../formats/format.js'
import type { NormalizeOptions } from '../options.js'
import { canonicalRequest } from '../request/canonical.js'
import { digest } from '../request/key.js'
import { keyHeaderText } from '../engine/prepare.js'
import type { ResolvedSemanticOptions } from './semantic-options.js'

/** One request's semantic lookup: what is compared by meaning, and within which context. */
export interface SemanticLookup {
  /** The last user turn's text. */
  readonly text: string
  /** The context key: everything else of the request, with scope, namespace generation, format and embedder. */
  readonly context: string
  /** Least similarity for this request (the route's threshold, or the engine's). */
  readonly threshold: number
  /** The query's vector, once embedded: added to the index when the miss's answer is stored. */
  vector?: Float32Array
}

/** Where a request stands, for {@link semanticLookupOf}. */
export interface SemanticRequest {
  format: ApiFormat | undefined
  body: () => unknown
  headers: Readonly<Record<string, string | string[] | undefined>>
  route?: RouteDirectives | undefined
  scope: string
  namespace: string
  generation: number
}

/** `x-aicache-semantic: off`: this request is looked up by its exact key only. */
function saysOff(value: string | string[] | undefined): boolean {
  const first = Array.isArray(value) ? value[0] : value
  return first !== undefined && first.trim().toLowerCase() === 'off'
}

/**
 * The request's semantic lookup, or `undefined` when it is no candidate:
 * the route or the request turned it off, its format has no
 * `semanticQuery`, its last turn is not user text, or the text is longer
 * than `maxTextChars`. The context key hashes the canonical request without
 * that text (the exact key's canonical form, so fields outside the key stay
 * outside) with every part of the exact key but the text, and the embedder's id.
 */
export function semanticLookupOf(
  options: ResolvedSemanticOptions,
  normalize: Readonly<Required<NormalizeOptions>>,
  request: SemanticRequest,
): SemanticLookup | undefined {
  const route = request.route?.semantic
  if (route === false || (route === undefined && !options.enabled)) return undefined
  if (saysOff(request.headers['x-aicache-semantic'])) return undefined
  const format = request.format
  if (format?.semanticQuery === undefined) return undefined
  const body = request.body()
  if (body === null || typeof body !== 'object' || Array.isArray(body)) return undefined
  const record = body as Record<string, unknown>
  const query = format.semanticQuery(record)
  if (query === undefined || query.text.length > options.maxTextChars) return undefined
  // The request headers that are part of the exact key (Anthropic's `anthropic-version` and `-beta`) are part of the context.
  const note = (format.keyNote?.(record) ?? '') + (format.keyHeaders === undefined ? '' : keyHeaderText(format.keyHeaders, request.headers))
  const context = digest(
    `semantic\n${options.embed.id}\n${request.namespace}\n${request.generation}\n${request.scope}\n${format.id}\n${canonicalRequest(query.context, normalize)}${note}`,
  )
  const threshold = typeof route === 'object' ? (route.threshold ?? options.threshold) : options.threshold
  return { text: query.text, context, threshold }
}
