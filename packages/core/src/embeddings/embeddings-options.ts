import { knownKeysOption, nonNegativeNumberOption, objectOption, positiveIntegerOption } from '../option-checks.js'

/**
 * The per-input embeddings cache: each input of `/v1/embeddings` cached on
 * its own, only missing inputs sent upstream, and (with a window) the
 * misses of concurrent requests merged into one call. See docs/embeddings.md.
 *
 * @example
 * ```ts
 * createAiCache({ upstream: 'https://api.openai.com', embeddings: { batchWindowMs: 5 } })
 * ```
 */
export interface EmbeddingsOptions {
  /**
   * How long the first missing input waits for misses of concurrent
   * requests (same scope, credential, model, `dimensions` and other fields)
   * to share its upstream call. 0 sends each request's misses at once.
   * 5 ms is the recommended window for servers with many small requests:
   * it costs a miss at most 5 ms and merges what arrives together.
   * @default 0
   */
  batchWindowMs?: number
  /** Inputs per upstream call at most (OpenAI's limit). @default 2048 */
  maxBatchInputs?: number
  /**
   * Tokens per upstream call at most (OpenAI's limit), counted generously
   * as UTF-8 bytes (a token is at least one byte) or token ids.
   * @default 300000
   */
  maxBatchTokens?: number
}

/** {@link EmbeddingsOptions} with every default filled in. */
export interface ResolvedEmbeddingsOptions {
  readonly batchWindowMs: number
  readonly maxBatchInputs: number
  readonly maxBatchTokens: number
}

/** Checks the `embeddings` option; `undefined` when it is `false` (embeddings are cached as whole requests). */
export function resolveEmbeddingsOptions(value: EmbeddingsOptions | false | undefined): ResolvedEmbeddingsOptions | undefined {
  if (value === false) return undefined
  const options = objectOption('embeddings', value)
  knownKeysOption('embeddings', options, ['batchWindowMs', 'maxBatchInputs', 'maxBatchTokens'])
  return Object.freeze({
    batchWindowMs: nonNegativeNumberOption('embeddings.batchWindowMs', options['batchWindowMs'], 0),
    maxBatchInputs: positiveIntegerOption('embeddings.maxBatchInputs', options['maxBatchInputs'], 2048),
    maxBatchTokens: positiveIntegerOption('embeddings.maxBatchTokens', options['maxBatchTokens'], 300_000),
  })
}
