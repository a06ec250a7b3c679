/**
 * The precision / hit-rate chart of the evaluation: one line per judge and
 * data set over the threshold sweep, the default operating point marked,
 * as a hand-written SVG (no dependency).
 */
import type { SweepPoint } from './sweep.js'

/** One line of the chart. */
export interface ChartSeries {
  readonly label: string
  readonly color: string
  readonly dashed?: boolean
  readonly points: readonly SweepPoint[]
  /** The threshold of the marked operating point, if any. */
  readonly marked?: number
}

/** One panel: a data set. */
export interface ChartPanel {
  readonly title: string
  readonly series: readonly ChartSeries[]
  /** A goal drawn as a shaded region: precision at least `precision` at a hit rate at least `hitRate`. */
  readonly goal?: { precision: number; hitRate: number }
}

const PANEL_WIDTH = 420
const PANEL_HEIGHT = 300
const LEFT = 56
const TOP = 70
const GAP = 70
const LEGEND_HEIGHT = 22
// Precision below this floor is drawn at the floor: the interesting part is near 1.
const PRECISION_FLOOR = 0.6

function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;')
}

function panelSvg(panel: ChartPanel, originX: number): string {
  const x = (hitRate: number) => originX + hitRate * PANEL_WIDTH
  const y = (precision: number) => TOP + ((1 - Math.max(precision, PRECISION_FLOOR)) / (1 - PRECISION_FLOOR)) * PANEL_HEIGHT
  const parts: string[] = [`<text x="${originX}" y="${TOP - 12}" font-weight="600">${escapeXml(panel.title)}</text>`]
  if (panel.goal) {
    parts.push(
      `<rect x="${x(panel.goal.hitRate).toFixed(1)}" y="${y(1).toFixed(1)}" width="${(x(1) - x(panel.goal.hitRate)).toFixed(1)}" height="${(y(panel.goal.precision) - y(1)).toFixed(1)}" fill="#e8f5e9" stroke="#66bb6a" stroke-dasharray="4 3"/>`,
      `<text x="${(x(1) - 4).toFixed(1)}" y="${(y(panel.goal.precision) - 6).toFixed(1)}" text-anchor="end" fill="#2e7d32" font-size="11">goal</text>`,
    )
  }
  for (let tick = 0; tick <= 1.0001; tick += 0.2) {
    const tickX = x(tick).toFixed(1)
    parts.push(`<line x1="${tickX}" y1="${TOP}" x2="${tickX}" y2="${TOP + PANEL_HEIGHT}" stroke="#eee"/>`)
    parts.push(`<text x="${tickX}" y="${TOP + PANEL_HEIGHT + 16}" text-anchor="middle" fill="#555" font-size="11">${tick.toFixed(1)}</text>`)
  }
  for (let tick = PRECISION_FLOOR; tick <= 1.0001; tick += 0.1) {
    const tickY = y(tick).toFixed(1)
    parts.push(`<line x1="${originX}" y1="${tickY}" x2="${x(1)}" y2="${tickY}" stroke="#eee"/>`)
    parts.push(`<text x="${originX - 6}" y="${(y(tick) + 4).toFixed(1)}" text-anchor="end" fill="#555" font-size="11">${tick.toFixed(1)}</text>`)
  }
  parts.push(`<rect x="${originX}" y="${TOP}" width="${PANEL_WIDTH}" height="${PANEL_HEIGHT}" fill="none" stroke="#999"/>`)
  parts.push(`<text x="${originX + PANEL_WIDTH / 2}" y="${TOP + PANEL_HEIGHT + 34}" text-anchor="middle" fill="#333">hit rate</text>`)
  parts.push(
    `<text x="${originX - 40}" y="${TOP + PANEL_HEIGHT / 2}" text-anchor="middle" fill="#333" transform="rotate(-90 ${originX - 40} ${TOP + PANEL_HEIGHT / 2})">precision</text>`,
  )
  for (const series of panel.series) {
    const path = series.points.map((point, i) => `${i === 0 ? 'M' : 'L'}${x(point.score.hitRate).toFixed(1)},${y(point.score.precision).toFixed(1)}`).join(' ')
    parts.push(`<path d="${path}" fill="none" stroke="${series.color}" stroke-width="2"${series.dashed ? ' stroke-dasharray="5 4"' : ''}/>`)
    const marked = series.points.find((point) => point.threshold === series.marked)
    if (marked) {
      parts.push(
        `<circle cx="${x(marked.score.hitRate).toFixed(1)}" cy="${y(marked.score.precision).toFixed(1)}" r="5" fill="${series.color}" stroke="#111" stroke-width="1.5"/>`,
      )
    }
  }
  return parts.join('\n  ')
}

/** The SVG: panels side by side, one legend of the series of the first panel below them. */
export function renderPrecisionChart(title: string, subtitle: string, panels: readonly ChartPanel[]): string {
  const width = LEFT + panels.length * (PANEL_WIDTH + GAP)
  const legendSeries = panels[0]?.series ?? []
  const legendTop = TOP + PANEL_HEIGHT + 56
  const height = legendTop + legendSeries.length * LEGEND_HEIGHT + 36
  const legend = legendSeries.map((series, i) => {
    const rowY = legendTop + i * LEGEND_HEIGHT
    return (
      `<line x1="${LEFT}" y1="${rowY}" x2="${LEFT + 30}" y2="${rowY}" stroke="${series.color}" stroke-width="2"${series.dashed ? ' stroke-dasharray="5 4"' : ''}/>` +
      `<text x="${LEFT + 38}" y="${rowY + 4}">${escapeXml(series.label)}</text>`
    )
  })
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="system-ui, -apple-system, Segoe UI, sans-serif" font-size="13">
  <rect width="100%" height="100%" fill="#fff"/>
  <text x="16" y="24" font-size="17" font-weight="600">${escapeXml(title)}</text>
  <text x="16" y="42" fill="#555" font-size="11">${escapeXml(subtitle)}</text>
  ${panels.map((panel, i) => panelSvg(panel, LEFT + i * (PANEL_WIDTH + GAP))).join('\n  ')}
  ${legend.join('\n  ')}
  <text x="${LEFT}" y="${height - 12}" fill="#555" font-size="11">Each line sweeps the threshold (higher threshold: fewer hits); the ringed dot is the default operating point. Precision below ${PRECISION_FLOOR} is drawn at ${PRECISION_FLOOR}.</text>
</svg>
`
}
