/**
 * Memory probe, run by the `memory` scenario in its own process with
 * `node --expose-gc`: stores answers in an aicache engine in client mode
 * (`createAiCache({ fetch })` with a stub `fetch` returning chat completions
 * of a chosen size) and measures the process after forced garbage
 * collections. Prints one line, `result <json>`.
 *
 * Usage: node --expose-gc memory-probe.js '<json of ProbeRequest>'
 */
import { setImmediate as nextTurn } from 'node:timers/promises'
import { createAiCache, type AiCache } from '@aicache/core'
import { chatRequestBody, CUSTOMER_QUESTION, REQUEST_HEADERS } from '../workload.js'

/** Bytes per entry after storing `entries` answers of `bodyBytes` each. */
export interface PerEntryRequest {
  kind: 'per-entry'
  bodyBytes: number
  entries: number
}

/** Memory while storing `storeBytes` of answers into an engine bounded by `maxBytes`, every `checkpointBytes`. */
export interface MaxBytesRequest {
  kind: 'max-bytes'
  bodyBytes: number
  maxBytes: number
  storeBytes: number
  checkpointBytes: number
}

export type ProbeRequest = PerEntryRequest | MaxBytesRequest

/** The process's memory, in bytes. */
export interface MemorySnapshot {
  rss: number
  heapUsed: number
  /** Memory of Buffers and other objects outside the V8 heap (includes arrayBuffers). */
  external: number
}

/** Memory after a number of entries were stored. */
export interface EntryCheckpoint {
  entries: number
  memory: MemorySnapshot
}

export interface PerEntryResult {
  kind: 'per-entry'
  bodyBytes: number
  entries: number
  /** Entries the memory tier held at the end: all of them, or the probe failed. */
  entriesHeld: number
  /** Before the first entry (after the warm-up), then after every fifth of them. */
  checkpoints: EntryCheckpoint[]
  /** What aicache counts against maxBytes for these entries (`stats().memory.bytes`). */
  accountedBytes: number
}

export interface Checkpoint {
  storedBytes: number
  entriesHeld: number
  accountedBytes: number
  memory: MemorySnapshot
}

export interface MaxBytesResult {
  kind: 'max-bytes'
  bodyBytes: number
  maxBytes: number
  start: MemorySnapshot
  checkpoints: Checkpoint[]
}

const UPSTREAM_URL = 'http://upstream.invalid/v1/chat/completions'
const WARM_UP_CALLS = 300
const FILLER = 'Your new card is on its way and usually arrives within five to seven working days after it was ordered. '

/** A chat completion of exactly `bytes` bytes of JSON, different for every `index`. */
function answerBody(bytes: number, index: number): string {
  const skeleton = (content: string) =>
    JSON.stringify({
      id: `chatcmpl-probe-${index}`,
      object: 'chat.completion',
      created: 1_700_000_000,
      model: 'gpt-4o-mini',
      choices: [{ index: 0, message: { role: 'assistant', content }, logprobs: null, finish_reason: 'stop' }],
      usage: { prompt_tokens: 250, completion_tokens: Math.round(bytes / 4), total_tokens: 250 + Math.round(bytes / 4) },
    })
  const room = bytes - Buffer.byteLength(skeleton(''))
  if (room < 16) throw new Error(`An answer cannot be as small as ${bytes} bytes`)
  const content = `Answer ${index}. ${FILLER.repeat(Math.ceil(room / FILLER.length))}`.slice(0, room)
  return skeleton(content)
}

function engineFor(bodyBytes: number, maxBytes?: number): AiCache {
  let index = 0
  const stubFetch: typeof globalThis.fetch = async () => {
    index += 1
    return new Response(answerBody(bodyBytes, index), { status: 200, headers: { 'content-type': 'application/json' } })
  }
  return createAiCache({ fetch: stubFetch, ...(maxBytes === undefined ? {} : { maxBytes }) })
}

/** Asks one new question (a miss, so the answer is stored) and reads the answer, as a client would. */
async function storeOne(engine: AiCache, label: string, index: number): Promise<void> {
  const response = await engine.fetch(UPSTREAM_URL, {
    method: 'POST',
    headers: REQUEST_HEADERS,
    body: chatRequestBody(`${CUSTOMER_QUESTION} (${label} ${index})`),
  })
  await response.arrayBuffer()
  if (response.status !== 200) throw new Error(`The stub answer came back as ${response.status}`)
}

async function snapshot(): Promise<MemorySnapshot> {
  const gc = (globalThis as { gc?: () => void }).gc
  if (gc === undefined) throw new Error('The memory probe must run with node --expose-gc')
  // Several rounds, with turns of the event loop between, so weak callbacks and finalizers run too.
  for (let round = 0; round < 4; round++) {
    gc()
    await nextTurn()
  }
  const { rss, heapUsed, external } = process.memoryUsage()
  return { rss, heapUsed, external }
}

/** Warms the engine's code paths with throw-away entries, then empties the memory tier. */
async function warmUp(engine: AiCache): Promise<void> {
  for (let index = 0; index < WARM_UP_CALLS; index++) await storeOne(engine, 'warm-up', index)
  engine.clear()
}

const PER_ENTRY_CHECKPOINTS = 5

async function perEntry(request: PerEntryRequest): Promise<PerEntryResult> {
  const engine = engineFor(request.bodyBytes)
  await warmUp(engine)
  const checkpoints: EntryCheckpoint[] = [{ entries: 0, memory: await snapshot() }]
  for (let index = 0; index < request.entries; index++) {
    await storeOne(engine, 'ticket', index)
    const stored = index + 1
    if (stored % Math.ceil(request.entries / PER_ENTRY_CHECKPOINTS) === 0 || stored === request.entries) {
      checkpoints.push({ entries: stored, memory: await snapshot() })
    }
  }
  const { memory } = engine.stats()
  return { kind: 'per-entry', bodyBytes: request.bodyBytes, entries: request.entries, entriesHeld: memory.entries, checkpoints, accountedBytes: memory.bytes }
}

async function maxBytes(request: MaxBytesRequest): Promise<MaxBytesResult> {
  const engine = engineFor(request.bodyBytes, request.maxBytes)
  await warmUp(engine)
  const start = await snapshot()
  const checkpoints: Checkpoint[] = []
  let storedBytes = 0
  let index = 0
  while (storedBytes < request.storeBytes) {
    await storeOne(engine, 'ticket', index++)
    storedBytes += request.bodyBytes
    if (storedBytes % request.checkpointBytes < request.bodyBytes || storedBytes >= request.storeBytes) {
      const { memory } = engine.stats()
      checkpoints.push({ storedBytes, entriesHeld: memory.entries, accountedBytes: memory.bytes, memory: await snapshot() })
    }
  }
  return { kind: 'max-bytes', bodyBytes: request.bodyBytes, maxBytes: request.maxBytes, start, checkpoints }
}

const request = JSON.parse(process.argv[2] ?? '{}') as ProbeRequest
const result = request.kind === 'per-entry' ? await perEntry(request) : await maxBytes(request)
console.log(`result ${JSON.stringify(result)}`)
