/**
 * The benchmark runner: starts servers and fake upstreams as child processes,
 * loads them from this process, prints one table per scenario and saves them
 * as markdown.
 *
 * Usage: `pnpm bench [-- --quick] [-- --only <scenario-name>]`
 *
 * A full run of every scenario writes results/latest.md and results/latest.svg
 * and refreshes the results embedded in docs/benchmarks.md; quick and partial
 * runs write to results/tmp/ only.
 */
import { fileURLToPath } from 'node:url'
import { renderChart } from './chart.js'
import { updateDocsResults } from './docs-results.js'
import { parseFlags } from './flags.js'
import { QUICK_PLAN } from './plan.js'
import { killChildrenOnExit, stopAllProcesses } from './process.js'
import { renderRun, renderScenario, runHeader, writeReport } from './report.js'
import type { Scenario, ScenarioReport } from './scenario.js'
import { breakerScenario } from './scenarios/breaker.js'
import { l1HitAdaptersScenario } from './scenarios/l1-hit-adapters.js'
import { l1HitScenario } from './scenarios/l1-hit.js'
import { l2HitScenario } from './scenarios/l2-hit.js'
import { memoryScenario } from './scenarios/memory.js'
import { missOverheadScenario } from './scenarios/miss-overhead.js'
import { peersScenario } from './scenarios/peers.js'
import { rateLimitCostScenario } from './scenarios/rate-limit-cost.js'
import { semanticLookupScenario } from './scenarios/semantic-lookup.js'
import { stampedeScenario } from './scenarios/stampede.js'
import { streamScenario } from './scenarios/stream.js'
import { telemetryCostScenario } from './scenarios/telemetry-cost.js'
import { versionsLine } from './versions.js'

const SCENARIOS: readonly Scenario[] = [
  l1HitScenario,
  missOverheadScenario,
  l1HitAdaptersScenario,
  peersScenario,
  l2HitScenario,
  streamScenario,
  stampedeScenario,
  telemetryCostScenario,
  rateLimitCostScenario,
  breakerScenario,
  memoryScenario,
  semanticLookupScenario,
]
// Only a full run of every scenario is worth committing; quick and partial runs go to the gitignored folder.
const COMMITTED_RESULTS_PATH = fileURLToPath(new URL('../results/latest.md', import.meta.url))
const COMMITTED_CHART_PATH = fileURLToPath(new URL('../results/latest.svg', import.meta.url))
const SCRATCH_RESULTS_PATH = fileURLToPath(new URL('../results/tmp/latest.md', import.meta.url))
const SCRATCH_CHART_PATH = fileURLToPath(new URL('../results/tmp/latest.svg', import.meta.url))
const ROUNDS_PATH = fileURLToPath(new URL('../results/tmp/latest-rounds.json', import.meta.url))
// docs/benchmarks.md embeds the tables of the last full run, and links the chart relative to itself.
const DOCS_PATH = fileURLToPath(new URL('../../docs/benchmarks.md', import.meta.url))
const DOCS_CHART_LINK = '../bench/results/latest.svg'

function selectScenarios(only: string | undefined): readonly Scenario[] {
  if (only === undefined) return SCENARIOS
  const selected = SCENARIOS.filter((scenario) => scenario.name === only)
  if (selected.length === 0) throw new Error(`Unknown scenario '${only}'; known: ${SCENARIOS.map((scenario) => scenario.name).join(', ')}`)
  return selected
}

/** Children are stopped before exiting on Ctrl-C or a kill, so no server outlives the runner. */
function stopChildrenOnSignals(): void {
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      console.error(`\n${signal}: stopping child processes`)
      void stopAllProcesses().finally(() => process.exit(130))
    })
  }
}

async function main(): Promise<void> {
  const startedAt = new Date()
  const flags = parseFlags(process.argv.slice(2))
  const scenarios = selectScenarios(flags.only)
  const mode = flags.quick ? 'quick' : 'full'
  const machine = runHeader(mode, startedAt)
  const header = `${machine}\n\n${versionsLine()}`
  console.log(header)
  const reports: ScenarioReport[] = []
  for (const scenario of scenarios) {
    console.log(`\n${scenario.name}`)
    const scenarioStartedAt = Date.now()
    const report = await scenario.run(flags.quick ? QUICK_PLAN : scenario.fullPlan, mode)
    console.log(`\n${renderScenario(report)}`)
    console.log(`\n(${scenario.name}: ${((Date.now() - scenarioStartedAt) / 1000).toFixed(0)} s)`)
    reports.push(report)
  }
  const isCommittable = !flags.quick && flags.only === undefined
  const resultsPath = isCommittable ? COMMITTED_RESULTS_PATH : SCRATCH_RESULTS_PATH
  const chartPath = isCommittable ? COMMITTED_CHART_PATH : SCRATCH_CHART_PATH
  const runMarkdown = renderRun(header, reports)
  await writeReport(resultsPath, runMarkdown)
  await writeReport(
    chartPath,
    renderChart(
      reports.flatMap((report) => report.headlines),
      machine,
    ),
  )
  const roundsByScenario = Object.fromEntries(reports.map((report) => [report.title, report.rounds]))
  await writeReport(ROUNDS_PATH, JSON.stringify(roundsByScenario, null, 2))
  if (isCommittable && !(await updateDocsResults(DOCS_PATH, runMarkdown, DOCS_CHART_LINK))) {
    console.error(`${DOCS_PATH} has no results markers: its results were not updated`)
  }
  const elapsedSeconds = (Date.now() - startedAt.getTime()) / 1000
  console.log(`\nWrote ${resultsPath} and ${chartPath} (${elapsedSeconds.toFixed(0)} s)`)
  if (reports.some((report) => report.failures.length > 0)) {
    console.error('Some measured requests failed: those numbers are worthless.')
    process.exitCode = 1
  }
}

killChildrenOnExit()
stopChildrenOnSignals()
try {
  await main()
} catch (error) {
  console.error(error)
  process.exitCode = 1
} finally {
  await stopAllProcesses()
}
