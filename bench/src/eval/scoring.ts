/**
 * How a replay is scored. Pure functions over the neighbours each query
 * found, so a sweep re-scores without searching or embedding again.
 */
import type { Candidate } from './neighbours.js'

/** The part of a judge a replay calls: `undefined` serves the stored question, else the reason it is refused. */
export interface ReplayJudge {
  judge(query: string, neighbour: { key: string; text: string; similarity: number }, threshold: number): string | undefined
}

/**
 * The cached question a query is served from: the first of its nearest
 * neighbours (most similar first, at most `candidates` of them) that the
 * judge accepts, or `undefined` for a miss. Also the reason the nearest was refused.
 */
export function servedFrom(
  query: string,
  neighbours: readonly Candidate[],
  cachedTexts: readonly string[],
  judge: ReplayJudge,
  options: { threshold: number; candidates: number },
): { index: number | undefined; rejection: string | undefined } {
  let rejection: string | undefined
  const tried = Math.min(options.candidates, neighbours.length)
  for (let i = 0; i < tried; i++) {
    const { index, similarity } = neighbours[i]!
    const reason = judge.judge(query, { key: String(index), text: cachedTexts[index]!, similarity }, options.threshold)
    if (reason === undefined) return { index, rejection }
    rejection ??= reason
    // Below the threshold, every later neighbour is too.
    if (reason === 'threshold') break
  }
  return { index: undefined, rejection }
}

/** GPTCache's benchmark counts: right when the served origin is the expected one (by text). */
export interface PairScore {
  readonly right: number
  readonly wrong: number
  readonly missed: number
}

/** Scores GPTCache-style replay: `served[i]` is the origin text served for pair i, or undefined. */
export function scorePairs(expected: readonly string[], served: readonly (string | undefined)[]): PairScore {
  let right = 0
  let wrong = 0
  let missed = 0
  expected.forEach((origin, i) => {
    const answer = served[i]
    if (answer === undefined) missed++
    else if (answer === origin) right++
    else wrong++
  })
  return { right, wrong, missed }
}

/** Traffic counts and rates. An out-of-scope query is right only when it misses. */
export interface TrafficScore {
  readonly queries: number
  readonly hits: number
  readonly right: number
  readonly wrong: number
  /** hits ÷ queries */
  readonly hitRate: number
  /** right ÷ hits (1 when nothing was served) */
  readonly precision: number
  /** right ÷ queries: the share of traffic answered correctly from the cache */
  readonly precisionTimesHitRate: number
  readonly outOfScopeQueries: number
  readonly outOfScopeServed: number
  /** outOfScopeServed ÷ outOfScopeQueries (0 when there are none) */
  readonly outOfScopeServedRate: number
}

/**
 * Scores traffic: `expected[i]` is query i's intent (`undefined`: out of
 * scope), `served[i]` the intent of the cached question it was served from,
 * `null` for a miss. A hit is right only when the intents are equal.
 */
export function scoreTraffic(expected: readonly (string | undefined)[], served: readonly (string | undefined | null)[]): TrafficScore {
  let hits = 0
  let right = 0
  let outOfScopeQueries = 0
  let outOfScopeServed = 0
  expected.forEach((intent, i) => {
    const answer = served[i]
    if (intent === undefined) outOfScopeQueries++
    if (answer === null || answer === undefined) return
    hits++
    if (intent === undefined) outOfScopeServed++
    else if (answer === intent) right++
  })
  const queries = expected.length
  return {
    queries,
    hits,
    right,
    wrong: hits - right,
    hitRate: queries === 0 ? 0 : hits / queries,
    precision: hits === 0 ? 1 : right / hits,
    precisionTimesHitRate: queries === 0 ? 0 : right / queries,
    outOfScopeQueries,
    outOfScopeServed,
    outOfScopeServedRate: outOfScopeQueries === 0 ? 0 : outOfScopeServed / outOfScopeQueries,
  }
}
