import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

/** One PromQL expression of a dashboard panel. */
export interface DashboardQuery {
  /** Title of the panel it belongs to. */
  panel: string
  /** Grafana's id of the query within its panel (`A`, `B`, ...). */
  refId: string
  /** The PromQL expression, exactly as the dashboard holds it (with Grafana's variables). */
  expression: string
  /**
   * The expression as Grafana sends it with every variable at "All" and a
   * time range of an hour: `$job`, `$instance`, `$model` as `.*`,
   * `$__rate_interval` as `1m`, `$__range` as `1h`.
   */
  promql: string
}

/** What Grafana puts in place of the dashboard's variables (all values picked, a one-hour range). */
export function expandVariables(expression: string): string {
  return expression
    .replaceAll('$__rate_interval', '1m')
    .replaceAll('$__range', '1h')
    .replace(/\$(job|instance|model)\b/g, '.*')
}

interface Panel {
  title?: string
  targets?: Array<{ refId?: string; expr?: string }>
  /** Panels inside a collapsed row. */
  panels?: Panel[]
}

/** The provisioned Grafana dashboard (`grafana/dashboards/aicache.json`), from `src/` and `dist/` alike. */
export const dashboardPath = fileURLToPath(new URL('../grafana/dashboards/aicache.json', import.meta.url))

function collect(panels: readonly Panel[], into: DashboardQuery[]): DashboardQuery[] {
  for (const panel of panels) {
    for (const target of panel.targets ?? []) {
      if (target.expr) {
        into.push({ panel: panel.title ?? '(untitled)', refId: target.refId ?? '?', expression: target.expr, promql: expandVariables(target.expr) })
      }
    }
    collect(panel.panels ?? [], into)
  }
  return into
}

/**
 * Every PromQL expression of the dashboard, read from the dashboard file
 * itself, so the test that runs them against Prometheus checks what Grafana
 * will show and there is no second copy to drift.
 *
 * @example
 * ```ts
 * for (const query of readDashboardQueries()) console.log(query.panel, query.expression)
 * ```
 */
export function readDashboardQueries(path: string = dashboardPath): DashboardQuery[] {
  const dashboard = JSON.parse(readFileSync(path, 'utf8')) as { panels?: Panel[] }
  return collect(dashboard.panels ?? [], [])
}
