/**
 * Generation numbers of namespaces. The generation is part of every key, so
 * bumping it makes all entries of a namespace unreachable in O(1); the
 * stores then drop them as they age out.
 */
export class NamespaceGenerations {
  readonly #generations = new Map<string, number>()

  /** The current generation of a namespace (0 until it is first bumped). */
  get(namespace: string): number {
    return this.#generations.get(namespace) ?? 0
  }

  /** Invalidates a namespace; returns its new generation. */
  bump(namespace: string): number {
    const next = this.get(namespace) + 1
    this.#generations.set(namespace, next)
    return next
  }
}
