import { faultFromJson } from './faults.js'
import { parseJson } from './json.js'
import { openAIError } from './openai-error.js'
import { jsonReply, type Reply } from './reply.js'
import type { Fault, RecordedCall } from './types.js'

/** Prefix of the control API, which benchmarks use when the fake runs in another process. */
export const CONTROL_PREFIX = '/__fake/'

/** The parts of the fake the control API drives. */
export interface ControlTarget {
  readonly calls: readonly RecordedCall[]
  reset(): void
  inject(fault: Fault): void
}

function callCounts(calls: readonly RecordedCall[]): Record<string, unknown> {
  const byPath: Record<string, number> = {}
  for (const call of calls) byPath[call.path] = (byPath[call.path] ?? 0) + 1
  return { total: calls.length, byPath }
}

/** Answers a control call: GET calls, POST reset, POST fault. */
export function controlReply(method: string, path: string, rawBody: string, target: ControlTarget): Reply {
  const action = `${method} ${path.slice(CONTROL_PREFIX.length)}`
  if (action === 'GET calls') return jsonReply(200, callCounts(target.calls))
  if (action === 'POST reset') {
    target.reset()
    return jsonReply(200, { ok: true })
  }
  if (action !== 'POST fault') return jsonReply(404, openAIError(404, `Invalid URL (${method} ${path})`))
  const fault = faultFromJson(parseJson(rawBody))
  if (fault === undefined) return jsonReply(400, openAIError(400, 'The fault must be a JSON object.'))
  target.inject(fault)
  return jsonReply(200, { ok: true })
}
