/**
 * The evaluation as markdown: the default operating point against the
 * goals, GPTCache's replay beside its published rows, the traffic replays,
 * the effect of each guard, and the full sweeps.
 */
import { defaultSemanticThreshold } from '@aicache/core'
import { renderTable, type Column } from '../table.js'
import type { Experiment } from './experiments.js'
import type { Experiments, Sweeps } from './main.js'
import type { TrafficScore } from './scoring.js'
import { CANDIDATES_TRIED, lowestMeeting, type SweepPoint } from './sweep.js'
import { DEFAULT_VARIANT, variants } from './variants.js'

/** Everything the report shows. */
export interface EvaluationInput {
  experiments: Experiments
  sweeps: Sweeps
  embedderId: string
  machine: string
  seconds: number
}

/** GPTCache's published rows on the same file (its README, sqlite + faiss + onnx albert, by cosine threshold). */
export const GPTCACHE_PUBLISHED = [
  { threshold: 0.9, right: 425, wrong: 25, missed: 549 },
  { threshold: 0.8, right: 804, wrong: 77, missed: 118 },
  { threshold: 0.6, right: 904, wrong: 92, missed: 3 },
] as const

/** The goals of the default operating point. */
export const GOALS = {
  gptcacheRight: 850,
  gptcacheWrong: 10,
  bankingPrecision: 0.95,
  bankingHitRate: 0.5,
  clincOutOfScopeServed: 0.01,
} as const

const percent = (value: number) => `${(value * 100).toFixed(1)}%`
const fixed = (value: number) => value.toFixed(3)
const right = (title: string): Column => ({ title, align: 'right' })
const left = (title: string): Column => ({ title, align: 'left' })

function at(points: readonly SweepPoint[] | undefined, threshold: number): SweepPoint {
  const point = points?.find((candidate) => Math.abs(candidate.threshold - threshold) < 1e-9)
  if (!point) throw new Error(`no sweep point at ${threshold}`)
  return point
}

/** A tuning point is acceptable when Banking77 precision and CLINC150 out-of-scope service meet the goals. */
function meetsTuningGoals(banking: TrafficScore, clinc: TrafficScore): boolean {
  return banking.precision >= GOALS.bankingPrecision && clinc.outOfScopeServedRate <= GOALS.clincOutOfScopeServed
}

/** The lowest threshold at which a variant meets the precision goals on both tuning replays. */
export function tunedThreshold(sweeps: Sweeps, variant: string): number | undefined {
  const clinc = sweeps.clincTuning[variant]!
  const combined = sweeps.bankingTuning[variant]!.map((point) => ({
    ...point,
    score: { ...point.score, outOfScopeServedRate: at(clinc, point.threshold).score.outOfScopeServedRate },
  }))
  return lowestMeeting(combined, (score) => meetsTuningGoals(score, score))?.threshold
}

function trafficCells(score: TrafficScore, withOutOfScope: boolean): string[] {
  const cells = [percent(score.hitRate), fixed(score.precision), fixed(score.precisionTimesHitRate)]
  if (withOutOfScope) cells.push(percent(score.outOfScopeServedRate))
  return cells
}

function trafficTable(sweeps: Record<string, SweepPoint[]>, shown: readonly string[], values: readonly number[], withOutOfScope: boolean): string {
  const columns: Column[] = [right('threshold')]
  for (const name of shown) {
    columns.push(right(`${name}: hit rate`), right('precision'), right('P×HR'))
    if (withOutOfScope) columns.push(right('oos served'))
  }
  const rows = values.map((threshold) => [threshold.toFixed(2), ...shown.flatMap((name) => trafficCells(at(sweeps[name], threshold).score, withOutOfScope))])
  return renderTable({ columns, rows })
}

function rejectionText(rejections: Readonly<Record<string, number>>): string {
  const entries = Object.entries(rejections).sort((a, b) => b[1] - a[1])
  return entries.length === 0 ? '' : entries.map(([reason, count]) => `${reason} ${count}`).join(', ')
}

function guardTable(input: EvaluationInput, threshold: number): string {
  const columns: Column[] = [
    left('judge'),
    right('Banking77 tuning P / HR'),
    right('Banking77 test P / HR'),
    right('CLINC150 test P / HR'),
    right('CLINC oos served'),
    right('GPTCache right / wrong'),
    left('nearest refused by (Banking77 test)'),
  ]
  const rows = variants.map((variant) => {
    const tuning = at(input.sweeps.bankingTuning[variant.name], threshold).score
    const banking = at(input.sweeps.banking[variant.name], threshold)
    const clinc = at(input.sweeps.clinc[variant.name], threshold).score
    const gptcache = at(input.sweeps.gptcache[variant.name], threshold).score
    return [
      variant.name,
      `${fixed(tuning.precision)} / ${percent(tuning.hitRate)}`,
      `${fixed(banking.score.precision)} / ${percent(banking.score.hitRate)}`,
      `${fixed(clinc.precision)} / ${percent(clinc.hitRate)}`,
      percent(clinc.outOfScopeServedRate),
      `${gptcache.right} / ${gptcache.wrong}`,
      rejectionText(banking.rejections),
    ]
  })
  return renderTable({ columns, rows })
}

function gptcacheTable(input: EvaluationInput, values: readonly number[]): string {
  const columns: Column[] = [right('threshold'), right('cosine only: right / wrong / missed'), right(`${DEFAULT_VARIANT}: right / wrong / missed`)]
  const cells = (name: string, threshold: number) => {
    const score = at(input.sweeps.gptcache[name], threshold).score
    return `${score.right} / ${score.wrong} / ${score.queries - score.hits}`
  }
  const rows = values.map((threshold) => [threshold.toFixed(2), cells('cosine only', threshold), cells(DEFAULT_VARIANT, threshold)])
  return renderTable({ columns, rows })
}

function fullSweep(experiment: Experiment, sweeps: Record<string, SweepPoint[]>, withOutOfScope: boolean): string {
  const values = sweeps[DEFAULT_VARIANT]!.map((point) => point.threshold)
  return [
    `<details><summary>${experiment.name}: every threshold</summary>`,
    '',
    trafficTable(sweeps, ['cosine only', 'guards', DEFAULT_VARIANT], values, withOutOfScope),
    '',
    '</details>',
  ].join('\n')
}

/** The report, the summary printed on the console, and the default threshold it marks. */
export function renderEvaluation(input: EvaluationInput): { markdown: string; summary: string; defaultThreshold: number } {
  const threshold = defaultSemanticThreshold
  const { experiments, sweeps } = input
  const gptcache = at(sweeps.gptcache[DEFAULT_VARIANT], threshold).score
  const banking = at(sweeps.banking[DEFAULT_VARIANT], threshold).score
  const clinc = at(sweeps.clinc[DEFAULT_VARIANT], threshold).score
  const verdict = (met: boolean) => (met ? 'met' : '**not met**')
  const summaryTable = renderTable({
    columns: [left('goal'), right('measured (test data)'), left('verdict')],
    rows: [
      [
        `GPTCache mock data: ≥ ${GOALS.gptcacheRight} right with ≤ ${GOALS.gptcacheWrong} wrong`,
        `${gptcache.right} right, ${gptcache.wrong} wrong, ${gptcache.queries - gptcache.hits} missed`,
        verdict(gptcache.right >= GOALS.gptcacheRight && gptcache.wrong <= GOALS.gptcacheWrong),
      ],
      [
        `Banking77: precision ≥ ${GOALS.bankingPrecision} at hit rate ≥ ${GOALS.bankingHitRate}`,
        `precision ${fixed(banking.precision)}, hit rate ${percent(banking.hitRate)}`,
        verdict(banking.precision >= GOALS.bankingPrecision && banking.hitRate >= GOALS.bankingHitRate),
      ],
      [
        `CLINC150: out-of-scope queries served ≤ ${percent(GOALS.clincOutOfScopeServed)}`,
        `${clinc.outOfScopeServed} of ${clinc.outOfScopeQueries} (${percent(clinc.outOfScopeServedRate)}); in scope: precision ${fixed(clinc.precision)}, hit rate ${percent(clinc.hitRate)}`,
        verdict(clinc.outOfScopeServedRate <= GOALS.clincOutOfScopeServed),
      ],
    ],
  })
  const tuned = variants.map((variant) => {
    const chosen = tunedThreshold(sweeps, variant.name)
    if (chosen === undefined) return [variant.name, 'none meets the precision goals', '', '', '']
    const test = at(sweeps.banking[variant.name], chosen).score
    const clincTest = at(sweeps.clinc[variant.name], chosen).score
    const gpt = at(sweeps.gptcache[variant.name], chosen).score
    return [
      variant.name,
      chosen.toFixed(2),
      `${fixed(test.precision)} / ${percent(test.hitRate)}`,
      percent(clincTest.outOfScopeServedRate),
      `${gpt.right} / ${gpt.wrong}`,
    ]
  })
  const tunedTable = renderTable({
    columns: [
      left('judge'),
      right('threshold chosen on tuning data'),
      right('Banking77 test P / HR'),
      right('CLINC oos served'),
      right('GPTCache right / wrong'),
    ],
    rows: tuned,
  })
  const coarse = [0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95]
  const shownThresholds = [...new Set([...coarse, threshold])].sort((a, b) => a - b)
  const shown = ['cosine only', 'guards', DEFAULT_VARIANT]
  const markdown = `# Semantic cache evaluation

Generated by \`pnpm eval\` (bench/src/eval). Embedder \`${input.embedderId}\` (@aicache/embeddings-local: Universal Sentence Encoder lite,
offline). ${input.machine}; ${input.seconds.toFixed(0)} s.

The judge serves the first of a query's ${CANDIDATES_TRIED} nearest cached questions that it accepts. **Default**: judge
\`${DEFAULT_VARIANT}\` (numbers, negation and named-entity guards; word-overlap second opinion in the band 0.05 above the
threshold) at threshold **${threshold.toFixed(2)}**. The threshold was chosen on tuning replays built from training data only
(Banking77: a fifth of train.csv asks the other four fifths; CLINC150: val + oos_val ask train); every table below that says
"test" uses data no choice looked at.

Data, with thanks: **GPTCache mock data** (zilliztech/GPTCache, examples/benchmark/mock_data.json, MIT);
**Banking77** (PolyAI-LDN/task-specific-datasets, Casanueva et al. 2020, CC BY 4.0); **CLINC150** (clinc/oos-eval, Larson et
al. 2019, CC BY 3.0).

P = precision (right hits ÷ hits), HR = hit rate (hits ÷ queries), P×HR = right hits ÷ queries. A traffic hit is right only
if the cached question has the query's intent; an out-of-scope query is right only if it misses.

![precision against hit rate](semantic.svg)

## The default against the goals

${summaryTable}

## The threshold each judge would get on tuning data

The lowest threshold at which the judge reaches precision ≥ ${GOALS.bankingPrecision} on the Banking77 tuning replay with
≤ ${percent(GOALS.clincOutOfScopeServed)} of CLINC150's out-of-scope validation queries served, then measured on test data.

${tunedTable}

## GPTCache mock data, replayed as GPTCache's benchmark does

Every origin stored (${experiments.gptcache.cached.length} distinct), every paraphrase asked (${experiments.gptcache.queries.length}); a hit is right
when the served origin is the paraphrase's own (by text). About 35 origins repeat in the file, so a few "wrong" hits are
another copy's text and unavoidable.

${gptcacheTable(input, shownThresholds)}

GPTCache's published rows on the same file (its own embedding model and distance scale, so thresholds are not comparable
one to one; compare the right / wrong balance):

${renderTable({
  columns: [right('GPTCache threshold'), right('right'), right('wrong'), right('missed')],
  rows: GPTCACHE_PUBLISHED.map((row) => [row.threshold.toFixed(1), String(row.right), String(row.wrong), String(row.missed)]),
})}

## Banking77: train.csv cached (${experiments.banking.cached.length}), test.csv asking (${experiments.banking.queries.length})

${trafficTable(sweeps.banking, shown, shownThresholds, false)}

## CLINC150: train cached (${experiments.clinc.cached.length}), test + oos_test asking (${experiments.clinc.queries.length}, of which ${at(sweeps.clinc['cosine only'], threshold).score.outOfScopeQueries} out of scope)

Hit rate and precision count every query; "oos served" is the share of out-of-scope queries that got a cached answer.

${trafficTable(sweeps.clinc, shown, shownThresholds, true)}

## What each guard does at the default threshold (${threshold.toFixed(2)})

Each guard alone, all guards, and all guards with the borderline second opinion, at the same threshold. "Nearest refused
by" counts the queries whose nearest neighbour (at or above the threshold) a guard refused.

${guardTable(input, threshold)}

## Full sweeps

${fullSweep(experiments.bankingTuning, sweeps.bankingTuning, false)}

${fullSweep(experiments.clincTuning, sweeps.clincTuning, true)}

${fullSweep(experiments.banking, sweeps.banking, false)}

${fullSweep(experiments.clinc, sweeps.clinc, true)}

${fullSweep(experiments.gptcache, sweeps.gptcache, false)}
`
  const summary = [
    `default: ${DEFAULT_VARIANT} at ${threshold.toFixed(2)}`,
    `GPTCache: ${gptcache.right} right, ${gptcache.wrong} wrong`,
    `Banking77: precision ${fixed(banking.precision)}, hit rate ${percent(banking.hitRate)}`,
    `CLINC150: oos served ${percent(clinc.outOfScopeServedRate)}, precision ${fixed(clinc.precision)}, hit rate ${percent(clinc.hitRate)}`,
  ].join('\n')
  return { markdown, summary, defaultThreshold: threshold }
}
