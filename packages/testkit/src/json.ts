/** A parsed JSON object whose fields are still unchecked. */
export type JsonObject = Record<string, unknown>

/** Narrows parsed JSON to an object, so request fields can be read safely. */
export function isJsonObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/** Parses JSON without throwing, because clients may send anything. */
export function parseJson(text: string): unknown {
  try {
    return text === '' ? undefined : JSON.parse(text)
  } catch {
    return undefined
  }
}

/** A positive integer field, or undefined so callers can apply their default. */
export function positiveInteger(value: unknown): number | undefined {
  return Number.isInteger(value) && (value as number) > 0 ? (value as number) : undefined
}
