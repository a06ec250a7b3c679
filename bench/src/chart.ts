/**
 * The chart of a run: one horizontal bar per headline ratio, with its goal
 * marked, as a hand-written SVG (no dependency).
 */
import { meetsGoal, type Headline } from './scenario.js'

// Rough width of a character at font-size 13, to size the label column to the longest label.
const CHARACTER_WIDTH = 7
const MARGIN = 16
const BAR_WIDTH = 360
// Value and goal of each bar, printed right of the axis so they never collide with bars or goal lines.
const VALUE_WIDTH = 170
const ROW_HEIGHT = 28
const TOP = 74
const BOTTOM = 58
// Ratios are near 1; a bar beyond the axis is cut and its value still printed.
const AXIS_MAX = 2
const COLORS = { met: '#2e7d32', missed: '#c62828', none: '#78909c' } as const

function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;')
}

/** Horizontal positions, from the longest label. */
interface Layout {
  labelRight: number
  barLeft: number
  valueLeft: number
  width: number
}

function layoutOf(headlines: readonly Headline[]): Layout {
  const longest = Math.max(20, ...headlines.map((headline) => headline.label.length))
  const labelRight = MARGIN + longest * CHARACTER_WIDTH
  const barLeft = labelRight + 10
  return { labelRight, barLeft, valueLeft: barLeft + BAR_WIDTH + 14, width: barLeft + BAR_WIDTH + 14 + VALUE_WIDTH }
}

function xOf(layout: Layout, value: number): number {
  return layout.barLeft + (Math.min(Math.max(value, 0), AXIS_MAX) / AXIS_MAX) * BAR_WIDTH
}

function barOf(layout: Layout, headline: Headline, index: number): string {
  const x = (value: number) => xOf(layout, value)
  const y = TOP + index * ROW_HEIGHT
  const color = headline.goal === undefined ? COLORS.none : meetsGoal(headline.value, headline.goal) ? COLORS.met : COLORS.missed
  const valid = Number.isFinite(headline.value)
  const end = valid ? x(headline.value) : layout.barLeft
  const clipped = valid && headline.value > AXIS_MAX
  const sign = headline.goal?.direction === 'at-most' ? '≤' : '≥'
  const goalText = headline.goal === undefined ? '' : ` (goal ${sign} ${headline.goal.value.toFixed(2)}x)`
  const parts = [
    `<text x="${layout.labelRight}" y="${y + 18}" text-anchor="end">${escapeXml(headline.label)}</text>`,
    `<rect x="${layout.barLeft}" y="${y + 6}" width="${(end - layout.barLeft).toFixed(1)}" height="${ROW_HEIGHT - 12}" fill="${color}"/>`,
    `<text x="${layout.valueLeft}" y="${y + 18}"><tspan font-weight="600">${valid ? `${headline.value.toFixed(2)}x` : 'n/a'}</tspan><tspan fill="#555">${goalText}</tspan></text>`,
  ]
  if (clipped) parts.push(`<text x="${x(AXIS_MAX) - 4}" y="${y + 18}" text-anchor="end" fill="#fff">▸</text>`)
  if (headline.goal !== undefined && headline.goal.value <= AXIS_MAX) {
    const goalX = x(headline.goal.value).toFixed(1)
    parts.push(`<line x1="${goalX}" y1="${y + 2}" x2="${goalX}" y2="${y + ROW_HEIGHT - 2}" stroke="#111" stroke-width="2"/>`)
  }
  return parts.join('\n  ')
}

function axis(layout: Layout, rowCount: number): string {
  const bottom = TOP + rowCount * ROW_HEIGHT
  const ticks = [0, 0.5, 1, 1.5, 2].map((value) => {
    const tickX = xOf(layout, value).toFixed(1)
    const style = value === 1 ? 'stroke="#555" stroke-dasharray="4 3"' : 'stroke="#ddd"'
    return (
      `<line x1="${tickX}" y1="${TOP}" x2="${tickX}" y2="${bottom}" ${style}/>\n  ` +
      `<text x="${tickX}" y="${bottom + 16}" text-anchor="middle" fill="#555">${value.toFixed(1)}x</text>`
    )
  })
  return ticks.join('\n  ')
}

/** The SVG of a run's headlines; `subtitle` names machine, mode and date. */
export function renderChart(headlines: readonly Headline[], subtitle: string): string {
  const layout = layoutOf(headlines)
  const height = TOP + headlines.length * ROW_HEIGHT + BOTTOM
  const legendY = height - 14
  const width = layout.width
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="system-ui, -apple-system, Segoe UI, sans-serif" font-size="13">
  <rect width="100%" height="100%" fill="#fff"/>
  <text x="16" y="26" font-size="17" font-weight="600">aicache benchmarks: headline ratios against baselines measured in the same run</text>
  <text x="16" y="46" fill="#555" font-size="11">${escapeXml(subtitle)}</text>
  ${axis(layout, headlines.length)}
  ${headlines.map((headline, index) => barOf(layout, headline, index)).join('\n  ')}
  <rect x="16" y="${legendY - 10}" width="12" height="12" fill="${COLORS.met}"/><text x="34" y="${legendY}">goal met</text>
  <rect x="110" y="${legendY - 10}" width="12" height="12" fill="${COLORS.missed}"/><text x="128" y="${legendY}">goal not met</text>
  <rect x="228" y="${legendY - 10}" width="12" height="12" fill="${COLORS.none}"/><text x="246" y="${legendY}">no goal set</text>
  <line x1="340" y1="${legendY - 11}" x2="340" y2="${legendY + 2}" stroke="#111" stroke-width="2"/><text x="348" y="${legendY}">goal; bars beyond 2x are cut (▸). Details in the tables.</text>
</svg>
`
}
