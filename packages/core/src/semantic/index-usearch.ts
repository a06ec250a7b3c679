import { createRequire } from 'node:module'
import { AiCacheError } from '../errors.js'
import type { SemanticIndex, SemanticNeighbour } from './types.js'

/** Options of {@link createUsearchIndex}. */
export interface UsearchIndexOptions {
  /** Vector dimensions of the embedder (512 for `use-lite-512`). */
  readonly dimensions: number
  /**
   * How vectors are stored: `f32` exact, `f16` half the memory, `i8` a
   * quarter (cosine on 8-bit vectors moves similarities by about 0.005).
   * @default 'f16'
   */
  readonly quantization?: 'f32' | 'f16' | 'i8'
  /** Links per node of the HNSW graph. @default 16 */
  readonly connectivity?: number
  /** Candidates kept while inserting. @default 64 */
  readonly expansionAdd?: number
  /** Candidates kept while searching: higher finds more true neighbours, slower. @default 64 */
  readonly expansionSearch?: number
}

// The part of usearch's API used here, declared structurally so the
// declaration files of @aicache/core never import usearch.
interface UsearchMatches {
  keys: BigUint64Array
  distances: Float32Array
}
interface UsearchNativeIndex {
  add(keys: bigint, vectors: Float32Array): void
  remove(keys: bigint): number | number[]
  search(vectors: Float32Array, k: number, threads: number): UsearchMatches
  size(): number
}
interface UsearchModule {
  Index: new (config: {
    dimensions: number
    metric: string
    quantization: string
    connectivity: number
    expansion_add: number
    expansion_search: number
    multi: boolean
  }) => UsearchNativeIndex
  MetricKind: { Cos: string }
  ScalarKind: { F32: string; F16: string; I8: string }
}

let usearchModule: UsearchModule | undefined

function loadUsearch(): UsearchModule {
  if (usearchModule) return usearchModule
  try {
    usearchModule = createRequire(import.meta.url)('usearch') as UsearchModule
  } catch (error) {
    throw new AiCacheError('invalid_option', 'an approximate semantic index needs the optional dependency usearch: npm install usearch@^2.25.3', {
      cause: error,
    })
  }
  return usearchModule
}

/**
 * An approximate index: an HNSW graph in usearch (native code with prebuilt
 * binaries, an optional peer dependency). Search cost grows with the
 * logarithm of the entries instead of their number; use it where the exact
 * index gets slow (docs/decisions/0066). Similarities are cosines, as in
 * the exact index.
 *
 * @example
 * const index = createUsearchIndex({ dimensions: 512 })
 */
export function createUsearchIndex(options: UsearchIndexOptions): SemanticIndex {
  const { dimensions } = options
  if (!Number.isInteger(dimensions) || dimensions <= 0) throw new AiCacheError('invalid_option', `dimensions must be a positive integer, got ${dimensions}`)
  const usearch = loadUsearch()
  const quantization = { f32: usearch.ScalarKind.F32, f16: usearch.ScalarKind.F16, i8: usearch.ScalarKind.I8 }[options.quantization ?? 'f16']
  const native = new usearch.Index({
    dimensions,
    metric: usearch.MetricKind.Cos,
    quantization,
    connectivity: options.connectivity ?? 16,
    expansion_add: options.expansionAdd ?? 64,
    expansion_search: options.expansionSearch ?? 64,
    multi: false,
  })
  // usearch keys are integers: each cache key gets one, new on every add, so a replaced entry never returns under its old vector.
  const idByKey = new Map<string, bigint>()
  const entryById = new Map<bigint, { key: string; text: string }>()
  let nextId = 0n
  const forget = (key: string): boolean => {
    const id = idByKey.get(key)
    if (id === undefined) return false
    native.remove(id)
    idByKey.delete(key)
    entryById.delete(id)
    return true
  }
  return {
    add(key, text, vector) {
      if (vector.length !== dimensions) return
      forget(key)
      const id = nextId++
      native.add(id, vector)
      idByKey.set(key, id)
      entryById.set(id, { key, text })
    },
    remove: forget,
    nearest(vector, k) {
      if (vector.length !== dimensions || idByKey.size === 0 || k <= 0) return []
      const matches = native.search(vector, Math.min(k, idByKey.size), 1)
      const found: SemanticNeighbour[] = []
      for (let i = 0; i < matches.keys.length; i++) {
        const entry = entryById.get(matches.keys[i]!)
        if (entry) found.push({ key: entry.key, text: entry.text, similarity: 1 - matches.distances[i]! })
      }
      return found
    },
    get size() {
      return idByKey.size
    },
  }
}
