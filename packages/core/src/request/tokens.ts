import { createRequire } from 'node:module'
import { pathToFileURL } from 'node:url'
import { Worker } from 'node:worker_threads'
import type { TokenUsage } from '../exchange/types.js'
import type { ApiFormat } from '../formats/format.js'
import { promptTextOf } from '../formats/registry.js'
import { exactCharacters, pieceEnd, runCharacters, sliceCharacters } from './token-pieces.js'

/**
 * Runs in the worker: loads `gpt-tokenizer` (o200k, the encoding of current
 * OpenAI models) from the URL the main thread resolved, and answers
 * `{ id, texts }` with `{ id, counts }`. Written to run as a script or as a
 * module, since an eval worker takes the parent's `--input-type`; messages
 * sent before the tokenizer loaded wait in the port.
 *
 * Work is bounded per request: texts are counted by pieces (`pieceEnd`, whose
 * source is copied in, so the worker runs exactly what the tests check) and
 * requests take turns, a slice of `sliceCharacters` each, so a request with
 * megabytes of prompt never keeps a short one waiting behind it; beyond
 * `exactCharacters` a text counts one token per UTF-8 byte.
 */
const workerSource = `
const { parentPort, workerData } = process.getBuiltinModule('node:worker_threads')
const pieceEnd = ${pieceEnd.toString()}
const runCharacters = ${runCharacters}
const sliceCharacters = ${sliceCharacters}
const exactCharacters = ${exactCharacters}
import(workerData.tokenizerUrl).then((loaded) => {
  const countTokens = loaded.countTokens ?? loaded.default.countTokens
  const jobs = []
  let running = false
  // Counts up to one slice of a job; true once the job is done.
  const advance = (job) => {
    let budget = sliceCharacters
    for (; job.text < job.texts.length; job.text++, job.position = 0) {
      const text = job.texts[job.text]
      const exactEnd = Math.min(text.length, exactCharacters)
      while (job.position < exactEnd) {
        if (budget <= 0) return false
        const end = Math.min(pieceEnd(text, job.position, runCharacters, sliceCharacters), exactEnd)
        job.counts[job.text] += countTokens(text.slice(job.position, end))
        budget -= end - job.position
        job.position = end
      }
      if (exactEnd < text.length) job.counts[job.text] += Buffer.byteLength(text.slice(exactEnd))
    }
    return true
  }
  // One slice per turn of the event loop, so messages that arrived meanwhile join the queue first.
  const run = () => {
    const job = jobs.shift()
    try {
      if (advance(job)) parentPort.postMessage({ id: job.id, counts: job.counts })
      else jobs.push(job)
    } catch (error) {
      parentPort.postMessage({ id: job.id, error: String(error && error.message ? error.message : error) })
    }
    if (jobs.length > 0) setImmediate(run)
    else running = false
  }
  parentPort.on('message', ({ id, texts }) => {
    jobs.push({ id, texts, counts: texts.map(() => 0), text: 0, position: 0 })
    if (!running) {
      running = true
      setImmediate(run)
    }
  })
})
`

interface Pending {
  resolve: (counts: number[]) => void
  reject: (error: Error) => void
}

type Reply = { id: number; counts: number[] } | { id: number; error: string }

/**
 * The tokenizer's tables (about 15 MB of heap and 60 MB in all) live in a
 * worker thread's own heap rather than the server's: every garbage
 * collection of the server would otherwise walk them, which costs a cache
 * hit about a tenth of its throughput (docs/decisions/0010). Started on first
 * use; it does not keep the process alive while idle.
 */
class TokenizerWorker {
  readonly #worker: Worker
  readonly #pending = new Map<number, Pending>()
  #nextId = 0
  #failed: Error | undefined

  constructor(tokenizerUrl: string, onGone: () => void) {
    this.#worker = new Worker(workerSource, { eval: true, workerData: { tokenizerUrl } })
    this.#worker.unref()
    this.#worker.on('message', (reply: Reply) => this.#settle(reply))
    const fail = (error: Error) => {
      this.#failed = error
      for (const pending of this.#pending.values()) pending.reject(error)
      this.#pending.clear()
      onGone()
    }
    this.#worker.on('error', fail)
    this.#worker.on('exit', (code) => fail(new Error(`the token counting worker exited (code ${code})`)))
  }

  count(texts: readonly string[]): Promise<number[]> {
    if (this.#failed) return Promise.reject(this.#failed)
    const id = this.#nextId++
    return new Promise((resolve, reject) => {
      // Held while an answer is due, so a caller awaiting it is not cut short.
      if (this.#pending.size === 0) this.#worker.ref()
      this.#pending.set(id, { resolve, reject })
      this.#worker.postMessage({ id, texts })
    })
  }

  #settle(reply: Reply): void {
    const pending = this.#pending.get(reply.id)
    if (pending === undefined) return
    this.#pending.delete(reply.id)
    if (this.#pending.size === 0) this.#worker.unref()
    if ('error' in reply) pending.reject(new Error(`token counting failed: ${reply.error}`))
    else pending.resolve(reply.counts)
  }
}

let worker: TokenizerWorker | undefined

/**
 * Counts the tokens of each text with `gpt-tokenizer` (o200k), in a worker
 * thread, piece by piece (see `countByPieces`): the same count for ordinary
 * text, never less for any text, in time linear in its length. A worker that
 * died is replaced on the next call.
 */
export function countTokens(texts: readonly string[]): Promise<number[]> {
  if (worker === undefined) {
    const tokenizerUrl = pathToFileURL(createRequire(import.meta.url).resolve('gpt-tokenizer')).href
    const created = new TokenizerWorker(tokenizerUrl, () => {
      if (worker === created) worker = undefined
    })
    worker = created
  }
  return worker.count(texts)
}

/**
 * Usage estimated from the prompt (read by the request's format, or the one
 * its body looks like) and the answer text, for answers that did not report theirs.
 */
export async function estimateUsage(requestBody: unknown, answerText: string, format?: ApiFormat): Promise<TokenUsage> {
  const [inputTokens = 0, outputTokens = 0] = await countTokens([promptTextOf(requestBody, format), answerText])
  return { inputTokens, outputTokens }
}
