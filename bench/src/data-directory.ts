import { resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

/**
 * The real query sets and the LLM request trace the benchmarks and
 * `pnpm eval` replay: the repository's `data/` (each set with its licence;
 * data/README.md credits them), or `AICACHE_DATA_DIR` for other copies.
 */
export const dataDirectory = process.env['AICACHE_DATA_DIR'] ?? fileURLToPath(new URL('../../data/', import.meta.url))

/** A file of the data directory: `dataPath('clinc150', 'data_full.json')`. */
export function dataPath(...parts: string[]): string {
  return resolve(dataDirectory, ...parts)
}
