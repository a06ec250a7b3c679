/**
 * Scenario: re-ingesting a corpus for retrieval. 5,000 chunks are embedded
 * in batches of 100 through the gateway (aicache-express in proxy mode,
 * per-input embeddings on by default), then embedded again with 10% of the
 * chunks changed. Reported: what the second pass sent upstream (inputs,
 * tokens) against the first, and the wall time of each pass against calling
 * the fake upstream directly. The chunks are real queries: CLINC150
 * (clinc/oos-eval, CC BY 3.0).
 */
import { readFileSync } from 'node:fs'
import { type BenchServer, startBenchServer } from '../bench-server.js'
import { type FakeUpstreamProcess, startFakeUpstream } from '../fake-upstream.js'
import { formatRatio } from '../format.js'
import type { RunPlan } from '../plan.js'
import type { Goal, Scenario, ScenarioReport } from '../scenario.js'
import { verdict } from '../scenario.js'
import { dataPath } from '../data-directory.js'
import { median } from '../statistics.js'

const FULL_CHUNKS = 5_000
const QUICK_CHUNKS = 500
const BATCH_SIZE = 100
// An ingestion pipeline's few workers, each sending one batch at a time.
const WORKERS = 4
const CHANGED_EVERY = 10
// A provider answers a batch of 100 in a few hundred milliseconds; the fake waits this long per call.
const UPSTREAM_LATENCY_MS = 100
const MODEL = 'text-embedding-3-small'
const DIMENSIONS = 1536
const TOKEN_GOAL: Goal = { value: 0.12, direction: 'at-most' }
const DATA_PATH = dataPath('clinc150', 'data_full.json')

interface Corpus {
  first: string[]
  second: string[]
}

/** The first `count` distinct CLINC150 training queries, and the same with every tenth replaced by a test-split query. */
function loadCorpus(count: number): Corpus {
  const data = JSON.parse(readFileSync(DATA_PATH, 'utf8')) as Record<string, Array<[string, string]>>
  const distinct = (rows: Array<[string, string]>) => [...new Set(rows.map(([text]) => text))]
  const first = distinct(data['train'] ?? []).slice(0, count)
  const seen = new Set(first)
  const replacements = distinct(data['test'] ?? []).filter((text) => !seen.has(text))
  if (first.length < count || replacements.length < count / CHANGED_EVERY) throw new Error(`${DATA_PATH} has too few queries for ${count} chunks`)
  const second = first.map((text, index) => (index % CHANGED_EVERY === CHANGED_EVERY - 1 ? replacements[Math.floor(index / CHANGED_EVERY)]! : text))
  return { first, second }
}

/** What one pass over the corpus cost. */
interface Pass {
  wallMs: number
  /** Inputs the upstream embedded (from the fake's recorded calls). */
  upstreamInputs: number
  upstreamCalls: number
  /** Tokens the upstream charged (`usage.prompt_tokens` of the answers). */
  upstreamTokens: number
  /** Every vector, base64, in corpus order. */
  vectors: string[]
}

interface EmbeddingsAnswer {
  data: Array<{ index: number; embedding: string }>
  usage: { prompt_tokens: number }
}

/** Embeds `chunks` in batches of 100 with a few workers, against `baseUrl` (`…/v1`). */
async function embedCorpus(baseUrl: string, chunks: readonly string[], namespace: string, fake: FakeUpstreamProcess): Promise<Pass> {
  await fake.reset()
  const batches: number[] = []
  for (let start = 0; start < chunks.length; start += BATCH_SIZE) batches.push(start)
  const vectors: string[] = new Array(chunks.length)
  let upstreamTokens = 0
  let upstreamInputs = 0
  const startedAt = performance.now()
  const worker = async () => {
    for (let start = batches.shift(); start !== undefined; start = batches.shift()) {
      const input = chunks.slice(start, start + BATCH_SIZE)
      const response = await fetch(`${baseUrl}/embeddings`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: 'Bearer sk-bench', 'x-aicache-namespace': namespace },
        body: JSON.stringify({ model: MODEL, input, dimensions: DIMENSIONS, encoding_format: 'base64' }),
      })
      if (response.status !== 200) throw new Error(`POST ${baseUrl}/embeddings answered ${response.status}: ${await response.text()}`)
      const answer = (await response.json()) as EmbeddingsAnswer
      upstreamTokens += answer.usage.prompt_tokens
      const cacheStatus = response.headers.get('cache-status')
      // Through the gateway, Cache-Status says how many inputs went upstream; directly, every input did.
      upstreamInputs += cacheStatus === null ? input.length : Number(/fwd-inputs=(\d+)/.exec(cacheStatus)?.[1] ?? 0)
      for (const item of answer.data) vectors[start + item.index] = item.embedding
    }
  }
  await Promise.all(Array.from({ length: WORKERS }, worker))
  const wallMs = performance.now() - startedAt
  return { wallMs, upstreamInputs, upstreamCalls: await fake.callCount(), upstreamTokens, vectors }
}

interface Round {
  direct: [Pass, Pass]
  aicache: [Pass, Pass]
}

function withoutVectors(pass: Pass): Omit<Pass, 'vectors'> {
  const { vectors: _vectors, ...rest } = pass
  return rest
}

async function runReingest(_plan: RunPlan, mode: 'full' | 'quick'): Promise<ScenarioReport> {
  const chunkCount = mode === 'quick' ? QUICK_CHUNKS : FULL_CHUNKS
  const roundCount = mode === 'quick' ? 1 : 3
  const corpus = loadCorpus(chunkCount)
  const stoppables: Array<{ stop(): Promise<void> }> = []
  try {
    const fake = await startFakeUpstream('fake-upstream', UPSTREAM_LATENCY_MS)
    stoppables.push(fake.process)
    const gateway: BenchServer = await startBenchServer('aicache-express', fake.url)
    stoppables.push(gateway.process)
    const gatewayUrl = `${gateway.origin}/v1`
    const rounds: Round[] = []
    const failures: string[] = []
    for (let round = 0; round < roundCount; round++) {
      // A namespace of its own: every round starts from an empty cache.
      const namespace = `reingest-${round}`
      const directFirst = await embedCorpus(fake.url, corpus.first, namespace, fake)
      const aicacheFirst = await embedCorpus(gatewayUrl, corpus.first, namespace, fake)
      const directSecond = await embedCorpus(fake.url, corpus.second, namespace, fake)
      const aicacheSecond = await embedCorpus(gatewayUrl, corpus.second, namespace, fake)
      for (const [label, cached, direct] of [
        ['first', aicacheFirst, directFirst],
        ['second', aicacheSecond, directSecond],
      ] as const) {
        const wrong = cached.vectors.findIndex((vector, index) => vector !== direct.vectors[index])
        if (wrong >= 0) failures.push(`round ${round + 1}, ${label} pass: chunk ${wrong}'s vector through the gateway differs from the upstream's`)
      }
      rounds.push({ direct: [directFirst, directSecond], aicache: [aicacheFirst, aicacheSecond] })
      console.log(
        `  round ${round + 1}: pass 2 sent ${aicacheSecond.upstreamInputs} of ${chunkCount} inputs upstream; ` +
          `wall ${aicacheSecond.wallMs.toFixed(0)} ms through aicache, ${directSecond.wallMs.toFixed(0)} ms direct`,
      )
    }
    return reingestReport(rounds, chunkCount, failures)
  } finally {
    await Promise.all(stoppables.map((stoppable) => stoppable.stop()))
  }
}

function reingestReport(rounds: readonly Round[], chunkCount: number, failures: string[]): ScenarioReport {
  const medianOf = (pick: (round: Round) => number) => median(rounds.map(pick))
  const tokenRatio = medianOf((round) => round.aicache[1].upstreamTokens / round.aicache[0].upstreamTokens)
  const inputRatio = medianOf((round) => round.aicache[1].upstreamInputs / round.aicache[0].upstreamInputs)
  const wallRatio = (pass: 0 | 1) => medianOf((round) => round.aicache[pass].wallMs / round.direct[pass].wallMs)
  const row = (label: string, pick: (round: Round) => Pass, wallVsDirect: string): string[] => [
    label,
    String(medianOf((round) => pick(round).upstreamCalls)),
    String(medianOf((round) => pick(round).upstreamInputs)),
    String(medianOf((round) => pick(round).upstreamTokens)),
    medianOf((round) => pick(round).wallMs).toFixed(0),
    wallVsDirect,
  ]
  return {
    title: 'Re-ingesting a corpus with 10% of chunks changed',
    method:
      `${chunkCount} chunks (distinct CLINC150 training queries, clinc/oos-eval, CC BY 3.0) embedded in batches of ${BATCH_SIZE} by ${WORKERS} workers ` +
      `(${MODEL}, ${DIMENSIONS} dimensions, base64), then again with every ${CHANGED_EVERY}th chunk replaced by a test-split query. ` +
      `Directly against the fake upstream (${UPSTREAM_LATENCY_MS} ms per call), and through aicache-express in proxy mode with default options ` +
      `(per-input embeddings, no merging window), each round in a fresh namespace. Upstream inputs and tokens are what the fake embedded and charged ` +
      `(usage.prompt_tokens); every vector through the gateway is checked equal to the upstream's. Medians of ${rounds.length} round(s).`,
    table: {
      columns: [
        { title: 'pass', align: 'left' },
        { title: 'upstream calls', align: 'right' },
        { title: 'upstream inputs', align: 'right' },
        { title: 'upstream tokens', align: 'right' },
        { title: 'wall ms', align: 'right' },
        { title: 'wall ÷ direct', align: 'right' },
      ],
      rows: [
        row('1st, direct', (round) => round.direct[0], '1.00x'),
        row('1st, through aicache', (round) => round.aicache[0], formatRatio(wallRatio(0))),
        row('2nd (10% changed), direct', (round) => round.direct[1], '1.00x'),
        row('2nd (10% changed), through aicache', (round) => round.aicache[1], formatRatio(wallRatio(1))),
      ],
    },
    notes: [
      `Second pass through aicache ÷ first pass: ${formatRatio(tokenRatio)} of the upstream tokens (goal ≤ ${TOKEN_GOAL.value.toFixed(2)}x: ${verdict(tokenRatio, TOKEN_GOAL)}), ` +
        `${formatRatio(inputRatio)} of the inputs.`,
    ],
    failures,
    headlines: [
      { label: 'reingest: 2nd-pass upstream tokens ÷ 1st pass', value: tokenRatio, goal: TOKEN_GOAL },
      { label: 'reingest: 2nd-pass wall time, aicache ÷ direct', value: wallRatio(1) },
    ],
    rounds: rounds.map((round) => ({
      direct: round.direct.map(withoutVectors),
      aicache: round.aicache.map(withoutVectors),
    })),
  }
}

/** Registered in main.ts. */
export const reingestScenario: Scenario = {
  name: 'reingest',
  fullPlan: { warmUpSeconds: 0, roundCount: 3, roundSeconds: 0 },
  run: runReingest,
}
