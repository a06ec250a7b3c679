/**
 * Child processes of the runner (benchmark servers and fake upstreams):
 * started, awaited until they print their ready line, and always stopped,
 * also when the runner fails or is interrupted.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { once } from 'node:events'
import { createInterface } from 'node:readline'

const READY_TIMEOUT_MS = 15_000
const STOP_TIMEOUT_MS = 5_000

/** What to start. */
export interface ProcessSpec {
  /** Shown in messages, e.g. 'aicache-express'. */
  name: string
  /** Script run with this node binary. */
  scriptPath: string
  args?: readonly string[]
  environment?: Readonly<Record<string, string>>
  /** The stdout line that says the process is ready; its first group is returned. */
  readyPattern: RegExp
}

/** A started child process. */
export interface RunningProcess {
  readonly name: string
  readonly pid: number
  /** First group of `readyPattern` in the ready line, e.g. a port or a URL. */
  readonly readyValue: string
  /** Throws if the process exited on its own, which makes every number measured against it meaningless. */
  assertRunning(): void
  /** SIGTERM, then SIGKILL if it has not exited in time. Idempotent. */
  stop(): Promise<void>
}

const EXIT_WITH_PARENT_URL = new URL('./exit-with-parent.js', import.meta.url).href

/** Children not yet exited, with how to stop them. */
const liveChildren = new Map<ChildProcess, () => Promise<void>>()

function describeExit(code: number | null, signal: NodeJS.Signals | null): string {
  return signal === null ? `exited with code ${String(code)}` : `was killed by ${signal}`
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return
  const exited = once(child, 'exit')
  child.kill('SIGTERM')
  const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS)
  await exited
  clearTimeout(timer)
}

function waitForReadyLine(child: ChildProcess, spec: ProcessSpec): Promise<string> {
  return new Promise((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! })
    const timer = setTimeout(() => reject(new Error(`${spec.name} did not print its ready line within ${READY_TIMEOUT_MS} ms`)), READY_TIMEOUT_MS)
    let ready = false
    lines.on('line', (line) => {
      const match = ready ? null : spec.readyPattern.exec(line)
      if (match === null) return void console.log(`[${spec.name}] ${line}`)
      ready = true
      clearTimeout(timer)
      resolve(match[1] ?? line)
    })
    child.once('error', reject)
    child.once('exit', (code, signal) => {
      clearTimeout(timer)
      reject(new Error(`${spec.name} ${describeExit(code, signal)} before it was ready`))
    })
  })
}

/** Starts a node script and resolves once it printed its ready line; stops it again if it never does. */
export async function startProcess(spec: ProcessSpec): Promise<RunningProcess> {
  // stdin is a pipe the preload watches: when the runner dies, however abruptly, the pipe closes and the child exits.
  const child = spawn(process.execPath, ['--import', EXIT_WITH_PARENT_URL, spec.scriptPath, ...(spec.args ?? [])], {
    stdio: ['pipe', 'pipe', 'inherit'],
    env: { ...process.env, ...spec.environment },
  })
  let stopRequested = false
  child.once('exit', (code, signal) => {
    liveChildren.delete(child)
    if (!stopRequested) console.error(`${spec.name} ${describeExit(code, signal)} unexpectedly`)
  })
  const stop = async (): Promise<void> => {
    stopRequested = true
    await stopChild(child)
  }
  liveChildren.set(child, stop)
  try {
    const readyValue = await waitForReadyLine(child, spec)
    const assertRunning = (): void => {
      if (child.exitCode !== null || child.signalCode !== null)
        throw new Error(`${spec.name} ${describeExit(child.exitCode, child.signalCode)} during the benchmark`)
    }
    return { name: spec.name, pid: child.pid!, readyValue, assertRunning, stop }
  } catch (error) {
    await stop()
    throw error
  }
}

/** Stops every child still running. */
export async function stopAllProcesses(): Promise<void> {
  await Promise.all([...liveChildren.values()].map((stop) => stop()))
}

/**
 * Last resort for a runner that exits without having stopped its children:
 * `exit` handlers cannot wait, so they get SIGKILL.
 */
export function killChildrenOnExit(): void {
  process.once('exit', () => {
    for (const child of liveChildren.keys()) child.kill('SIGKILL')
  })
}

/**
 * Awaits processes started together (start-up is mostly module loading, and a
 * run is bounded in time). Every one that started is added to `stoppables`,
 * also when another failed to start, whose error is then thrown.
 */
export async function startTogether<Started extends { process: RunningProcess }>(
  starts: ReadonlyArray<Promise<Started>>,
  stoppables: Array<{ stop(): Promise<void> }>,
): Promise<Started[]> {
  const settled = await Promise.allSettled(starts)
  for (const result of settled) if (result.status === 'fulfilled') stoppables.push(result.value.process)
  return settled.map((result) => {
    if (result.status === 'rejected') throw result.reason
    return result.value
  })
}
