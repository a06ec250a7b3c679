/**
 * The semantic cache evaluation (`pnpm eval`): replays real query sets
 * through the semantic judges and writes results/semantic.md and
 * results/semantic.svg.
 *
 * Operating points are chosen on tuning replays built from training data
 * only (Banking77: a fifth of train.csv asking the rest; CLINC150: the
 * validation split asking the training split) and reported on the test
 * splits, which no choice looked at.
 *
 * Data comes from the repository's `data/` (or `AICACHE_DATA_DIR`). Vectors and neighbour lists are kept in bench/.cache/semantic.
 */
import { writeFileSync, mkdirSync } from 'node:fs'
import { cpus, loadavg } from 'node:os'
import { dirname, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { createLocalEmbedder } from '@aicache/embeddings-local'
import { type LabelledQuery, loadBanking77, loadClinc150, loadGptCachePairs } from './datasets.js'
import { buildExperiment, embedLists, splitByHash, type Experiment } from './experiments.js'
import { renderPrecisionChart } from './pr-chart.js'
import { renderEvaluation } from './render.js'
import { sweep, thresholds, type SweepPoint } from './sweep.js'
import { dataDirectory } from '../data-directory.js'
import { DEFAULT_VARIANT, variants } from './variants.js'

const repositoryRoot = fileURLToPath(new URL('../../../', import.meta.url))
const cacheDirectory = resolve(repositoryRoot, 'bench', '.cache', 'semantic')
const resultsPath = resolve(repositoryRoot, 'bench', 'results', 'semantic.md')
const chartPath = resolve(repositoryRoot, 'bench', 'results', 'semantic.svg')

/** Every experiment, tuning and test. */
export interface Experiments {
  bankingTuning: Experiment
  clincTuning: Experiment
  gptcache: Experiment
  banking: Experiment
  clinc: Experiment
}

async function buildAll(log: (line: string) => void): Promise<{ experiments: Experiments; embedderId: string }> {
  const embedder = createLocalEmbedder({ preload: true })
  try {
    const cache = { directory: cacheDirectory, embedder, log }
    const pairs = loadGptCachePairs(dataDirectory)
    const banking = loadBanking77(dataDirectory)
    const clinc = loadClinc150(dataDirectory)
    // GPTCache's benchmark: every origin is stored (a repeated origin once), every paraphrase asks; the origin is the answer.
    const origins = [...new Set(pairs.map((pair) => pair.origin))].map((origin) => ({ text: origin, intent: origin }))
    const paraphrases = pairs.map((pair) => ({ text: pair.similar, intent: pair.origin }))
    // Embedded list by list, as the data sets come: what is on disk is found again whatever the split.
    const vectors = await embedLists(cache, {
      'GPTCache origins': pairs.map((pair) => pair.origin),
      'GPTCache paraphrases': pairs.map((pair) => pair.similar),
      'Banking77 test': banking.test.map((query) => query.text),
      'Banking77 train': banking.train.map((query) => query.text),
      'CLINC150 test': clinc.test.map((query) => query.text),
      'CLINC150 oos_test': clinc.oos_test.map((query) => query.text),
      'CLINC150 train': clinc.train.map((query) => query.text),
      'CLINC150 val': clinc.val.map((query) => query.text),
      'CLINC150 oos_val': clinc.oos_val.map((query) => query.text),
    })
    const [bankingCache, bankingAsks] = splitByHash(banking.train, 0.2)
    const build = (name: string, cached: readonly LabelledQuery[], queries: readonly LabelledQuery[]) => buildExperiment(cache, vectors, name, cached, queries)
    const experiments: Experiments = {
      bankingTuning: build('Banking77 tuning (train.csv: 4/5 cached, 1/5 asking)', bankingCache, bankingAsks),
      clincTuning: build('CLINC150 tuning (train cached, val + oos_val asking)', clinc.train, [...clinc.val, ...clinc.oos_val]),
      gptcache: build('GPTCache mock data', origins, paraphrases),
      banking: build('Banking77 (train cached, test asking)', banking.train, banking.test),
      clinc: build('CLINC150 (train cached, test + oos_test asking)', clinc.train, [...clinc.test, ...clinc.oos_test]),
    }
    return { experiments, embedderId: embedder.id }
  } finally {
    await embedder.close()
  }
}

/** Sweeps of every variant over every experiment. */
export type Sweeps = Record<keyof Experiments, Record<string, SweepPoint[]>>

async function main(): Promise<void> {
  const started = performance.now()
  const startedAt = new Date()
  const log = (line: string) => console.log(line)
  log(`data: ${dataDirectory}`)
  const { experiments, embedderId } = await buildAll(log)
  const values = thresholds(0.5, 0.99, 0.01)
  const sweeps = {} as Sweeps
  for (const key of Object.keys(experiments) as (keyof Experiments)[]) {
    sweeps[key] = {}
    const sweepStarted = performance.now()
    for (const variant of variants) sweeps[key][variant.name] = sweep(experiments[key], variant, values)
    log(
      `  swept ${experiments[key].name}: ${variants.length} judges × ${values.length} thresholds in ${((performance.now() - sweepStarted) / 1000).toFixed(1)} s`,
    )
  }
  const machine = `${cpus().length} cpus (${cpus()[0]?.model.trim() ?? 'unknown'}), node ${process.version}, ${startedAt.toISOString()}, load average ${loadavg()
    .map((load) => load.toFixed(2))
    .join(' ')}`
  const report = renderEvaluation({ experiments, sweeps, embedderId, machine, seconds: (performance.now() - started) / 1000 })
  mkdirSync(dirname(resultsPath), { recursive: true })
  writeFileSync(resultsPath, report.markdown)
  const series = (key: keyof Experiments) =>
    variants
      .filter((variant) => variant.charted)
      .map((variant) => ({
        label: variant.name,
        color: variant.color,
        dashed: variant.name !== DEFAULT_VARIANT,
        points: sweeps[key][variant.name]!,
        marked: variant.name === DEFAULT_VARIANT ? report.defaultThreshold : undefined,
      }))
  writeFileSync(
    chartPath,
    renderPrecisionChart('aicache semantic cache: precision against hit rate (test splits)', `${embedderId}; ${machine}`, [
      { title: 'Banking77 test', series: series('banking'), goal: { precision: 0.95, hitRate: 0.5 } },
      { title: 'CLINC150 test (in scope + out of scope)', series: series('clinc') },
      { title: 'GPTCache mock data', series: series('gptcache') },
    ]),
  )
  log(report.summary)
  log(`wrote ${resultsPath} and ${chartPath} in ${((performance.now() - started) / 1000).toFixed(0)} s`)
}

main().catch((error: unknown) => {
  console.error(error)
  process.exit(1)
})
