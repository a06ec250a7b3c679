/**
 * Scenario: semantic-lookup. The cost of a semantic lookup with the
 * embedding excluded: nearest-neighbour search among the stored questions
 * of one scope, then the default judge (threshold and guards) on what it
 * found. Measured for the approximate index (usearch HNSW) at 100,000
 * entries, beside the exact index, with the recall of the approximate one
 * and the offline embedder's time per sentence.
 *
 * Vectors are synthetic but shaped like a cache's: clusters of paraphrases
 * (a topic vector plus noise), 512 dimensions like `use-lite-512`.
 */
import { createFlatIndex, createUsearchIndex, defaultSemanticJudge, defaultSemanticThreshold, type SemanticIndex } from '@aicache/core'
import { createLocalEmbedder } from '@aicache/embeddings-local'
import type { RunPlan } from '../plan.js'
import type { Headline, Scenario, ScenarioReport } from '../scenario.js'
import { percentile } from '../statistics.js'

const DIMENSIONS = 512
const GOAL_MS = 1
const SIZES = {
  full: { entries: 100_000, lookups: 2_000, exactLookups: 50, sentences: 200 },
  quick: { entries: 5_000, lookups: 200, exactLookups: 20, sentences: 20 },
} as const

// A small deterministic generator: the same vectors in every run.
function generator(seed: number): () => number {
  let state = seed >>> 0
  return () => {
    state = (state + 0x6d2b79f5) >>> 0
    let t = state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296 - 0.5
  }
}

function clusteredVectors(count: number, seed: number): Float32Array[] {
  const random = generator(seed)
  const topics = Array.from({ length: Math.max(1, Math.floor(count / 20)) }, () => Float32Array.from({ length: DIMENSIONS }, random))
  return Array.from({ length: count }, (_, i) => {
    const topic = topics[i % topics.length]!
    return Float32Array.from({ length: DIMENSIONS }, (_, d) => topic[d]! + 0.35 * random())
  })
}

const text = (i: number) => `How do I change the limit of card ${i % 7} for account ${i % 13}?`

interface Timing {
  p50Ms: number
  p90Ms: number
  cpuP50Ms: number
}

function timeLookups(index: SemanticIndex, queries: readonly Float32Array[]): Timing & { found: string[] } {
  const wall: number[] = []
  const cpu: number[] = []
  const found: string[] = []
  for (let i = 0; i < queries.length; i++) {
    const cpuStart = process.cpuUsage()
    const started = performance.now()
    const neighbours = index.nearest(queries[i]!, 3)
    for (const neighbour of neighbours) if (defaultSemanticJudge.judge(text(i), neighbour, defaultSemanticThreshold) === undefined) break
    wall.push(performance.now() - started)
    const used = process.cpuUsage(cpuStart)
    cpu.push((used.user + used.system) / 1000)
    found.push(neighbours[0]?.key ?? '')
  }
  wall.sort((a, b) => a - b)
  cpu.sort((a, b) => a - b)
  return { p50Ms: percentile(wall, 50), p90Ms: percentile(wall, 90), cpuP50Ms: percentile(cpu, 50), found }
}

async function embeddingMsPerSentence(count: number): Promise<{ loadMs: number; perSentenceMs: number }> {
  const embedder = createLocalEmbedder()
  try {
    const loadStarted = performance.now()
    await embedder.ready()
    const loadMs = performance.now() - loadStarted
    const sentences = Array.from({ length: count }, (_, i) => `${text(i)} I need it for a trip next week, number ${i}.`)
    const started = performance.now()
    await embedder.embed(sentences)
    return { loadMs, perSentenceMs: (performance.now() - started) / count }
  } finally {
    await embedder.close()
  }
}

async function run(_plan: RunPlan, mode: 'full' | 'quick'): Promise<ScenarioReport> {
  const size = SIZES[mode]
  const stored = clusteredVectors(size.entries, 1)
  const random = generator(2)
  // Queries: paraphrases of stored questions (a stored vector plus noise).
  const queries = Array.from({ length: size.lookups }, (_, i) => {
    const base = stored[(i * 7919) % stored.length]!
    return Float32Array.from(base, (value) => value + 0.15 * random())
  })
  const approximate = createUsearchIndex({ dimensions: DIMENSIONS })
  const buildStarted = performance.now()
  stored.forEach((vector, i) => approximate.add(`key-${i}`, text(i), vector))
  const buildSeconds = (performance.now() - buildStarted) / 1000
  const exact = createFlatIndex()
  stored.forEach((vector, i) => exact.add(`key-${i}`, text(i), vector))

  timeLookups(approximate, queries.slice(0, 50))
  const fast = timeLookups(approximate, queries)
  const exactQueries = queries.slice(0, size.exactLookups)
  const slow = timeLookups(exact, exactQueries)
  const recall = slow.found.filter((key, i) => fast.found[i] === key).length / exactQueries.length
  const embedding = await embeddingMsPerSentence(size.sentences)

  const ms = (value: number) => `${value.toFixed(3)} ms`
  const headlines: Headline[] = [
    {
      label: `semantic lookup p50 ÷ 1 ms (${size.entries.toLocaleString('en')} entries)`,
      value: fast.p50Ms / GOAL_MS,
      goal: { value: 1, direction: 'at-most' },
    },
  ]
  return {
    title: `semantic-lookup: index search + guards, ${size.entries.toLocaleString('en')} entries in one scope`,
    method:
      'One process: each lookup is `nearest(vector, 3)` then the default judge on the neighbours, timed one by one (wall clock and CPU time of this thread); the embedding is excluded and reported below. Vectors are 512-d clusters of paraphrases.',
    table: {
      columns: [
        { title: 'index', align: 'left' },
        { title: 'lookups', align: 'right' },
        { title: 'p50', align: 'right' },
        { title: 'p90', align: 'right' },
        { title: 'CPU p50', align: 'right' },
      ],
      rows: [
        ['usearch HNSW (f16, M=16, ef=64)', String(queries.length), ms(fast.p50Ms), ms(fast.p90Ms), ms(fast.cpuP50Ms)],
        ['exact (flat, brute force)', String(exactQueries.length), ms(slow.p50Ms), ms(slow.p90Ms), ms(slow.cpuP50Ms)],
      ],
    },
    notes: [
      `Goal: p50 ≤ ${GOAL_MS} ms with ${size.entries.toLocaleString('en')} entries: ${fast.p50Ms <= GOAL_MS ? 'met' : 'not met'}.`,
      `Recall of the approximate index (same nearest neighbour as the exact one): ${(recall * 100).toFixed(1)}% of ${exactQueries.length} queries.`,
      `Building the approximate index: ${buildSeconds.toFixed(1)} s for ${size.entries.toLocaleString('en')} entries (${((buildSeconds * 1e6) / size.entries).toFixed(0)} µs an add).`,
      `Embedding (excluded above): @aicache/embeddings-local use-lite-512, ${embedding.perSentenceMs.toFixed(1)} ms a sentence in a batch of ${size.sentences} (worker thread), model load ${embedding.loadMs.toFixed(0)} ms.`,
    ],
    failures: [],
    headlines,
    rounds: { approximate: fast, exact: { ...slow, found: undefined }, recall, buildSeconds, embedding },
  }
}

export const semanticLookupScenario: Scenario = {
  name: 'semantic-lookup',
  fullPlan: { warmUpSeconds: 0, roundCount: 1, roundSeconds: 0 },
  run,
}
