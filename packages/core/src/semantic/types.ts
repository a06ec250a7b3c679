/**
 * The semantic tier's parts, each behind an interface so an embedder, an
 * index or a judge can change without the tier noticing.
 */

/** Turns texts into vectors: the semantic tier's view of an embedding model. */
export interface Embedder {
  /**
   * Names the model and its settings. Vectors of different embedders are
   * never compared: the id is part of every index's identity.
   */
  readonly id: string
  /**
   * One vector per text, in order. They need not be unit length: the index
   * normalises. `caller` is the request being looked up (an embedder that
   * calls an API with the caller's own credentials reads its headers).
   */
  embed(texts: readonly string[], signal?: AbortSignal, caller?: EmbedCaller): Promise<Float32Array[]>
}

/** The request a query embedding is made for. */
export interface EmbedCaller {
  /** Its headers, lower-case names (`authorization`). */
  readonly headers: Readonly<Record<string, string | string[] | undefined>>
  /** The framework's own request object, as the `scope` option sees it. */
  readonly native?: unknown
  /**
   * The engine's client-mode `fetch` (`cache.fetch`): an embedder that calls
   * an embeddings API through it has its calls cached by the engine.
   */
  readonly fetch?: typeof globalThis.fetch
  /** The engine's `upstream`, when it has one. */
  readonly upstream?: URL | undefined
}

/** A stored question the index found near a new one. */
export interface SemanticNeighbour {
  /** The exact cache key of the entry that answered the stored question. */
  readonly key: string
  /** The compared text of the stored question (its last user turn). */
  readonly text: string
  /** Cosine similarity of the two questions, from -1 to 1. */
  readonly similarity: number
}

/**
 * The stored questions of one context (scope, namespace, format and
 * everything of the request but its last user turn), searched by meaning.
 */
export interface SemanticIndex {
  /** Adds or replaces the question stored under `key`. */
  add(key: string, text: string, vector: Float32Array): void
  /** Forgets the question stored under `key`; `false` when there was none. */
  remove(key: string): boolean
  /** Up to `k` stored questions nearest to `vector`, most similar first. */
  nearest(vector: Float32Array, k: number): SemanticNeighbour[]
  readonly size: number
}

/** Why a neighbour was not served: a metric label and a span attribute. */
export type SemanticRejection = string

/** Decides whether a near neighbour's answer is right for a new question. */
export interface SemanticJudge {
  /** `undefined` to serve the neighbour's answer, else why it must not be served. */
  judge(query: string, neighbour: SemanticNeighbour, threshold: number): SemanticRejection | undefined
}
