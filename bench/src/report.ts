/** The printed and saved form of a run: a header naming machine, mode and date, then one section per scenario. */
import { mkdir, writeFile } from 'node:fs/promises'
import { cpus, loadavg } from 'node:os'
import { dirname } from 'node:path'
import type { ReportSection, ScenarioReport } from './scenario.js'
import { renderTable } from './table.js'

/** The header line: machine (cpus, node), mode, date, load before the run. */
export function runHeader(mode: 'quick' | 'full', startedAt: Date): string {
  const processors = cpus()
  const loadAverage = loadavg()
    .map((load) => load.toFixed(2))
    .join(' ')
  return (
    `${processors.length} cpus (${processors[0]?.model.trim() ?? 'unknown'}), node ${process.version}, ` +
    `mode ${mode}, ${startedAt.toISOString()}, load average before run ${loadAverage}`
  )
}

function renderSection(section: ReportSection, heading: string): string {
  return [`${heading} ${section.title}`, '', section.method, '', renderTable(section.table), '', ...section.notes].join('\n')
}

/** One scenario as markdown: title, method, table, notes, then any further sections. */
export function renderScenario(report: ScenarioReport): string {
  const failures = report.failures.map((failure) => `FAILED REQUESTS: ${failure}`)
  const first = renderSection({ ...report, notes: [...report.notes, ...(report.moreSections?.length ? [] : failures)] }, '##')
  if (!report.moreSections?.length) return first
  const more = report.moreSections.map((section, index, all) =>
    renderSection(index === all.length - 1 ? { ...section, notes: [...section.notes, ...failures] } : section, '###'),
  )
  return [first, ...more].join('\n\n')
}

/** The whole run as a markdown document. */
export function renderRun(header: string, reports: readonly ScenarioReport[]): string {
  return ['# aicache benchmarks', '', header, '', ...reports.map((report) => `${renderScenario(report)}\n`)].join('\n')
}

/** Writes `text` to `path`, creating its folder. */
export async function writeReport(path: string, text: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true })
  await writeFile(path, text)
}
