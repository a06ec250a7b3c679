/**
 * The replays of the evaluation: which questions are cached, which arrive,
 * and the nearest cached questions of each arrival (exact search, cached on
 * disk beside the vectors).
 */
import { createHash } from 'node:crypto'
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { LabelledQuery } from './datasets.js'
import { type Candidate, exactNeighbours } from './neighbours.js'
import { cachedVectors, type TextEmbedder } from './vector-cache.js'

/** Neighbours kept per query: the judge may refuse the nearest and serve the next. */
export const NEIGHBOURS_PER_QUERY = 5

/** One replay: cached questions (with intents), arriving questions (with intents), and each arrival's neighbours. */
export interface Experiment {
  readonly name: string
  readonly cached: readonly LabelledQuery[]
  readonly queries: readonly LabelledQuery[]
  readonly neighbours: readonly (readonly Candidate[])[]
}

/** Where vectors and neighbour lists are kept between runs. */
export interface ExperimentCache {
  readonly directory: string
  readonly embedder: TextEmbedder
  readonly log: (line: string) => void
}

function neighboursFile(directory: string, embedderId: string, cached: readonly string[], queries: readonly string[]): string {
  const hash = createHash('sha256')
    .update(`${embedderId}\u0001${NEIGHBOURS_PER_QUERY}\u0001`)
    .update(cached.join('\u0000'))
    .update('\u0001')
    .update(queries.join('\u0000'))
    .digest('hex')
    .slice(0, 24)
  return join(directory, `neighbours-${embedderId}-${hash}.json`)
}

/**
 * The vectors of every text of `lists`, embedded (or read) list by list in
 * the lists' own order, so the chunks on disk stay the same however the
 * experiments later split and combine the lists.
 */
export async function embedLists(cache: ExperimentCache, lists: Record<string, readonly string[]>): Promise<Map<string, Float32Array>> {
  const vectors = new Map<string, Float32Array>()
  for (const [name, texts] of Object.entries(lists)) {
    const embedded = await cachedVectors(cache.directory, cache.embedder, texts, (done, total) => cache.log(`  ${name}: embedded ${done}/${total}`))
    texts.forEach((text, i) => vectors.set(text, embedded[i]!))
  }
  return vectors
}

/** Builds an experiment: every query's neighbours among the cached questions, found once and kept on disk. */
export function buildExperiment(
  cache: ExperimentCache,
  vectors: ReadonlyMap<string, Float32Array>,
  name: string,
  cached: readonly LabelledQuery[],
  queries: readonly LabelledQuery[],
): Experiment {
  const cachedTexts = cached.map((query) => query.text)
  const queryTexts = queries.map((query) => query.text)
  const file = neighboursFile(cache.directory, cache.embedder.id, cachedTexts, queryTexts)
  if (existsSync(file)) return { name, cached, queries, neighbours: JSON.parse(readFileSync(file, 'utf8')) as Candidate[][] }
  const vectorOf = (text: string) => {
    const vector = vectors.get(text)
    if (!vector) throw new Error(`${name}: no vector for ${JSON.stringify(text)}`)
    return vector
  }
  const started = performance.now()
  const neighbours = exactNeighbours(cachedTexts.map(vectorOf), queryTexts.map(vectorOf), NEIGHBOURS_PER_QUERY)
  cache.log(`  ${name}: exact search of ${queries.length} queries among ${cached.length} in ${((performance.now() - started) / 1000).toFixed(1)} s`)
  mkdirSync(cache.directory, { recursive: true })
  const rounded = neighbours.map((list) => list.map(({ index, similarity }) => ({ index, similarity: Math.round(similarity * 1e6) / 1e6 })))
  writeFileSync(`${file}.tmp`, JSON.stringify(rounded))
  renameSync(`${file}.tmp`, file)
  return { name, cached, queries, neighbours: rounded }
}

/** Splits a list in two by a hash of each text (stable across runs and machines): about `share` of it goes to the second part. */
export function splitByHash<T extends { text: string }>(items: readonly T[], share: number): [T[], T[]] {
  const first: T[] = []
  const second: T[] = []
  for (const item of items) {
    const bucket = createHash('sha1').update(item.text).digest().readUInt32BE(0) / 2 ** 32
    ;(bucket < share ? second : first).push(item)
  }
  return [first, second]
}
