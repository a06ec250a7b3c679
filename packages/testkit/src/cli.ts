#!/usr/bin/env node
import { parseArgs } from 'node:util'
import { startFakeUpstream } from './fake-upstream.js'

/** A numeric flag, failing loudly because a benchmark with a silently wrong latency is misleading. */
function numberFlag(value: string | undefined, name: string): number | undefined {
  if (value === undefined) return undefined
  const parsed = Number(value)
  if (!Number.isFinite(parsed) || parsed < 0) throw new Error(`--${name} must be a non-negative number, got '${value}'`)
  return parsed
}

const { values } = parseArgs({
  options: {
    port: { type: 'string' },
    host: { type: 'string' },
    'latency-ms': { type: 'string' },
    'chunk-delay-ms': { type: 'string' },
    'done-tail-ms': { type: 'string' },
  },
})

const upstream = await startFakeUpstream({
  port: numberFlag(values.port, 'port'),
  host: values.host,
  latencyMs: numberFlag(values['latency-ms'], 'latency-ms'),
  chunkDelayMs: numberFlag(values['chunk-delay-ms'], 'chunk-delay-ms'),
  doneTailMs: numberFlag(values['done-tail-ms'], 'done-tail-ms'),
})
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => {
    void upstream.close().then(() => process.exit(0))
  })
}
// Printed only once signals are handled, so a parent that stops the fake right after this line gets a clean exit.
console.log(`fake upstream listening on ${upstream.url}`)
