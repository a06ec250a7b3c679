/** Number formats shared by the scenario tables. */

/** Requests per second, whole. */
export function formatRate(requestsPerSecond: number): string {
  return Number.isFinite(requestsPerSecond) ? Math.round(requestsPerSecond).toString() : 'n/a'
}

/** A ratio against a baseline, e.g. '1.03x'. */
export function formatRatio(ratio: number): string {
  return Number.isFinite(ratio) ? `${ratio.toFixed(2)}x` : 'n/a'
}

/** Milliseconds with the resolution that matters on loopback. */
export function formatMs(durationMs: number): string {
  return Number.isFinite(durationMs) ? durationMs.toFixed(2) : 'n/a'
}

/** A signed difference in milliseconds, e.g. '+0.31'. */
export function formatSignedMs(durationMs: number): string {
  return `${durationMs >= 0 ? '+' : ''}${formatMs(durationMs)}`
}

/** Microseconds, whole. */
export function formatMicroseconds(durationMicroseconds: number): string {
  return Number.isFinite(durationMicroseconds) ? durationMicroseconds.toFixed(0) : 'n/a'
}
