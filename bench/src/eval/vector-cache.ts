/**
 * Embeddings of the data sets, kept on disk (bench/.cache, outside git) so a
 * rerun of the evaluation embeds nothing it embedded before. Vectors are
 * stored in chunks of texts, each named by a hash of the embedder's id and
 * its texts: an interrupted run keeps what it had embedded.
 */
import { createHash } from 'node:crypto'
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'

/** What the evaluation needs of an embedder. */
export interface TextEmbedder {
  readonly id: string
  embed(texts: readonly string[]): Promise<Float32Array[]>
}

const CHUNK = 500

function chunkFile(directory: string, embedderId: string, texts: readonly string[]): string {
  const hash = createHash('sha256').update(embedderId).update('\u0000').update(texts.join('\u0000')).digest('hex').slice(0, 24)
  return join(directory, `${embedderId}-${hash}.f32`)
}

function read(file: string, count: number): Float32Array[] | undefined {
  if (!existsSync(file)) return undefined
  const bytes = readFileSync(file)
  const all = new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength))
  const dimensions = all.length / count
  if (!Number.isInteger(dimensions) || dimensions === 0) return undefined
  return Array.from({ length: count }, (_, i) => all.subarray(i * dimensions, (i + 1) * dimensions))
}

function write(file: string, vectors: readonly Float32Array[]): void {
  const dimensions = vectors[0]?.length ?? 0
  const all = new Float32Array(vectors.length * dimensions)
  vectors.forEach((vector, i) => all.set(vector, i * dimensions))
  // Written whole then renamed: an interrupted run never leaves a truncated file behind.
  writeFileSync(`${file}.tmp`, Buffer.from(all.buffer))
  renameSync(`${file}.tmp`, file)
}

/**
 * The vectors of `texts` under `embedder`, from `directory` where a previous
 * run stored them, else embedded now and stored. `onProgress` hears
 * done/total after each chunk.
 */
export async function cachedVectors(
  directory: string,
  embedder: TextEmbedder,
  texts: readonly string[],
  onProgress?: (done: number, total: number) => void,
): Promise<Float32Array[]> {
  mkdirSync(directory, { recursive: true })
  const vectors: Float32Array[] = []
  for (let start = 0; start < texts.length; start += CHUNK) {
    const chunk = texts.slice(start, start + CHUNK)
    const file = chunkFile(directory, embedder.id, chunk)
    let embedded = read(file, chunk.length)
    if (!embedded) {
      embedded = await embedder.embed(chunk)
      write(file, embedded)
      onProgress?.(start + chunk.length, texts.length)
    }
    vectors.push(...embedded)
  }
  return vectors
}
