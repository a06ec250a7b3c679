import { anthropicError, isAnthropicPath } from './anthropic-error.js'
import { isJsonObject } from './json.js'
import { openAIError } from './openai-error.js'
import { jsonReply, type Reply } from './reply.js'
import { seededRandom } from './seeded-random.js'
import type { Fault, RecordedCall } from './types.js'

interface QueuedFault {
  fault: Fault
  remainingTimes: number
  /** Whether the fault applies to the next matching call; drawn from its seeded generator. */
  applies: () => boolean
}

function appliesFor(fault: Fault): () => boolean {
  const { probability } = fault
  if (probability === undefined || probability >= 1) return () => true
  const random = seededRandom(fault.seed ?? 1)
  return () => random() < probability
}

/** Injected faults in order; the first one matching a call applies to it and is used up after `times` calls. */
export class FaultQueue {
  #queue: QueuedFault[] = []

  /** Queues a fault behind those already waiting. */
  add(fault: Fault): void {
    this.#queue.push({ fault, remainingTimes: fault.times ?? 1, applies: appliesFor(fault) })
  }

  /** The fault for this call, if any, counting it as used once. */
  take(call: RecordedCall): Fault | undefined {
    // One draw per matching call, in order, so the pattern depends only on the seed and the calls.
    const queued = this.#queue.find((entry) => (entry.fault.match?.(call) ?? true) && entry.applies())
    if (queued === undefined) return undefined
    queued.remainingTimes -= 1
    if (queued.remainingTimes <= 0) this.#queue = this.#queue.filter((entry) => entry !== queued)
    return queued.fault
  }

  /** Drops every queued fault. */
  clear(): void {
    this.#queue = []
  }
}

/** The error body of a status in the shape of the API the path belongs to (Anthropic's or OpenAI's). */
export function errorBodyFor(path: string, status: number, message?: string): unknown {
  return isAnthropicPath(path) ? anthropicError(status, message) : openAIError(status, message)
}

/**
 * The status answer a fault replaces the normal answer with (its headers are added when writing), or
 * undefined to keep the normal answer. Error bodies take the shape of the called API.
 */
export function faultReply(fault: Fault, call: Pick<RecordedCall, 'path'>): Reply | undefined {
  if (fault.status === undefined) return undefined
  const body = fault.body ?? (fault.status >= 400 ? errorBodyFor(call.path, fault.status) : {})
  return jsonReply(fault.status, body)
}

function optionalNumber(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined
}

/** A fault sent as JSON over the control API, where an optional `path` stands in for `match`. */
export function faultFromJson(json: unknown): Fault | undefined {
  if (!isJsonObject(json)) return undefined
  const { path, drop, headers, streamError } = json
  const fault: Fault = {
    times: optionalNumber(json['times']),
    probability: optionalNumber(json['probability']),
    seed: optionalNumber(json['seed']),
    status: optionalNumber(json['status']),
    body: json['body'],
    delayMs: optionalNumber(json['delayMs']),
    drop: drop === 'before-headers' || drop === 'mid-body' || drop === 'before-done' || drop === 'stall-mid-body' ? drop : undefined,
    ...(streamError === 'data' || streamError === 'event' ? { streamError } : {}),
    headers: isJsonObject(headers) ? Object.fromEntries(Object.entries(headers).map(([name, value]) => [name, String(value)])) : undefined,
  }
  if (typeof path === 'string') fault.match = (call) => call.path === path
  return fault
}
