import { AiCacheError } from './errors.js'

/**
 * Checks for option values, shared by the `resolve*Options` functions. Each
 * returns the value (or the fallback when it is undefined) and throws
 * `AiCacheError('invalid_option')` naming the option (`retry.maxAttempts`)
 * otherwise, so a bad option stops the start-up with a message that says which.
 */

function invalid(name: string, expected: string, value: unknown): AiCacheError {
  return new AiCacheError('invalid_option', `Option '${name}' must be ${expected}, got ${String(value)}`, { param: name })
}

/** A whole number >= 1 (or `Infinity` when `allowInfinity`). */
export function positiveIntegerOption(name: string, value: unknown, fallback: number, allowInfinity = false): number {
  if (value === undefined) return fallback
  if (allowInfinity && value === Number.POSITIVE_INFINITY) return value
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1) {
    throw invalid(name, allowInfinity ? 'a positive integer or Infinity' : 'a positive integer', value)
  }
  return value
}

/** A whole number >= 0. */
export function nonNegativeIntegerOption(name: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw invalid(name, 'a non-negative integer', value)
  }
  return value
}

/** A finite number > 0. */
export function positiveNumberOption(name: string, value: unknown, fallback: number): number
export function positiveNumberOption(name: string, value: unknown, fallback: undefined): number | undefined
export function positiveNumberOption(name: string, value: unknown, fallback: number | undefined): number | undefined {
  if (value === undefined) return fallback
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) throw invalid(name, 'a positive number', value)
  return value
}

/** A finite number >= 0. */
export function nonNegativeNumberOption(name: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) throw invalid(name, 'a non-negative number', value)
  return value
}

/** `true` or `false`. */
export function booleanOption(name: string, value: unknown, fallback: boolean): boolean {
  if (value === undefined) return fallback
  if (typeof value !== 'boolean') throw invalid(name, 'true or false', value)
  return value
}

/** A plain object (or undefined); `false` is handled by the caller. */
export function objectOption(name: string, value: unknown): Record<string, unknown> {
  if (value === undefined) return {}
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw invalid(name, 'an object', value)
  return value as Record<string, unknown>
}

/**
 * Throws for a key of `value` that is not in `known`, naming it under `name`
 * (`normalize.whitespaces`): a misspelt option would otherwise be ignored
 * and its default used without a word.
 */
export function knownKeysOption(name: string, value: object, known: readonly string[]): void {
  for (const key of Object.keys(value)) {
    if (!known.includes(key)) {
      throw new AiCacheError('invalid_option', `Unknown option '${name}.${key}'; known: ${known.join(', ')}`, {
        param: `${name}.${key}`,
      })
    }
  }
}
