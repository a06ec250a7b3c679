/**
 * The benchmark runner: starts servers and fake upstreams as child processes,
 * loads them from this process, prints one table per scenario and saves them
 * as markdown.
 *
 * Usage: `pnpm bench [-- --quick] [-- --only <scenario-name>]`
 */
import { fileURLToPath } from 'node:url'
import { parseFlags } from './flags.js'
import { QUICK_PLAN } from './plan.js'
import { killChildrenOnExit, stopAllProcesses } from './process.js'
import { renderRun, renderScenario, runHeader, writeReport } from './report.js'
import type { Scenario, ScenarioReport } from './scenario.js'
import { l1HitScenario } from './scenarios/l1-hit.js'
import { missOverheadScenario } from './scenarios/miss-overhead.js'

const SCENARIOS: readonly Scenario[] = [l1HitScenario, missOverheadScenario]
// Only a full run of every scenario is worth committing; quick and partial runs go to the gitignored folder.
const COMMITTED_RESULTS_PATH = fileURLToPath(new URL('../results/latest.md', import.meta.url))
const SCRATCH_RESULTS_PATH = fileURLToPath(new URL('../results/tmp/latest.md', import.meta.url))
const ROUNDS_PATH = fileURLToPath(new URL('../results/tmp/latest-rounds.json', import.meta.url))

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
  const header = runHeader(flags.quick ? 'quick' : 'full', startedAt)
  console.log(header)
  const reports: ScenarioReport[] = []
  for (const scenario of scenarios) {
    console.log(`\n${scenario.name}`)
    const report = await scenario.run(flags.quick ? QUICK_PLAN : scenario.fullPlan)
    console.log(`\n${renderScenario(report)}`)
    reports.push(report)
  }
  const isCommittable = !flags.quick && flags.only === undefined
  const resultsPath = isCommittable ? COMMITTED_RESULTS_PATH : SCRATCH_RESULTS_PATH
  await writeReport(resultsPath, renderRun(header, reports))
  const roundsByScenario = Object.fromEntries(reports.map((report) => [report.title, report.rounds]))
  await writeReport(ROUNDS_PATH, JSON.stringify(roundsByScenario, null, 2))
  const elapsedSeconds = (Date.now() - startedAt.getTime()) / 1000
  console.log(`\nWrote ${resultsPath} (${elapsedSeconds.toFixed(0)} s)`)
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
