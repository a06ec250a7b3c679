import type { UpstreamFacts } from '../telemetry/telemetry.js'
import { readAll } from '../upstream/headers.js'
import type { UpstreamResponse } from '../upstream/types.js'
import type { EmbeddingInput } from './embedding-request.js'
import { type StoredVector, vectorFromBase64, vectorFromFloats } from './stored-vector.js'

/** What the batcher is made with (`embeddings` option, resolved). */
export interface EmbeddingBatcherOptions {
  /** How long a call waits for more misses of the same kind; 0 sends each request's misses at once. */
  batchWindowMs: number
  /** Inputs per upstream call at most (OpenAI: 2,048). */
  maxBatchInputs: number
  /** Tokens per upstream call at most (OpenAI: 300,000), counted by {@link EmbeddingInput.maxTokens}. */
  maxBatchTokens: number
}

/** A vector fetched from the upstream for one input. */
export interface FetchedVector extends StoredVector {
  /**
   * The numbers exactly as a `float` answer had them, when float32 bytes
   * cannot hold them (an upstream that sends doubles); such a vector is
   * answered but not stored.
   */
  readonly exact?: readonly number[]
}

/** An upstream answer that was not a success (or not an embeddings answer), passed on to every request whose inputs were in the call. */
export class EmbeddingCallFailed extends Error {
  constructor(
    readonly status: number,
    readonly headers: Record<string, string | string[]>,
    readonly body: Buffer,
  ) {
    super(`the upstream answered ${status}`)
  }
}

/** Where and how the upstream calls of one kind of request go: one request's view, shared by every call it opens. */
export interface CallSender {
  /** Sends one call (the request's own URL and forwarded headers, `body` as its body). */
  send(body: Buffer): Promise<UpstreamResponse>
  /** Starts the GenAI span and metrics of one call; `end` is told how it went. */
  observe(): { end(facts: UpstreamFacts): void }
}

/** One input waiting for its vector. */
interface Pending {
  readonly input: EmbeddingInput
  /** Which request it came from: a call of inputs of several requests is a merged batch. */
  readonly requestId: number
  readonly resolve: (vector: FetchedVector) => void
  readonly reject: (error: unknown) => void
}

/** Inputs of one kind (same upstream, credential, URL and fields) collected for one call. */
interface OpenBatch {
  readonly group: string
  readonly fields: Readonly<Record<string, unknown>>
  readonly sender: CallSender
  readonly pending: Pending[]
  tokens: number
  wantsFloat: boolean
  timer: NodeJS.Timeout | undefined
}

/** Counted for stats and metrics. */
export interface BatchReport {
  /** Inputs the call sent. */
  inputs: number
  /** Requests whose inputs it carried (more than one: a merged batch). */
  requests: number
}

/**
 * Sends missing inputs upstream: each request's misses in one call, and,
 * with a window, the misses of concurrent requests of the same kind merged
 * into one call, up to the provider's limits on inputs and tokens. Every
 * input waits on a promise of its own vector; a failed call rejects every
 * input it carried.
 */
export class EmbeddingBatcher {
  readonly #options: EmbeddingBatcherOptions
  readonly #onCall: (report: BatchReport) => void
  readonly #open = new Map<string, OpenBatch>()
  #nextRequestId = 0

  constructor(options: EmbeddingBatcherOptions, onCall: (report: BatchReport) => void) {
    this.#options = options
    this.#onCall = onCall
  }

  /**
   * Promises the vectors of one request's missing inputs, in their order.
   * `group` names the kind of request: only inputs of one group share a
   * call (it holds the upstream, the credential, the URL and the fields).
   */
  fetch(
    group: string,
    fields: Readonly<Record<string, unknown>>,
    wantsFloat: boolean,
    sender: CallSender,
    inputs: readonly EmbeddingInput[],
  ): Array<Promise<FetchedVector>> {
    const requestId = this.#nextRequestId++
    const promises = inputs.map(
      (input) =>
        new Promise<FetchedVector>((resolve, reject) => {
          this.#add(group, fields, wantsFloat, sender, { input, requestId, resolve, reject })
        }),
    )
    if (this.#options.batchWindowMs === 0) {
      const batch = this.#open.get(group)
      if (batch !== undefined) this.#flush(batch)
    }
    return promises
  }

  #add(group: string, fields: Readonly<Record<string, unknown>>, wantsFloat: boolean, sender: CallSender, pending: Pending): void {
    let batch = this.#open.get(group)
    const { maxBatchInputs, maxBatchTokens, batchWindowMs } = this.#options
    if (batch !== undefined && batch.pending.length > 0 && batch.tokens + pending.input.maxTokens > maxBatchTokens) {
      this.#flush(batch)
      batch = undefined
    }
    if (batch === undefined) {
      batch = { group, fields, sender, pending: [], tokens: 0, wantsFloat: false, timer: undefined }
      this.#open.set(group, batch)
      if (batchWindowMs > 0) {
        const opened = batch
        batch.timer = setTimeout(() => this.#flush(opened), batchWindowMs)
      }
    }
    batch.pending.push(pending)
    batch.tokens += pending.input.maxTokens
    batch.wantsFloat ||= wantsFloat
    if (batch.pending.length >= maxBatchInputs) this.#flush(batch)
  }

  #flush(batch: OpenBatch): void {
    if (this.#open.get(batch.group) === batch) this.#open.delete(batch.group)
    if (batch.timer !== undefined) clearTimeout(batch.timer)
    if (batch.pending.length === 0) return
    void this.#send(batch.sender, batch.fields, batch.wantsFloat, batch.pending)
  }

  async #send(sender: CallSender, fields: Readonly<Record<string, unknown>>, wantsFloat: boolean, pending: readonly Pending[]): Promise<void> {
    const requests = new Set(pending.map((item) => item.requestId)).size
    this.#onCall({ inputs: pending.length, requests })
    let outcome: FetchedVector[] | EmbeddingCallFailed
    try {
      outcome = await callUpstream(sender, fields, wantsFloat, pending)
    } catch (error) {
      for (const item of pending) item.reject(error)
      return
    }
    if (outcome instanceof EmbeddingCallFailed) {
      // An input the upstream refuses (too long, say) fails the whole call: a
      // merged call is sent again request by request, so only its own request sees the error.
      if (requests > 1 && outcome.status >= 400 && outcome.status < 500 && outcome.status !== 429) {
        for (const own of byRequest(pending)) void this.#send(sender, fields, wantsFloat, own)
        return
      }
      for (const item of pending) item.reject(outcome)
      return
    }
    pending.forEach((item, index) => item.resolve(outcome[index]!))
  }
}

function byRequest(pending: readonly Pending[]): Pending[][] {
  const groups = new Map<number, Pending[]>()
  for (const item of pending) {
    let group = groups.get(item.requestId)
    if (group === undefined) groups.set(item.requestId, (group = []))
    group.push(item)
  }
  return [...groups.values()]
}

/** One upstream call for `pending`: their vectors in order, or the failure the upstream answered with. */
async function callUpstream(
  sender: CallSender,
  fields: Readonly<Record<string, unknown>>,
  wantsFloat: boolean,
  pending: readonly Pending[],
): Promise<FetchedVector[] | EmbeddingCallFailed> {
  const body = Buffer.from(JSON.stringify({ ...fields, input: pending.map((item) => item.input.value), encoding_format: wantsFloat ? 'float' : 'base64' }))
  const observation = sender.observe()
  let response: UpstreamResponse
  let answer: Buffer
  try {
    response = await sender.send(body)
    answer = await readAll(response.body)
  } catch (error) {
    observation.end({ errorType: (error as { code?: string }).code ?? 'error' })
    throw error
  }
  if (response.status < 200 || response.status >= 300) {
    observation.end({ status: response.status })
    return new EmbeddingCallFailed(response.status, response.headers, answer)
  }
  const parsed = vectorsOf(answer, pending)
  if (parsed === undefined) {
    // Not an answer to these inputs (a proxy's page, a truncated body): passed on as it came, never stored.
    observation.end({ status: response.status })
    return new EmbeddingCallFailed(response.status, response.headers, answer)
  }
  observation.end({
    status: response.status,
    usage: { inputTokens: parsed.tokens, outputTokens: 0 },
    ...(parsed.model === undefined ? {} : { responseModel: parsed.model }),
  })
  return parsed.vectors
}

/** The vectors of an answer, in the order of `pending`, or `undefined` when it is not an answer to them. */
function vectorsOf(answer: Buffer, pending: readonly Pending[]): { vectors: FetchedVector[]; tokens: number; model: string | undefined } | undefined {
  let parsed: unknown
  try {
    parsed = JSON.parse(answer.toString('utf8'))
  } catch {
    return undefined
  }
  const record = parsed as { data?: unknown; model?: unknown; usage?: { prompt_tokens?: unknown } } | null
  if (record === null || typeof record !== 'object' || !Array.isArray(record.data) || record.data.length !== pending.length) return undefined
  const model = typeof record.model === 'string' ? record.model : undefined
  const promptTokens = record.usage?.prompt_tokens
  const tokens = typeof promptTokens === 'number' && Number.isSafeInteger(promptTokens) && promptTokens >= 0 ? promptTokens : 0
  const shares = apportion(
    tokens,
    pending.map((item) => item.input.maxTokens),
  )
  const vectors: FetchedVector[] = new Array(pending.length)
  for (const item of record.data as unknown[]) {
    const { index, embedding } = (item ?? {}) as { index?: unknown; embedding?: unknown }
    if (typeof index !== 'number' || !Number.isInteger(index) || index < 0 || index >= pending.length || vectors[index] !== undefined) return undefined
    const vector = fetchedVector(embedding, model, shares[index]!)
    if (vector === undefined) return undefined
    vectors[index] = vector
  }
  return { vectors, tokens, model }
}

function fetchedVector(embedding: unknown, model: string | undefined, tokens: number): FetchedVector | undefined {
  if (typeof embedding === 'string') {
    const bytes = vectorFromBase64(embedding)
    return bytes && { bytes, model, tokens }
  }
  if (!Array.isArray(embedding)) return undefined
  const bytes = vectorFromFloats(embedding)
  if (bytes !== undefined) return { bytes, model, tokens }
  if (!embedding.every((value) => typeof value === 'number')) return undefined
  // Doubles: answered as sent, never stored.
  const rounded = vectorFromFloats(embedding.map((value: number) => Math.fround(value)))
  return rounded && { bytes: rounded, model, tokens, exact: embedding as number[] }
}

/**
 * Splits a call's tokens between its inputs in proportion to their length
 * (largest remainders, so the shares add up to the total): what each input
 * cost, and what a later hit on it saves. Exact for a call of one input.
 */
export function apportion(total: number, weights: readonly number[]): number[] {
  const sum = weights.reduce((accumulated, weight) => accumulated + weight, 0)
  if (sum === 0 || total === 0) return weights.map((_, index) => (index === 0 ? total : 0))
  const exact = weights.map((weight) => (total * weight) / sum)
  const shares = exact.map(Math.floor)
  let left = total - shares.reduce((accumulated, share) => accumulated + share, 0)
  const order = exact.map((value, index) => ({ index, remainder: value - Math.floor(value) })).sort((first, second) => second.remainder - first.remainder)
  for (const { index } of order) {
    if (left <= 0) break
    shares[index]!++
    left--
  }
  return shares
}
