/** The forecast scenario's tables. */
import type { Headline, ScenarioReport } from '../scenario.js'
import type { ForecastResult } from './forecast.js'

const percent = (value: number) => (Number.isFinite(value) ? `${(value * 100).toFixed(1)}%` : 'n/a')
const ratio = (value: number, baseline: number) => (Number.isFinite(value / baseline) ? `${(value / baseline).toFixed(2)}x` : 'n/a')

/** MAPE tables, the concurrency check and the headlines (forecast ÷ naive MAPE, goal ≤ 1). */
export function forecastReport(result: ForecastResult, credit: string): ScenarioReport {
  const { parameters } = result.tuned
  const rows = result.horizons.flatMap(({ minutes, requests, tokens }) => [
    [
      `requests, ${minutes} min ahead`,
      percent(requests.gateway),
      percent(requests.naive),
      ratio(requests.gateway, requests.naive),
      percent(requests.offline),
      percent(requests.offlineNaive),
    ],
    [`tokens, ${minutes} min ahead`, percent(tokens.gateway), percent(tokens.naive), ratio(tokens.gateway, tokens.naive), '', ''],
  ])
  const headlines: Headline[] = result.horizons.map(({ minutes, requests }) => ({
    label: `forecast: Holt ÷ naive MAPE, requests ${minutes} min ahead`,
    value: requests.gateway / requests.naive,
    goal: { value: 1, direction: 'at-most' },
  }))
  const { concurrency } = result
  const failed = Object.values(result.failures).reduce((sum, count) => sum + count, 0)
  const failures = failed > 0 ? [`${failed} of ${result.requests} replayed requests failed: ${JSON.stringify(result.failures)}`] : []
  return {
    title: 'Load forecast on the Azure LLM trace',
    method:
      `${result.every === 1 ? "The trace's" : `Every ${result.every}th of the trace's requests,`} ${result.requests} requests replayed through the standalone gateway (examples/gateway) against the fake upstream, ${result.compression}x faster ` +
      `than real time, each a new question (a miss) whose upstream call lasts (250 ms + 25 ms per generated token) / ${result.compression}, its prompt a tenth of its context tokens (the token series counts what the upstream reports: those prompts and the fake's answers). ` +
      `The gateway's capacity option counts 15 s intervals of trace time (${result.intervalMs} ms) and forecasts with Holt's damped-trend smoothing ` +
      `(alpha ${parameters.alpha}, beta ${parameters.beta}, damping ${parameters.damping}, tuned on the first third of the hour by a grid search, training MAPE ${percent(result.tuned.trainingError)}); ` +
      `its forecasts, read back from GET /aicache/capacity, are judged on the last two thirds of the intervals it counted against the naive forecast (the last interval's count) on the same counts. ` +
      `A busy machine delays and bunches arrivals, which both forecasts then see: the gateway counted ${result.intervals} busy intervals where the trace has 236. ` +
      `MAPE: mean |forecast − actual| ÷ actual of one interval's count that many minutes ahead. "offline" is the same forecast computed over the trace's own counts, without the gateway.`,
    table: {
      columns: [
        { title: 'series, horizon', align: 'left' },
        { title: 'Holt (gateway)', align: 'right' },
        { title: 'naive', align: 'right' },
        { title: 'Holt ÷ naive', align: 'right' },
        { title: 'Holt (offline)', align: 'right' },
        { title: 'naive (offline)', align: 'right' },
      ],
      rows,
    },
    moreSections: [
      {
        title: 'Recommended upstream concurrency against what the traffic needed',
        method:
          "At the end of each judged interval the gateway recommends an upstream concurrency (Little's law: the highest forecast call rate of the next minute × the mean call time lately ÷ 0.7 target utilisation). " +
          'It is compared with the most calls the next interval actually had in flight at once.',
        table: {
          columns: [
            { title: 'judged intervals', align: 'right' },
            { title: 'recommendation below the need', align: 'right' },
            { title: 'mean recommended', align: 'right' },
            { title: 'mean peak in flight', align: 'right' },
          ],
          rows: [
            [
              String(concurrency.intervals),
              `${concurrency.under} (${percent(concurrency.under / concurrency.intervals)})`,
              concurrency.meanRecommended.toFixed(1),
              concurrency.meanPeak.toFixed(1),
            ],
          ],
        },
        notes: [],
      },
    ],
    notes: [
      ...result.horizons.map(
        ({ minutes, requests }) =>
          `${minutes} min ahead: Holt ${percent(requests.gateway)} against naive ${percent(requests.naive)} (${ratio(requests.gateway, requests.naive)}; goal ≤ 1.00x: ${requests.gateway < requests.naive ? 'met' : 'not met'}).`,
      ),
      credit,
    ],
    failures,
    headlines,
    rounds: result,
  }
}
