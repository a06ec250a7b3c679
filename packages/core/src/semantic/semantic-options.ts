import { AiCacheError } from '../errors.js'
import { booleanOption, knownKeysOption, objectOption, positiveIntegerOption, positiveNumberOption } from '../option-checks.js'
import { createFlatIndex } from './index-flat.js'
import { defaultSemanticJudge, defaultSemanticThreshold } from './judge-guarded.js'
import type { Embedder, SemanticIndex, SemanticJudge } from './types.js'

/**
 * The semantic cache (docs/semantic-cache.md): on an exact miss, a request
 * whose last user turn means what a stored request's did, in an identical
 * context, is answered with the stored answer. Off unless given.
 *
 * @example
 * ```ts
 * import { createLocalEmbedder } from '@aicache/embeddings-local'
 * const cache = createAiCache({ upstream, semantic: { embed: createLocalEmbedder() } })
 * ```
 */
export interface SemanticOptions {
  /** Turns texts into vectors: `@aicache/embeddings-local`, or {@link upstreamEmbedder}. */
  embed: Embedder
  /**
   * Least cosine similarity of a neighbour that may be served (the judge may
   * ask more). @default defaultSemanticThreshold (the evaluated operating
   * point of the offline embedder and the default judge)
   */
  threshold?: number
  /**
   * Decides whether a neighbour's answer is right for the new question.
   * @default defaultSemanticJudge (numbers, negation and named-entity guards, a second opinion for borderline scores)
   */
  judge?: SemanticJudge
  /**
   * Nearest stored questions tried per lookup, most similar first: the
   * first the judge refuses ends the lookup; one whose entry is gone (or
   * cannot be shown to this request) is skipped for the next. @default 3
   */
  maxCandidates?: number
  /**
   * Whether every route uses it. `false`: only routes whose options say
   * `semantic: true` (or give a threshold) do. @default true
   */
  enabled?: boolean
  /** Longest wait for the query's embedding; past it the lookup is a miss. @default 1000 */
  embedTimeoutMs?: number
  /** Longest last user turn (in characters) compared by meaning; longer ones are exact-only. @default 2000 */
  maxTextChars?: number
  /** Stored questions this instance keeps in memory, over every context (least recently used contexts go first). @default 100_000 */
  maxEntries?: number
  /** Makes the index of one context. @default createFlatIndex */
  index?: () => SemanticIndex
}

/** {@link SemanticOptions} checked, with every default filled in. */
export interface ResolvedSemanticOptions {
  readonly embed: Embedder
  readonly threshold: number
  readonly judge: SemanticJudge
  readonly maxCandidates: number
  readonly enabled: boolean
  readonly embedTimeoutMs: number
  readonly maxTextChars: number
  readonly maxEntries: number
  readonly index: () => SemanticIndex
}

const semanticKeys = ['embed', 'threshold', 'judge', 'maxCandidates', 'enabled', 'embedTimeoutMs', 'maxTextChars', 'maxEntries', 'index']

function invalid(name: string, expected: string, value: unknown): AiCacheError {
  return new AiCacheError('invalid_option', `Option '${name}' must be ${expected}, got ${String(value)}`, { param: name })
}

/** A cosine similarity a neighbour must reach: a number in (0, 1]. */
export function thresholdOption(name: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0 || value > 1) throw invalid(name, 'a number above 0 and at most 1', value)
  return value
}

function embedderOption(name: string, value: unknown): Embedder {
  const embedder = value as Partial<Embedder> | null | undefined
  if (embedder === undefined) throw new AiCacheError('invalid_option', `Option '${name}' is required`, { param: name })
  if (embedder === null || typeof embedder !== 'object' || typeof embedder.embed !== 'function' || typeof embedder.id !== 'string' || embedder.id === '') {
    throw invalid(name, 'an embedder ({ id, embed(texts) })', value)
  }
  return embedder as Embedder
}

/** Checks `semantic` once, at creation; `undefined` when it is not given (or `false`). */
export function resolveSemanticOptions(value: unknown, name = 'semantic'): ResolvedSemanticOptions | undefined {
  if (value === undefined || value === false) return undefined
  const options = objectOption(name, value)
  knownKeysOption(name, options, semanticKeys)
  const judge = options['judge'] as SemanticJudge | undefined
  if (judge !== undefined && (judge === null || typeof judge !== 'object' || typeof judge.judge !== 'function')) {
    throw invalid(`${name}.judge`, 'a judge ({ judge(query, neighbour, threshold) })', judge)
  }
  const index = options['index']
  if (index !== undefined && typeof index !== 'function') throw invalid(`${name}.index`, 'a function that makes an index', index)
  return Object.freeze({
    embed: embedderOption(`${name}.embed`, options['embed']),
    threshold: thresholdOption(`${name}.threshold`, options['threshold'], defaultSemanticThreshold),
    judge: judge ?? defaultSemanticJudge,
    maxCandidates: positiveIntegerOption(`${name}.maxCandidates`, options['maxCandidates'], 3),
    enabled: booleanOption(`${name}.enabled`, options['enabled'], true),
    embedTimeoutMs: positiveNumberOption(`${name}.embedTimeoutMs`, options['embedTimeoutMs'], 1000),
    maxTextChars: positiveIntegerOption(`${name}.maxTextChars`, options['maxTextChars'], 2000),
    maxEntries: positiveIntegerOption(`${name}.maxEntries`, options['maxEntries'], 100_000),
    index: (index as (() => SemanticIndex) | undefined) ?? createFlatIndex,
  })
}

/**
 * A route's semantic setting (`route.semantic`): `false` turns the semantic
 * cache off on the route, `true` on (with the engine's threshold), an object
 * on with a threshold of its own.
 */
export type RouteSemanticOption = boolean | { threshold?: number }

/** Checks a route's `semantic` setting where the route is declared; returns it frozen. */
export function resolveRouteSemantic(value: unknown, name: string): RouteSemanticOption | undefined {
  if (value === undefined || typeof value === 'boolean') return value
  const options = objectOption(name, value)
  knownKeysOption(name, options, ['threshold'])
  const threshold = options['threshold']
  return Object.freeze(threshold === undefined ? {} : { threshold: thresholdOption(`${name}.threshold`, threshold, defaultSemanticThreshold) })
}
