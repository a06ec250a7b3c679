/**
 * The Azure LLM inference trace (conversation service, one hour of November
 * 2023): arrival times and token sizes of 19,365 real requests. Azure Public
 * Dataset, `AzureLLMInferenceTrace_conv.csv`, CC BY 4.0; Patel et al.,
 * "Splitwise: Efficient generative LLM inference using phase splitting",
 * ISCA 2024.
 */
import { existsSync, readFileSync } from 'node:fs'
import { dataPath } from './data-directory.js'

/** Credit line for every table computed from the trace. */
export const AZURE_TRACE_CREDIT = 'Trace: Azure LLM inference trace 2023, conversation (Azure Public Dataset, CC BY 4.0; Patel et al., "Splitwise", ISCA 2024).'

// The repository's data/ (or AICACHE_DATA_DIR); AICACHE_AZURE_TRACE names another copy of the file.
const DEFAULT_TRACE_PATH = dataPath('azure-llm-trace', 'conv.csv')

/** One request of the trace. */
export interface TraceRequest {
  /** Arrival, ms from the first request. */
  atMs: number
  contextTokens: number
  generatedTokens: number
}

/** Where the trace is read from. */
export function azureTracePath(): string {
  return process.env['AICACHE_AZURE_TRACE'] || DEFAULT_TRACE_PATH
}

/** The trace's requests in arrival order; throws when the file is missing. */
export function readAzureTrace(path = azureTracePath()): TraceRequest[] {
  if (!existsSync(path)) throw new Error(`The Azure LLM trace is missing at ${path} (set AICACHE_AZURE_TRACE to its conv.csv)`)
  const rows = readFileSync(path, 'utf8').trim().split('\n').slice(1)
  const parsed = rows.map((row) => {
    const [timestamp, context, generated] = row.split(',')
    // '2023-11-16 18:15:46.6805900': seven digits of fraction, read to the millisecond, as UTC.
    const atMs = Date.parse(`${timestamp!.trim().replace(' ', 'T').slice(0, 23)}Z`)
    return { atMs, contextTokens: Number(context), generatedTokens: Number(generated) }
  })
  const firstMs = parsed[0]!.atMs
  return parsed.map((request) => ({ ...request, atMs: request.atMs - firstMs })).sort((a, b) => a.atMs - b.atMs)
}

/** Requests and tokens (context + generated) per interval of `intervalMs` trace time; the last, partial interval left out. */
export function traceIntervals(trace: readonly TraceRequest[], intervalMs: number): { requests: number[]; tokens: number[] } {
  const count = Math.floor(trace.at(-1)!.atMs / intervalMs)
  const requests = new Array<number>(count).fill(0)
  const tokens = new Array<number>(count).fill(0)
  for (const request of trace) {
    const index = Math.floor(request.atMs / intervalMs)
    if (index >= count) continue
    requests[index]!++
    tokens[index]! += request.contextTokens + request.generatedTokens
  }
  return { requests, tokens }
}
