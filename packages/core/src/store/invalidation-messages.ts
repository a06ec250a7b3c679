/** What the invalidation bus tells every instance: evict these from the memory tier. */
export type InvalidationMessage = { kind: 'namespace'; namespace: string; generation: number } | { kind: 'key'; key: string }

/** A message as received, with the id of the instance that sent it. */
export interface ReceivedInvalidation {
  origin: string
  message: InvalidationMessage
}

const messageVersion = 1

/** The bus message of a deleted key, as JSON. */
export function keyDeletedMessage(origin: string, key: string): string {
  return JSON.stringify({ v: messageVersion, origin, kind: 'key', key })
}

/**
 * The bus message of a bumped namespace, split around the generation: the
 * generation is only known inside the Lua script that bumps it, which joins
 * `prefix + generation + suffix`.
 */
export function namespaceBumpedMessage(origin: string, namespace: string): { prefix: string; suffix: string } {
  const head = JSON.stringify({ v: messageVersion, origin, kind: 'namespace', namespace })
  return { prefix: `${head.slice(0, -1)},"generation":`, suffix: '}' }
}

/**
 * Parses a bus message; `undefined` for anything else (another version, a
 * foreign publisher on the same channel, garbage). Never throws.
 */
export function parseInvalidation(text: string): ReceivedInvalidation | undefined {
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    return undefined
  }
  if (typeof value !== 'object' || value === null) return undefined
  const { v, origin, kind, key, namespace, generation } = value as Record<string, unknown>
  if (v !== messageVersion || typeof origin !== 'string') return undefined
  if (kind === 'key' && typeof key === 'string') return { origin, message: { kind, key } }
  if (kind === 'namespace' && typeof namespace === 'string' && Number.isSafeInteger(generation)) {
    return { origin, message: { kind, namespace, generation: generation as number } }
  }
  return undefined
}
