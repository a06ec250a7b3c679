import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type * as Source from '../src/index.js'

// The built package, as users run it: the worker thread starts from dist/worker.mjs.
const { createLocalEmbedder, LocalEmbedderError } = (await import(new URL('../dist/index.mjs', import.meta.url).href)) as typeof Source

function cosine(a: Float32Array, b: Float32Array): number {
  let dot = 0
  let normA = 0
  let normB = 0
  for (let i = 0; i < a.length; i++) {
    dot += a[i]! * b[i]!
    normA += a[i]! * a[i]!
    normB += b[i]! * b[i]!
  }
  return dot / Math.sqrt(normA * normB)
}

describe('createLocalEmbedder', () => {
  let embedder: Source.LocalEmbedder
  beforeAll(async () => {
    embedder = createLocalEmbedder({ preload: true })
    await embedder.ready()
  })
  afterAll(() => embedder.close())

  it('returns one 512-d vector per text, in order, under the id use-lite-512', async () => {
    const texts = ['How do I reset my password?', 'What is the capital of France?', 'How do I reset my password?']
    const vectors = await embedder.embed(texts)
    expect(embedder.id).toBe('use-lite-512')
    expect(vectors).toHaveLength(3)
    for (const vector of vectors) expect(vector).toBeInstanceOf(Float32Array)
    expect(vectors[0]).toHaveLength(512)
    expect(cosine(vectors[0]!, vectors[2]!)).toBeCloseTo(1, 5)
    expect(await embedder.embed([])).toEqual([])
  })

  it('puts paraphrases nearer each other than unrelated sentences', async () => {
    const pairs: Array<[string, string]> = [
      ['How do I reset my password?', 'I forgot my password, how can I change it?'],
      ['What is the weather like in Paris today?', "What's today's forecast for Paris?"],
      ['My card was declined at the shop', 'Why did the store refuse my card payment?'],
    ]
    const vectors = await embedder.embed(pairs.flat())
    for (let i = 0; i < pairs.length; i++) {
      const paraphrase = cosine(vectors[2 * i]!, vectors[2 * i + 1]!)
      for (let j = 0; j < pairs.length; j++) {
        if (j === i) continue
        expect(paraphrase, `${pairs[i]![0]} / ${pairs[j]![1]}`).toBeGreaterThan(cosine(vectors[2 * i]!, vectors[2 * j + 1]!) + 0.2)
      }
    }
  })

  it('keeps the event loop turning while it embeds', async () => {
    const texts = Array.from({ length: 200 }, (_, i) => `Sentence ${i}: a question about trains, weather, banking and passwords`)
    const gaps: number[] = []
    let last = performance.now()
    const timer = setInterval(() => {
      const now = performance.now()
      gaps.push(now - last)
      last = now
    }, 10)
    const started = performance.now()
    try {
      await embedder.embed(texts)
    } finally {
      clearInterval(timer)
    }
    const elapsed = performance.now() - started
    // Embedding on the event loop would let no timer fire until it ended.
    expect(gaps.length).toBeGreaterThanOrEqual(5)
    expect(Math.max(...gaps)).toBeLessThan(elapsed / 2)
  })

  it('rejects an aborted call and every call after close()', async () => {
    const controller = new AbortController()
    const call = embedder.embed(['a long wait'], controller.signal)
    controller.abort()
    await expect(call).rejects.toMatchObject({ code: 'aborted' })
    const other = createLocalEmbedder()
    const pending = expect(other.embed(['never answered'])).rejects.toBeInstanceOf(LocalEmbedderError)
    await other.close()
    await pending
    await expect(other.embed(['after close'])).rejects.toMatchObject({ code: 'closed' })
  })

  it('propagates an error raised inside the worker', async () => {
    // A non-string cannot be tokenised: the worker's TypeError comes back as a rejection.
    await expect(embedder.embed([42 as unknown as string])).rejects.toMatchObject({ code: 'worker' })
    // The worker survives it.
    expect(await embedder.embed(['still working'])).toHaveLength(1)
  })
})

describe('close()', () => {
  it('settles in a process with nothing else to do (an idle worker must not let the process exit first)', async () => {
    const entry = new URL('../dist/index.mjs', import.meta.url).href
    // The model finishes loading while the main thread is busy: its reply is still queued when close() is called.
    const script = [
      `import { createLocalEmbedder } from '${entry}'`,
      'const embedder = createLocalEmbedder({ preload: true })',
      'await new Promise((resolve) => setTimeout(resolve, 10))',
      'const started = Date.now()',
      'while (Date.now() - started < 8000) {}',
      'await embedder.close()',
      "console.log('closed')",
    ].join('\n')
    const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script], { timeout: 60_000 })
    expect(stdout.trim()).toBe('closed')
  })
})
