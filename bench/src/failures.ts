/** Failed requests in measured runs, which make a benchmark worthless, summed per target. */

/** Errors and non-2xx responses of one target over its measured rounds. */
export interface FailureCount {
  errors: number
  non2xx: number
}

/** Sums the failures of `results`. */
export function countFailures(results: readonly FailureCount[]): FailureCount {
  return {
    errors: results.reduce((sum, result) => sum + result.errors, 0),
    non2xx: results.reduce((sum, result) => sum + result.non2xx, 0),
  }
}

/** The table cell, e.g. '0 / 0'. */
export function formatFailures(count: FailureCount): string {
  return `${count.errors} / ${count.non2xx}`
}

/** A failure line for the report, or undefined when every request succeeded. */
export function describeFailures(targetName: string, count: FailureCount): string | undefined {
  if (count.errors === 0 && count.non2xx === 0) return undefined
  return `${targetName}: ${count.errors} errors and ${count.non2xx} non-2xx responses in measured rounds`
}
