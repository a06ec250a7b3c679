/** Forecast errors on a series of per-interval counts: Holt's against the naive last value. */
import { holtForecast, type HoltParameters } from '@aicache/core'

/** Mean absolute percentage error of `forecasts[i]` (made after value i) against value i + steps, for i from `from`; intervals with nothing to forecast skipped. */
export function meanAbsolutePercentageError(series: readonly number[], forecasts: readonly (number | undefined)[], steps: number, from: number): number {
  let total = 0
  let count = 0
  for (let index = from; index + steps < series.length; index++) {
    const actual = series[index + steps]!
    const forecast = forecasts[index]
    if (actual === 0 || forecast === undefined) continue
    total += Math.abs(forecast - actual) / actual
    count++
  }
  return count === 0 ? Number.NaN : total / count
}

/** Holt's forecast `steps` ahead made after each value of the series (from its prefix up to that value). */
export function holtForecastsAhead(series: readonly number[], parameters: HoltParameters, steps: number): number[] {
  return series.map((_, index) => holtForecast(series.slice(0, index + 1), parameters, steps)[steps - 1]!)
}

/**
 * The smoothing factors with the lowest mean MAPE over `horizons` (steps) on
 * `series[0..end)`: a grid over alpha, beta and the damping.
 */
export function tuneHolt(series: readonly number[], horizons: readonly number[], end: number): { parameters: HoltParameters; error: number } {
  const training = series.slice(0, end)
  let best = { parameters: { alpha: 0.5, beta: 0, damping: 1 }, error: Number.POSITIVE_INFINITY }
  for (let alphaStep = 1; alphaStep <= 20; alphaStep++) {
    for (const beta of [0, 0.05, 0.1, 0.2]) {
      for (const damping of [1, 0.9, 0.8]) {
        const parameters = { alpha: alphaStep / 20, beta, damping }
        const errors = horizons.map((steps) => meanAbsolutePercentageError(training, holtForecastsAhead(training, parameters, steps), steps, 1))
        const error = errors.reduce((sum, value) => sum + value, 0) / errors.length
        if (error < best.error) best = { parameters, error }
      }
    }
  }
  return best
}
