/**
 * Keeps the results embedded in docs/benchmarks.md in step with the last
 * full run: the text between two markers is replaced by the run's tables.
 */
import { readFile, writeFile } from 'node:fs/promises'

const START_MARKER = '<!-- bench-results:start -->'
const END_MARKER = '<!-- bench-results:end -->'

/** The run's markdown one heading level down, without its own title, under the chart. */
function embedded(runMarkdown: string, chartLink: string): string {
  const body = runMarkdown
    .split('\n')
    .filter((line) => !line.startsWith('# '))
    .map((line) => (line.startsWith('#') ? `#${line}` : line))
    .join('\n')
    .trim()
  return `![Headline ratios of the latest full run](${chartLink})\n\n${body}`
}

/** Replaces the results block of `docsPath`; returns false (and changes nothing) when the markers are missing. */
export async function updateDocsResults(docsPath: string, runMarkdown: string, chartLink: string): Promise<boolean> {
  let text: string
  try {
    text = await readFile(docsPath, 'utf8')
  } catch {
    return false
  }
  const start = text.indexOf(START_MARKER)
  const end = text.indexOf(END_MARKER)
  if (start === -1 || end < start) return false
  const updated = `${text.slice(0, start + START_MARKER.length)}\n\n${embedded(runMarkdown, chartLink)}\n\n${text.slice(end)}`
  await writeFile(docsPath, updated)
  return true
}
