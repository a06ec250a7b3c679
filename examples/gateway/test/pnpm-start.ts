import { type ChildProcess, spawn } from 'node:child_process'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'

/** The repository root, where a user types `pnpm start`. */
export const repositoryRoot = fileURLToPath(new URL('../../..', import.meta.url))

/** A gateway started with the command users type. */
export interface StartedGateway {
  /** The address it said it listens on. */
  readonly url: string
  /** Everything it printed on stdout so far. */
  output(): string
  /** Stops the whole process group (pnpm, the shell, turbo, node). */
  stop(): Promise<void>
}

// Variables a developer's shell may hold that would change what the gateway does.
const configurationVariable = /^(AICACHE_|REDIS_URL$|PORT$|HOST$)/

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve()
  return new Promise((resolve) => child.once('exit', () => resolve()))
}

async function stopGroup(child: ChildProcess): Promise<void> {
  const signal = (name: NodeJS.Signals) => {
    try {
      // A negative id: the group the child leads (detached), so node under pnpm goes too.
      process.kill(-child.pid!, name)
    } catch {
      // Already gone.
    }
  }
  signal('SIGTERM')
  const timer = setTimeout(() => signal('SIGKILL'), 5_000)
  await exited(child)
  clearTimeout(timer)
  signal('SIGKILL')
}

/**
 * Runs `pnpm start` from the repository root in its own process group with
 * `environment` on top of a clean copy of this process's environment, and
 * resolves once it prints the address it listens on.
 */
export async function pnpmStart(environment: Record<string, string>, timeoutMs = 40_000): Promise<StartedGateway> {
  const inherited = Object.fromEntries(Object.entries(process.env).filter(([name]) => !configurationVariable.test(name)))
  const child = spawn('pnpm', ['start'], {
    cwd: repositoryRoot,
    // pnpm must not try to switch itself to another version (the test task's environment may lack this).
    env: { ...inherited, npm_config_manage_package_manager_versions: 'false', ...environment },
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  const lines: string[] = []
  const errors: string[] = []
  createInterface({ input: child.stderr! }).on('line', (line) => errors.push(line))
  const output = () => lines.join('\n')
  try {
    const url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`pnpm start did not listen within ${timeoutMs} ms:\n${output()}\n${errors.join('\n')}`)), timeoutMs)
      child.once('exit', (code) => {
        clearTimeout(timer)
        reject(new Error(`pnpm start exited with ${code}:\n${output()}\n${errors.join('\n')}`))
      })
      createInterface({ input: child.stdout! }).on('line', (line) => {
        lines.push(line)
        const match = /listening on (http:\/\/\S+)/.exec(line)
        if (match) {
          clearTimeout(timer)
          resolve(match[1]!)
        }
      })
    })
    // The lines after the address (upstream, redis, admin) are printed in the same turn, but may come in a later chunk.
    await waitFor(() => output().includes('upstream: '), 2_000)
    return { url, output, stop: () => stopGroup(child) }
  } catch (error) {
    await stopGroup(child)
    throw error
  }
}

/** Polls `check` every 50 ms until it holds or `timeoutMs` passes; says which. */
export async function waitFor(check: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs
  while (!check()) {
    if (Date.now() > deadline) return false
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  return true
}
