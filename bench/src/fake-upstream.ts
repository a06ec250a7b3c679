/** The testkit's fake OpenAI upstream, run in its own process and driven through its control API. */
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { startProcess, type RunningProcess } from './process.js'

// A fake that hangs must fail the run, not stall it.
const CONTROL_TIMEOUT_MS = 10_000

/** A fake upstream process. */
export interface FakeUpstreamProcess {
  /** Base URL like OpenAI's: 'http://127.0.0.1:PORT/v1'. */
  readonly url: string
  /** 'http://127.0.0.1:PORT'. */
  readonly origin: string
  readonly process: RunningProcess
  /** Model calls recorded since the start or the last reset (control calls are not counted). */
  callCount(): Promise<number>
  /** Forgets recorded calls and queued faults, which also keeps the fake's memory flat over a long run. */
  reset(): Promise<void>
  /** Queues a fault (the testkit's `Fault` as JSON: `status`, `times`, `probability`, `seed`, `drop`, ...). */
  inject(fault: Readonly<Record<string, unknown>>): Promise<void>
}

function testkitCliPath(): string {
  // The package exports only its library entry; the CLI sits next to it in dist.
  const entryPath = createRequire(import.meta.url).resolve('@aicache/testkit')
  return join(dirname(entryPath), 'cli.mjs')
}

async function control(origin: string, method: string, action: string, body?: unknown): Promise<unknown> {
  const response = await fetch(`${origin}/__fake/${action}`, {
    method,
    signal: AbortSignal.timeout(CONTROL_TIMEOUT_MS),
    ...(body === undefined ? {} : { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }),
  })
  if (!response.ok) throw new Error(`The fake upstream's ${method} /__fake/${action} answered ${response.status}`)
  return response.json()
}

/**
 * Starts a fake upstream answering every call after `latencyMs`, with
 * `chunkDelayMs` between the events of a stream (none by default).
 */
export async function startFakeUpstream(name: string, latencyMs: number, chunkDelayMs = 0): Promise<FakeUpstreamProcess> {
  const running = await startProcess({
    name,
    scriptPath: testkitCliPath(),
    // No pause after [DONE] (the testkit's default is 10 ms): figures stay comparable with earlier runs.
    args: ['--port', '0', '--latency-ms', String(latencyMs), '--chunk-delay-ms', String(chunkDelayMs), '--done-tail-ms', '0'],
    readyPattern: /^fake upstream listening on (http:\/\/\S+)$/,
  })
  const url = running.readyValue
  const origin = new URL(url).origin
  return {
    url,
    origin,
    process: running,
    callCount: async () => ((await control(origin, 'GET', 'calls')) as { total: number }).total,
    reset: async () => void (await control(origin, 'POST', 'reset')),
    inject: async (fault) => void (await control(origin, 'POST', 'fault', fault)),
  }
}
