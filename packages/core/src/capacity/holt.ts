/** Smoothing factors of {@link holtForecast}: Holt's linear method with a damped trend (Gardner and McKenzie). */
export interface HoltParameters {
  /** Weight of the newest value in the level, in (0, 1]. @default 0.5 */
  alpha: number
  /** Weight of the newest change in the trend, in [0, 1]; 0 keeps no trend (simple exponential smoothing). @default 0.1 */
  beta: number
  /** How much of the trend carries to each further step, in (0, 1]; 1 is Holt's undamped trend. @default 0.8 */
  damping: number
}

/** The smoothing factors the Azure LLM trace was tuned to (docs/capacity.md). */
export const defaultHoltParameters: Readonly<HoltParameters> = Object.freeze({ alpha: 0.5, beta: 0.1, damping: 0.8 })

/** Level and trend after the last value of a series. */
export interface HoltState {
  level: number
  trend: number
}

/**
 * Runs Holt's double exponential smoothing over `series` (per-interval
 * counts, oldest first) and returns the state after its last value; `onStep`
 * sees the state after each value (an evaluation forecasts from every one).
 * The level starts at the first value and the trend at zero.
 */
export function holtSmooth(series: ArrayLike<number>, parameters: HoltParameters, onStep?: (state: HoltState, index: number) => void): HoltState {
  const { alpha, beta, damping } = parameters
  const state: HoltState = { level: series.length > 0 ? series[0]! : 0, trend: 0 }
  onStep?.(state, 0)
  for (let index = 1; index < series.length; index++) {
    const previous = state.level
    state.level = alpha * series[index]! + (1 - alpha) * (previous + damping * state.trend)
    state.trend = beta * (state.level - previous) + (1 - beta) * damping * state.trend
    onStep?.(state, index)
  }
  return state
}

/** The value `steps` intervals after the state's last one; never below zero (counts are not negative). */
export function holtAhead(state: HoltState, parameters: HoltParameters, steps: number): number {
  // The damped trend adds φ + φ² + ... + φ^steps times the trend.
  let factor = 0
  let power = 1
  for (let step = 1; step <= steps; step++) {
    power *= parameters.damping
    factor += power
  }
  return Math.max(0, state.level + factor * state.trend)
}

/**
 * Forecasts the next `steps` values of a series of per-interval counts with
 * Holt's double exponential smoothing (damped trend): element `i` of the
 * result is the value `i + 1` intervals after the last one.
 *
 * @example
 * ```ts
 * holtForecast([10, 12, 14, 16], { alpha: 0.8, beta: 0.5, damping: 1 }, 2) // about [18, 20]
 * ```
 */
export function holtForecast(series: ArrayLike<number>, parameters: HoltParameters = defaultHoltParameters, steps = 1): number[] {
  const state = holtSmooth(series, parameters)
  return Array.from({ length: steps }, (_, index) => holtAhead(state, parameters, index + 1))
}
